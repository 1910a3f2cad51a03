package service

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/importer"
	"github.com/parleyhq/parley/internal/store"
)

// ExportOptions says what an export holds.
type ExportOptions struct {
	SiteID string
	// WithEmails writes users' e-mail addresses, which are personal data:
	// off unless the publisher asks.
	WithEmails bool
}

// ExportReport counts what an export wrote.
type ExportReport struct {
	Pages, Users, Comments, Reports int
}

// Export writes a site's pages, users and comments to w as JSON Lines in
// Parley's export format (importer.HeaderLine and the lines after it;
// docs/export-format.md), which "parley import --from parley" reads back.
// Pages carry their closed flag and policy override; comments their
// reports. It streams: one page's comments and reports are in memory at a
// time, with the ids of the site's authors and reporters; a page costs two
// queries (its comments, then the reports on all of them) on each of the
// two passes. Pages are read twice (first for the users, who come before
// the comments), so comments and reports written during an export may be
// missing from it or have authors or reporters it does not list.
func (s *Service) Export(ctx context.Context, w io.Writer, opt ExportOptions) (*ExportReport, error) {
	site, err := s.store.Site(ctx, opt.SiteID)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	rep := &ExportReport{}
	if err := enc.Encode(importer.HeaderLine{Type: "header", Format: importer.FormatParley, Version: importer.ExportVersion,
		Site: site.ID, Exported: s.now(), Emails: opt.WithEmails}); err != nil {
		return nil, err
	}

	// Pages, and who wrote and reported on them.
	var pages []*parley.Page
	people := map[string]bool{}
	q := store.PageQuery{SiteID: site.ID, Limit: 500}
	for {
		list, err := s.store.Pages(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list pages: %w", err)
		}
		for _, pa := range list {
			p := pa.Page
			pages = append(pages, p)
			l := importer.PageLine{Type: "page", URL: p.URL, Title: p.Title, Closed: p.Closed, Created: p.Created}
			if len(p.Policy) > 0 {
				l.Policy = json.RawMessage(p.Policy)
			}
			if err := enc.Encode(l); err != nil {
				return nil, fmt.Errorf("write page %s: %w", p.URL, err)
			}
			rep.Pages++
			cs, err := s.store.PageComments(ctx, p.ID)
			if err != nil {
				return nil, fmt.Errorf("read comments of %s: %w", p.URL, err)
			}
			for _, c := range cs {
				people[c.AuthorID] = true
			}
			reports, err := s.store.PageReports(ctx, p.ID)
			if err != nil {
				return nil, fmt.Errorf("read reports of %s: %w", p.URL, err)
			}
			for _, rs := range reports {
				for _, r := range rs {
					people[r.ReporterID] = true
				}
			}
		}
		if len(list) < q.Limit {
			break
		}
		q.After = list[len(list)-1].Position()
	}

	ids := make([]string, 0, len(people))
	for id := range people {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		u, err := s.store.User(ctx, id)
		if parley.ErrorCode(err) == parley.ENotFound {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("read user: %w", err)
		}
		l := importer.UserLine{Type: "user", ID: u.ID, Name: u.Name, Role: u.Role}
		if opt.WithEmails {
			l.Email = u.Email
		}
		if err := enc.Encode(l); err != nil {
			return nil, err
		}
		rep.Users++
	}

	for _, p := range pages {
		cs, err := s.store.PageComments(ctx, p.ID)
		if err != nil {
			return nil, fmt.Errorf("read comments of %s: %w", p.URL, err)
		}
		reports, err := s.store.PageReports(ctx, p.ID)
		if err != nil {
			return nil, fmt.Errorf("read reports of %s: %w", p.URL, err)
		}
		for _, c := range cs {
			l := importer.CommentLine{Type: "comment", ID: c.ID, Page: p.URL, Parent: c.ParentID, Quote: c.QuoteID,
				Number: c.Number, Author: c.AuthorID, Name: c.AuthorName, Text: c.Text, Status: c.Status,
				Toxicity: c.Toxicity, Featured: c.Featured, Created: c.Created, Score: c.Score}
			if !c.Edited.IsZero() {
				e := c.Edited
				l.Edited = &e
			}
			for _, r := range c.Reasons {
				l.Reasons = append(l.Reasons, importer.ReasonLine{Rule: r.Rule, Message: r.Message})
			}
			for _, r := range reports[c.ID] {
				l.Reports = append(l.Reports, importer.ReportLine{Reporter: r.ReporterID, Reason: r.Reason, Note: r.Note,
					Outcome: r.Outcome, Created: r.Created})
				rep.Reports++
			}
			if err := enc.Encode(l); err != nil {
				return nil, err
			}
			rep.Comments++
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return rep, nil
}
