package httpapi

import (
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/service"
)

// The queue item of docs/admin-api.md: a comment as readers see it, plus
// what a moderator judges it by.

type reportJSON struct {
	Reporter string    `json:"reporter"`
	Reason   string    `json:"reason"`
	Note     string    `json:"note"`
	Created  time.Time `json:"created"`
	Weight   float64   `json:"weight"`
}

type pageRefJSON struct {
	ID    int64  `json:"id"`
	URL   string `json:"url"`
	Title string `json:"title"`
}

type parentJSON struct {
	ID      int64  `json:"id"`
	Number  int    `json:"number"`
	Author  string `json:"author"`
	Excerpt string `json:"excerpt"`
	Status  string `json:"status"`
}

type queueAuthorJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Approved       int        `json:"approved"`
	Rejected       int        `json:"rejected"`
	Pending        int        `json:"pending"`
	ReportsUpheld  int        `json:"reports_upheld"`
	BannedUntil    *time.Time `json:"banned_until"`
	SuspendedUntil *time.Time `json:"suspended_until"`
	Premoderated   bool       `json:"premoderated"`
}

type brigadeJSON struct {
	Suspected bool   `json:"suspected"`
	Message   string `json:"message"`
}

type queueCommentJSON struct {
	commentJSON
	Text         string          `json:"text"`
	Page         pageRefJSON     `json:"page"`
	ParentRef    *parentJSON     `json:"parent"`
	AuthorRef    queueAuthorJSON `json:"author"`
	Reasons      []reasonJSON    `json:"reasons"`
	Toxicity     float64         `json:"toxicity"`
	Reports      []reportJSON    `json:"reports"`
	Reporters    int             `json:"reporters"`
	ReportWeight float64         `json:"report_weight"`
	Brigade      brigadeJSON     `json:"brigade"`
	Priority     float64         `json:"priority"`
	Seen         bool            `json:"seen"`
}

// excerptRunes bounds the parent's excerpt.
const excerptRunes = 160

func excerpt(s string) string {
	if utf8.RuneCountInString(s) <= excerptRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == excerptRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

func toQueueItems(es []*service.QueueEntry) []queueCommentJSON {
	out := make([]queueCommentJSON, 0, len(es))
	for _, e := range es {
		out = append(out, toQueueItem(e))
	}
	return out
}

func toQueueItem(e *service.QueueEntry) queueCommentJSON {
	it, c := e.Item, e.Item.Comment
	out := queueCommentJSON{
		commentJSON:  toComment(c, nil, 0),
		Text:         c.Text,
		Reasons:      toReasons(c.Reasons),
		Toxicity:     c.Toxicity,
		Reports:      make([]reportJSON, 0, len(it.Reports)),
		Reporters:    it.Reporters,
		ReportWeight: e.Reports.Weight,
		Brigade:      brigadeJSON{Suspected: e.Reports.Brigade.Suspected, Message: e.Reports.Brigade.Message},
		Priority:     e.Priority,
		Seen:         c.Seen,
	}
	// The embedded reader view's quote and author are replaced below.
	out.commentJSON.Quote = nil
	out.commentJSON.Author = nil
	if it.Page != nil {
		out.Page = pageRefJSON{ID: it.Page.ID, URL: it.Page.URL, Title: it.Page.Title}
	}
	if p := e.Parent; p != nil {
		out.ParentRef = &parentJSON{ID: p.ID, Number: p.Number, Author: p.AuthorName, Excerpt: excerpt(p.Text), Status: p.Status}
	}
	a := queueAuthorJSON{ID: c.AuthorID, Name: c.AuthorName}
	if u := e.Author.User; u != nil {
		h := e.Author.History
		a.Approved, a.Rejected, a.Pending, a.ReportsUpheld = h.Approved, h.Rejected, h.Pending, h.ReportsUpheld
		a.BannedUntil = timePtr(u.BannedUntil)
		a.SuspendedUntil = timePtr(e.Author.Sanction.SuspendedUntil)
		a.Premoderated = e.Author.Sanction.Premoderated
	}
	out.AuthorRef = a
	for _, r := range it.Reports {
		out.Reports = append(out.Reports, reportJSON{Reporter: r.ReporterID, Reason: r.Reason, Note: r.Note,
			Created: r.Created.UTC(), Weight: e.Reports.Weights[r.ReporterID]})
	}
	return out
}
