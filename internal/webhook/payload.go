package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Event types an endpoint may subscribe to, and the test event.
const (
	TypeCommentCreated   = parley.EventCommentCreated   // a comment became visible (posted approved, or approved later)
	TypeCommentUpdated   = parley.EventCommentUpdated   // edited, pinned, or its score changed
	TypeCommentModerated = parley.EventCommentModerated // a moderator approved or rejected it
	TypeReportCreated    = parley.EventReportCreated    // a reader reported a comment
	TypeReaderBanned     = parley.EventReaderBanned     // a reader was banned or suspended
	TypePageClosed       = parley.EventPageClosed       // a page was closed to new comments
	TypeTest             = "webhook.test"               // sent from the admin UI's "send test event"
)

// Types lists the event types an endpoint may subscribe to.
var Types = []string{TypeCommentCreated, TypeCommentUpdated, TypeCommentModerated, TypeReportCreated, TypeReaderBanned, TypePageClosed}

// Formats of an endpoint.
const (
	FormatJSON  = "json"  // Parley's envelope (Envelope)
	FormatSlack = "slack" // {"text": "…"}, for a Slack (or Mattermost, Discord /slack) incoming webhook
)

// Envelope is the JSON body of a post in FormatJSON.
type Envelope struct {
	ID      string    `json:"id"`   // "evt_" and the event's id in the log; the same for every endpoint
	Type    string    `json:"type"` // one of Types, or TypeTest
	Created time.Time `json:"created"`
	Site    string    `json:"site"`
	Data    Data      `json:"data"`
}

// Data is what an event concerns; fields that do not apply are omitted.
type Data struct {
	Comment *Comment `json:"comment,omitempty"`
	Page    *Page    `json:"page,omitempty"`
	Report  *Report  `json:"report,omitempty"`
	Reader  *Reader  `json:"reader,omitempty"`
	Message string   `json:"message,omitempty"` // the test event's
}

// Comment is a comment as an endpoint sees it. No e-mail address or IP
// hash leaves through a webhook.
type Comment struct {
	ID       int64      `json:"id"`
	Number   int        `json:"number"`
	PageID   int64      `json:"page_id"`
	ParentID int64      `json:"parent_id,omitempty"`
	Author   Author     `json:"author"`
	Text     string     `json:"text"`
	HTML     string     `json:"html"`
	Status   string     `json:"status"`
	Score    int        `json:"score"`
	Featured bool       `json:"featured"`
	Created  time.Time  `json:"created"`
	Edited   *time.Time `json:"edited,omitempty"`
}

// Author names a comment's author.
type Author struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Page is a page of the site.
type Page struct {
	ID     int64  `json:"id"`
	URL    string `json:"url"`
	Title  string `json:"title"`
	Closed bool   `json:"closed"`
	Count  int    `json:"count"`
}

// Report is the newest report of a reported comment.
type Report struct {
	Reason  string    `json:"reason"`
	Reports int       `json:"reports"` // the comment's reports so far
	Created time.Time `json:"created"`
}

// Reader is a sanctioned reader.
type Reader struct {
	ID    string     `json:"id"`
	Name  string     `json:"name"`
	Until *time.Time `json:"until,omitempty"` // the ban's or suspension's end; far ahead for a ban
}

// Reads are what building a body reads.
type Reads interface {
	Comment(ctx context.Context, id int64) (*parley.Comment, error)
	PageByID(ctx context.Context, id int64) (*parley.Page, error)
	User(ctx context.Context, id string) (*parley.User, error)
	Sanction(ctx context.Context, userID, siteID string) (store.Sanction, error)
	Reports(ctx context.Context, commentID int64) ([]*parley.Report, error)
}

