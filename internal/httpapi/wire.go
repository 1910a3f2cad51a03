package httpapi

import (
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
)

// Wire types: the JSON the widget and integrators depend on. Each is built
// field by field from the domain, so nothing private (e-mail, IP hash) can
// leave by accident.

type pageJSON struct {
	URL       string `json:"url"`
	Title     string `json:"title"`
	Count     int    `json:"count"`
	Closed    bool   `json:"closed"`
	PolicyURL string `json:"policy_url"`
}

type authorJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Badge is "staff" or "moderator" for the publisher's staff and the
	// moderators (parley.User.Badge), absent for everyone else.
	Badge string `json:"badge,omitempty"`
	// Picture is the author's avatar, an https URL from their publisher's
	// token or their OpenID provider; absent for none.
	Picture string `json:"picture,omitempty"`
}

type quoteJSON struct {
	ID      int64  `json:"id"`
	Number  int    `json:"number"`
	Author  string `json:"author,omitempty"`
	HTML    string `json:"html,omitempty"`
	Removed bool   `json:"removed,omitempty"`
}

type commentJSON struct {
	ID       int64       `json:"id"`
	Parent   *int64      `json:"parent"`
	Quote    *quoteJSON  `json:"quote"`
	Number   int         `json:"number"`
	Author   *authorJSON `json:"author"`
	HTML     string      `json:"html"`
	Created  time.Time   `json:"created"`
	Edited   *time.Time  `json:"edited"`
	Score    int         `json:"score"`
	Replies  int         `json:"replies"`
	Status   string      `json:"status"`
	Featured bool        `json:"featured,omitempty"`
}

type threadJSON struct {
	Page     pageJSON      `json:"page"`
	Comments []commentJSON `json:"comments"`
	Cursor   string        `json:"cursor"`
}

type spanJSON struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

type reasonJSON struct {
	Rule    string     `json:"rule"`
	Message string     `json:"message"`
	Spans   []spanJSON `json:"spans"`
	User    string     `json:"user,omitempty"` // the reader it points to (a banned reader the author resembles)
}

// authorReasonJSON is a reason as the comment's author gets it: the rule
// and the policy point it touches, never the evidence (which words, which
// score), which would teach an abuser what to disguise. Moderators get
// reasonJSON.
type authorReasonJSON struct {
	Rule  string `json:"rule"`
	Point string `json:"point,omitempty"`
}

type postResponse struct {
	Comment commentJSON        `json:"comment"`
	Status  string             `json:"status"`
	Reasons []authorReasonJSON `json:"reasons"`
	Message string             `json:"message,omitempty"`
}

// toAuthorReasons is the author's view of a decision's reasons: each rule
// once, with its policy point; a comment that reads as an attack on a
// group names that point, not also the general insult.
func toAuthorReasons(rs []parley.Reason) []authorReasonJSON {
	points := moderation.AuthorPoints(rs)
	out := make([]authorReasonJSON, 0, len(rs))
	for _, r := range rs {
		if r.Rule == moderation.RuleBanEvasion {
			// The author hears they are new here, not that they resemble
			// a banned reader.
			r = parley.Reason{Rule: moderation.RulePremodNew}
			if slices.ContainsFunc(out, func(x authorReasonJSON) bool { return x.Rule == r.Rule }) {
				continue
			}
		}
		p := moderation.AuthorPoint(r)
		if p != "" && !slices.Contains(points, p) {
			continue // said by a more specific point
		}
		out = append(out, authorReasonJSON{Rule: r.Rule, Point: p})
	}
	return out
}

// toPage is a page for readers; closed is whether new comments are
// refused, by the page's flag or its policy.
func toPage(p *parley.Page, s *parley.Site, closed bool) pageJSON {
	return pageJSON{URL: p.URL, Title: p.Title, Count: p.Count, Closed: closed, PolicyURL: s.PolicyURL}
}

// toComment renders a comment for readers. quote is the quoted comment as
// the reader may see it (nil when it is no longer shown); quoteNumber is used
// for the placeholder.
func toComment(c *parley.Comment, quote *parley.Comment, quoteNumber int) commentJSON {
	out := commentJSON{
		ID: c.ID, Number: c.Number, HTML: c.HTML, Created: c.Created.UTC(),
		Score: c.Score, Replies: c.Replies, Status: c.Status, Featured: c.Featured,
	}
	if c.ParentID != 0 {
		p := c.ParentID
		out.Parent = &p
	}
	if c.AuthorID != "" || c.AuthorName != "" {
		// An erased reader's kept comment has a name ("a former
		// reader") and no id.
		out.Author = &authorJSON{ID: c.AuthorID, Name: c.AuthorName}
	}
	if !c.Edited.IsZero() {
		e := c.Edited.UTC()
		out.Edited = &e
	}
	if c.QuoteID != 0 && c.Status != parley.StatusDeleted {
		if quote != nil {
			out.Quote = &quoteJSON{ID: quote.ID, Number: quote.Number, Author: quote.AuthorName, HTML: quote.HTML}
		} else {
			out.Quote = &quoteJSON{ID: c.QuoteID, Number: quoteNumber, Removed: true}
		}
	}
	return out
}

func toReasons(rs []parley.Reason) []reasonJSON {
	out := make([]reasonJSON, 0, len(rs))
	for _, r := range rs {
		spans := make([]spanJSON, 0, len(r.Spans))
		for _, sp := range r.Spans {
			spans = append(spans, spanJSON{sp.Start, sp.End})
		}
		out = append(out, reasonJSON{Rule: r.Rule, Message: r.Message, Spans: spans, User: r.UserID})
	}
	return out
}
