package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Parley's own export format, version 1: JSON Lines, one object per line,
// each with a "type". docs/export-format.md describes it for people; these
// types are its definition. The export (package service) writes them and
// the parley reader below reads them back.

// ExportVersion is the version of the export format written.
const ExportVersion = 1

// HeaderLine is the first line of an export.
type HeaderLine struct {
	Type     string    `json:"type"`   // "header"
	Format   string    `json:"format"` // "parley"
	Version  int       `json:"version"`
	Site     string    `json:"site"`
	Exported time.Time `json:"exported"`
	Emails   bool      `json:"emails"` // users carry their e-mail addresses
}

// PageLine is a page: one per line, after the header. Policy is the page's
// override of its site's policy, as the admin API and "parley page policy"
// take it: a JSON object of the settings it changes; absent when the page
// has none, and in exports written before it was carried.
type PageLine struct {
	Type    string          `json:"type"` // "page"
	URL     string          `json:"url"`
	Title   string          `json:"title"`
	Closed  bool            `json:"closed,omitempty"`
	Policy  json.RawMessage `json:"policy,omitempty"`
	Created time.Time       `json:"created"`
}

// UserLine is an author or reporter of the site's comments.
type UserLine struct {
	Type  string `json:"type"` // "user"
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Email string `json:"email,omitempty"` // only with --with-emails
}

// CommentLine is a comment, after the pages and users.
type CommentLine struct {
	Type     string       `json:"type"` // "comment"
	ID       int64        `json:"id"`
	Page     string       `json:"page"` // the page's url
	Parent   int64        `json:"parent,omitempty"`
	Quote    int64        `json:"quote,omitempty"`
	Number   int          `json:"number"`
	Author   string       `json:"author"` // a user's id
	Name     string       `json:"name"`   // the author's name when the comment was written
	Text     string       `json:"text"`   // markdown
	Status   string       `json:"status"`
	Reasons  []ReasonLine `json:"reasons,omitempty"`
	Toxicity float64      `json:"toxicity,omitempty"`
	Featured bool         `json:"featured,omitempty"`
	Created  time.Time    `json:"created"`
	Edited   *time.Time   `json:"edited,omitempty"`
	Score    int          `json:"score"`
	Reports  []ReportLine `json:"reports,omitempty"`
}

// ReasonLine is why a comment is held or rejected.
type ReasonLine struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// ReportLine is a reader's report of a comment.
type ReportLine struct {
	Reporter string    `json:"reporter"` // a user's id
	Reason   string    `json:"reason"`
	Note     string    `json:"note,omitempty"`
	Outcome  string    `json:"outcome,omitempty"`
	Created  time.Time `json:"created"`
}

// parley reads Parley's own export.
type parley struct {
	l       lineReader
	started bool
	users   map[string]Author
	warning string // about the record just returned, returned next
}

func newParley(r *bufio.Reader) *parley {
	return &parley{l: lineReader{r: r}, users: map[string]Author{}}
}

func (x *parley) Next() (Record, error) {
	if x.warning != "" {
		w := x.warning
		x.warning = ""
		return Record{Warning: w}, nil
	}
	for {
		line, err := x.l.next()
		if err == errLineTooLong {
			return Record{Warning: fmt.Sprintf("line %d is over %d bytes and was skipped", x.l.line, MaxLine)}, nil
		} else if err == io.EOF {
			if !x.started {
				return Record{}, fmt.Errorf("%w: the file is empty", ErrFormat)
			}
			return Record{}, io.EOF
		} else if err != nil {
			return Record{}, err
		}
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &kind); err != nil {
			if !x.started {
				return Record{}, fmt.Errorf("%w: the first line is not JSON", ErrFormat)
			}
			return Record{Warning: fmt.Sprintf("line %d is not JSON: %v", x.l.line, err)}, nil
		}
		if !x.started {
			var h HeaderLine
			if err := json.Unmarshal(line, &h); err != nil || h.Type != "header" || h.Format != "parley" {
				return Record{}, fmt.Errorf("%w: the first line is not a Parley export header", ErrFormat)
			}
			if h.Version != ExportVersion {
				return Record{}, fmt.Errorf("%w: Parley export version %d is not known to this version", ErrFormat, h.Version)
			}
			x.started = true
			continue
		}
		switch kind.Type {
		case "page":
			var p PageLine
			if err := json.Unmarshal(line, &p); err != nil {
				return Record{Warning: fmt.Sprintf("line %d: %v", x.l.line, err)}, nil
			}
			u := pageURL(p.URL, false)
			page := &Page{Key: u, URL: u, Title: short(p.Title), Closed: p.Closed}
			switch policy := bytes.TrimSpace(p.Policy); {
			case len(policy) == 0 || string(policy) == "null":
			case len(policy) > MaxPolicy:
				// Cut JSON means nothing: the page comes without it, and
				// the warning after it.
				x.warning = fmt.Sprintf("line %d: the policy override of page %s is over %d bytes and was skipped", x.l.line, u, MaxPolicy)
			default:
				page.Policy = policy
			}
			return Record{Page: page}, nil
		case "user":
			var u UserLine
			if err := json.Unmarshal(line, &u); err != nil {
				return Record{Warning: fmt.Sprintf("line %d: %v", x.l.line, err)}, nil
			}
			if len(x.users) < 50_000_000 {
				x.users[short(u.ID)] = Author{ID: short(u.ID), Name: short(u.Name), Email: short(u.Email)}
			}
		case "comment":
			var c CommentLine
			if err := json.Unmarshal(line, &c); err != nil {
				return Record{Warning: fmt.Sprintf("line %d: %v", x.l.line, err)}, nil
			}
			return Record{Comment: x.comment(&c)}, nil
		default:
			return Record{Warning: fmt.Sprintf("line %d: unknown type %q skipped", x.l.line, short(kind.Type))}, nil
		}
	}
}

func (x *parley) author(id, name string) Author {
	a, ok := x.users[id]
	if !ok {
		a = Author{ID: id}
	}
	if name != "" {
		a.Name = name
	}
	return a
}

func (x *parley) comment(l *CommentLine) *Comment {
	c := &Comment{
		ID:       strconv.FormatInt(l.ID, 10),
		PageKey:  pageURL(l.Page, false),
		Author:   x.author(short(l.Author), short(l.Name)),
		Status:   l.Status,
		Created:  l.Created.UTC(),
		Score:    l.Score,
		Featured: l.Featured,
		Toxicity: l.Toxicity,
	}
	c.Body, c.Truncated = capped(l.Text, MaxBody)
	switch c.Status {
	case StatusApproved, StatusPending, StatusRejected, StatusDeleted:
	default:
		c.Status = StatusPending
	}
	if l.Parent != 0 {
		c.ParentID = strconv.FormatInt(l.Parent, 10)
	}
	if l.Quote != 0 {
		c.QuoteID = strconv.FormatInt(l.Quote, 10)
	}
	if l.Edited != nil {
		c.Edited = l.Edited.UTC()
	}
	for _, r := range l.Reasons {
		c.Reasons = append(c.Reasons, Reason{Rule: short(r.Rule), Message: short(r.Message)})
	}
	for _, r := range l.Reports {
		c.Reports = append(c.Reports, Report{Reporter: x.author(short(r.Reporter), ""), Reason: short(r.Reason),
			Note: short(r.Note), Outcome: short(r.Outcome), Created: r.Created.UTC()})
	}
	return c
}