// Build returns the envelope of an event of the log, read from st now, for
// the site siteID (the event's, or for a ban on every site each site's).
// ENotFound when what it concerns is gone.
func Build(ctx context.Context, st Reads, ev parley.Event, siteID string, now time.Time) (*Envelope, error) {
	env := &Envelope{ID: "evt_" + strconv.FormatInt(ev.ID, 10), Type: ev.Type, Created: now.UTC().Truncate(time.Second), Site: siteID}
	switch ev.Type {
	case TypeCommentCreated, TypeCommentUpdated, TypeCommentModerated, TypeReportCreated:
		c, err := st.Comment(ctx, ev.CommentID)
		if err != nil {
			return nil, err
		}
		p, err := st.PageByID(ctx, c.PageID)
		if err != nil {
			return nil, err
		}
		env.Data.Comment, env.Data.Page = comment(c), page(p)
		if ev.Type == TypeReportCreated {
			rs, err := st.Reports(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			if len(rs) > 0 {
				last := rs[len(rs)-1]
				env.Data.Report = &Report{Reason: last.Reason, Reports: len(rs), Created: last.Created.UTC()}
			}
		}
	case TypeReaderBanned:
		u, err := st.User(ctx, ev.UserID)
		if err != nil {
			return nil, err
		}
		r := &Reader{ID: u.ID, Name: u.Name}
		until := u.BannedUntil
		if ev.SiteID != "" {
			s, err := st.Sanction(ctx, u.ID, ev.SiteID)
			if err != nil {
				return nil, err
			}
			until = s.SuspendedUntil
		}
		if !until.IsZero() {
			u := until.UTC()
			r.Until = &u
		}
		env.Data.Reader = r
	case TypePageClosed:
		p, err := st.PageByID(ctx, ev.PageID)
		if err != nil {
			return nil, err
		}
		env.Data.Page = page(p)
	default:
		return nil, parley.Errorf(parley.EInvalid, "no webhook for events of type %q", ev.Type)
	}
	return env, nil
}

// TestEnvelope is the body of the test event of an endpoint of siteID.
func TestEnvelope(siteID string, now time.Time) *Envelope {
	return &Envelope{ID: "evt_test_" + strconv.FormatInt(now.UnixNano(), 36), Type: TypeTest, Created: now.UTC().Truncate(time.Second), Site: siteID,
		Data: Data{Message: "This is a test event from Parley: the endpoint is reachable and verifies signatures."}}
}

func comment(c *parley.Comment) *Comment {
	out := &Comment{ID: c.ID, Number: c.Number, PageID: c.PageID, ParentID: c.ParentID, Author: Author{c.AuthorID, c.AuthorName},
		Text: c.Text, HTML: c.HTML, Status: c.Status, Score: c.Score, Featured: c.Featured, Created: c.Created.UTC()}
	if !c.Edited.IsZero() {
		e := c.Edited.UTC()
		out.Edited = &e
	}
	return out
}

func page(p *parley.Page) *Page {
	return &Page{ID: p.ID, URL: p.URL, Title: p.Title, Closed: p.Closed, Count: p.Count}
}

// Body returns the bytes posted to an endpoint in format: the envelope as
// JSON, or a Slack message saying the same.
func Body(env *Envelope, format string) ([]byte, error) {
	if format == FormatSlack {
		return json.Marshal(struct {
			Text string `json:"text"`
		}{slackText(env)})
	}
	return json.Marshal(env)
}

// slackText is the one-paragraph summary of an event in Slack's mrkdwn.
func slackText(env *Envelope) string {
	d := env.Data
	link := ""
	if d.Page != nil {
		title := d.Page.Title
		if title == "" {
			title = d.Page.URL
		}
		link = "<" + slackEscape(d.Page.URL) + "|" + slackEscape(title) + ">"
	}
	who := ""
	if d.Comment != nil {
		who = "*" + slackEscape(d.Comment.Author.Name) + "*"
	}
	switch env.Type {
	case TypeCommentCreated:
		return fmt.Sprintf("New comment by %s on %s:\n>%s", who, link, slackEscape(excerpt(d.Comment.Text)))
	case TypeCommentUpdated:
		return fmt.Sprintf("Comment #%d by %s on %s was updated:\n>%s", d.Comment.Number, who, link, slackEscape(excerpt(d.Comment.Text)))
	case TypeCommentModerated:
		return fmt.Sprintf("Comment #%d by %s on %s is now %s.", d.Comment.Number, who, link, d.Comment.Status)
	case TypeReportCreated:
		reason := ""
		if d.Report != nil {
			reason = fmt.Sprintf(" (%s; %d reports)", slackEscape(d.Report.Reason), d.Report.Reports)
		}
		return fmt.Sprintf("Comment #%d by %s on %s was reported%s:\n>%s", d.Comment.Number, who, link, reason, slackEscape(excerpt(d.Comment.Text)))
	case TypeReaderBanned:
		where := "on site " + slackEscape(env.Site)
		return fmt.Sprintf("Reader *%s* was banned or suspended %s.", slackEscape(d.Reader.Name), where)
	case TypePageClosed:
		return fmt.Sprintf("%s was closed to new comments.", link)
	default:
		return slackEscape(d.Message)
	}
}

// slackEscape escapes what Slack's mrkdwn reads as markup: a reader's name
// cannot become a link or a mention.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// excerpt shortens text to 300 characters, on one quoted line.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:299]) + "…"
	}
	return s
}
