package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"

	"github.com/parleyhq/parley/internal/mail"
	"github.com/parleyhq/parley/internal/store"
)

// The messages Parley sends, each as a text and an HTML part. Every
// user-supplied string (names, titles, comments, URLs) goes through the
// templates: html/template escapes it for the HTML part, and mail.Build
// strips CR/LF from the subject.

// mailView is what a template sees.
type mailView struct {
	Subject     string
	Items       []mailItem
	Title       string
	PageLink    string
	Link        string // confirm or sign-in
	Alert       string
	Detail      string
	Unsubscribe string
	Settings    string
}

type mailItem struct {
	Author  string
	Excerpt string
	Link    string
}

var textTemplates = texttemplate.Must(texttemplate.New("").Parse(`
{{define "reply"}}{{with index .Items 0}}{{.Author}} replied to your comment on "{{$.Title}}":

{{.Excerpt}}

Read and reply: {{.Link}}
{{end}}{{template "footer" .}}{{end}}

{{define "digest"}}{{len .Items}} new replies to your comments on "{{.Title}}":
{{range .Items}}
{{.Author}} wrote:
{{.Excerpt}}
{{.Link}}
{{end}}{{template "footer" .}}{{end}}

{{define "confirm"}}Confirm your e-mail address to be told of replies to your comments:

{{.Link}}

The link works once, for 24 hours. If you did not ask for this, ignore this message.
{{end}}

{{define "signin"}}Sign in to comment:

{{.Link}}

The link works once, for 15 minutes, in the browser where you asked for it.
If you did not ask for this, ignore this message.
{{end}}

{{define "alert"}}{{.Alert}}

{{.Detail}}

Open the moderation queue: {{.Link}}
{{template "footer" .}}{{end}}

{{define "footer"}}
--
Stop these e-mails: {{.Unsubscribe}}
{{end}}`))

var htmlTemplates = htmltemplate.Must(htmltemplate.New("").Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><title>{{.Subject}}</title></head><body style="font-family:sans-serif;max-width:40em">{{end}}
{{define "foot"}}<p style="color:#666;font-size:small;border-top:1px solid #ccc;padding-top:.5em"><a href="{{.Unsubscribe}}">Stop these e-mails</a></p></body></html>{{end}}

{{define "reply"}}{{template "head" .}}{{with index .Items 0}}<p><strong>{{.Author}}</strong> replied to your comment on <em>{{$.Title}}</em>:</p>
<blockquote style="white-space:pre-wrap">{{.Excerpt}}</blockquote>
{{if .Link}}<p><a href="{{.Link}}">Read and reply</a></p>{{end}}{{end}}{{template "foot" .}}{{end}}

{{define "digest"}}{{template "head" .}}<p>{{len .Items}} new replies to your comments on <em>{{.Title}}</em>:</p>
{{range .Items}}<p><strong>{{.Author}}</strong> wrote:</p>
<blockquote style="white-space:pre-wrap">{{.Excerpt}}</blockquote>
{{if .Link}}<p><a href="{{.Link}}">Read and reply</a></p>{{end}}{{end}}{{template "foot" .}}{{end}}

{{define "confirm"}}{{template "head" .}}<p>Confirm your e-mail address to be told of replies to your comments:</p>
<p><a href="{{.Link}}">Confirm my address</a></p>
<p>The link works once, for 24 hours. If you did not ask for this, ignore this message.</p></body></html>{{end}}

{{define "signin"}}{{template "head" .}}<p><a href="{{.Link}}">Sign in to comment</a></p>
<p>The link works once, for 15 minutes, in the browser where you asked for it. If you did not ask for this, ignore this message.</p></body></html>{{end}}

{{define "alert"}}{{template "head" .}}<p><strong>{{.Alert}}</strong></p>
<p style="white-space:pre-wrap">{{.Detail}}</p>
<p><a href="{{.Link}}">Open the moderation queue</a></p>{{template "foot" .}}{{end}}
`))

// webLink returns u when it is an absolute http(s) URL, "" otherwise: a
// page URL from the store is a publisher's, but a link in a message must
// never be a javascript: or data: URL.
func webLink(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

// commentLink is the link to a comment on its page.
func commentLink(pageURL string, id int64) string {
	l := webLink(pageURL)
	if l == "" {
		return ""
	}
	if i := strings.IndexByte(l, '#'); i >= 0 {
		l = l[:i]
	}
	return fmt.Sprintf("%s#parley-c-%d", l, id)
}

// render builds the message of one group of queued rows.
func (n *Notifier) render(ms []*store.QueuedMail) (*mail.Message, error) {
	first := ms[0]
	ds := make([]mailData, len(ms))
	for i, m := range ms {
		if err := json.Unmarshal(m.Data, &ds[i]); err != nil {
			return nil, fmt.Errorf("mail %d: %w", m.ID, err)
		}
	}
	v := mailView{Title: mail.HeaderText(ds[0].PageTitle), PageLink: webLink(ds[0].PageURL), Link: ds[0].Link,
		Alert: ds[0].Alert, Detail: ds[0].Detail}
	if v.Title == "" {
		v.Title = "a page"
	}
	name := first.Kind
	switch first.Kind {
	case MailReply:
		for _, d := range ds {
			v.Items = append(v.Items, mailItem{Author: mail.HeaderText(d.Author), Excerpt: d.Excerpt, Link: commentLink(d.PageURL, d.CommentID)})
		}
		v.Unsubscribe = n.UnsubscribeURL(first.UserID, MailReply)
		if len(ds) == 1 {
			v.Subject = fmt.Sprintf("%s replied to your comment on %s", ds[0].Author, v.Title)
		} else {
			name = "digest"
			v.Subject = fmt.Sprintf("%d new replies to your comments on %s", len(ds), v.Title)
		}
	case MailConfirm:
		v.Subject = "Confirm your e-mail address"
	case MailSignIn:
		v.Subject = "Your sign-in link"
	case MailAlert:
		v.Unsubscribe = n.UnsubscribeURL(first.UserID, MailAlert)
		if len(ds) == 1 {
			v.Subject = "[" + ds[0].Site + "] " + ds[0].Alert
		} else {
			var alerts, details []string
			for _, d := range ds {
				alerts = append(alerts, d.Alert)
				details = append(details, d.Alert+": "+d.Detail)
			}
			v.Subject = fmt.Sprintf("[%s] %d moderation alerts", ds[0].Site, len(ds))
			v.Alert = strings.Join(alerts, "; ")
			v.Detail = strings.Join(details, "\n")
		}
	default:
		return nil, fmt.Errorf("mail %d: unknown kind %q", first.ID, first.Kind)
	}
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, name, v); err != nil {
		return nil, err
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name, v); err != nil {
		return nil, err
	}
	msg := &mail.Message{
		From: n.from, To: first.To, Subject: v.Subject,
		Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String(),
		MessageID: n.messageID(first.ID), Unsubscribe: v.Unsubscribe, Date: n.svc.now(),
	}
	return msg, nil
}
