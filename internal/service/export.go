package service

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// exportUserBatch is how many users an export reads per query.
const exportUserBatch = 1000

// ExportFile writes the export of Export to the file at path, whole or not
// at all: into a private temporary file beside it, synced, then renamed
// over path, so that an export that fails leaves nothing under the name
// asked for, and one that may hold e-mail addresses is readable by its
// owner only.
func (s *Service) ExportFile(ctx context.Context, path string, opt ExportOptions) (*ExportReport, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	defer tmp.Close()
	rep, err := s.Export(ctx, tmp, opt)
	if err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return rep, nil
}

// Export writes a site's pages, users and comments to w as JSON Lines in
// Parley's export format (importer.HeaderLine and the lines after it;
// docs/export-format.md), which "parley import --from parley" reads back.
// Pages carry their closed flag and policy override; comments their
// reports.
//
// An export is one consistent view of the site: every read runs inside
// one store.Snapshot, so what readers and moderators write while it runs
// is either wholly in it (it committed before the export started) or not
// at all, and every comment's author and every reporter that exists has
// its user line. The format puts the users before the comments, so the
// pages are read twice, in the same snapshot: first for the ids of the
// authors and reporters, whose users are then read exportUserBatch per
// query; then for the comments. A page costs two queries (its comments,
// then the reports on all of them) on each pass. It streams: one page's
// comments and reports are in memory at a time, with the pages and those
// ids.
func (s *Service) Export(ctx context.Context, w io.Writer, opt ExportOptions) (*ExportReport, error) {
	site, err := s.store.Site(ctx, opt.SiteID)
	if err != nil {
		return nil, err
	}
	var rep *ExportReport
	err = s.store.Snapshot(ctx, func(snap store.Reader) error {
		var err error
		rep, err = s.export(ctx, snap, w, site, opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// export writes the export of site, reading it from snap.
func (s *Service) export(ctx context.Context, snap store.Reader, w io.Writer, site *parley.Site, opt ExportOptions) (*ExportReport, error) {
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
		list, err := snap.Pages(ctx, q)
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
			cs, err := snap.PageComments(ctx, p.ID)
			if err != nil {
				return nil, fmt.Errorf("read comments of %s: %w", p.URL, err)
			}
			for _, c := range cs {
				people[c.AuthorID] = true
			}
			reports, err := snap.PageReports(ctx, p.ID)
			if err != nil {
				return nil, fmt.Errorf("read reports of %s: %w", p.URL, err)
			}
			for _, rs := range reports {
				for _, r := range rs {
					people[r.ReporterID] = true
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(list) < q.Limit {
			break
		}
		q.After = list[len(list)-1].Position()
	}

	// Their users, in order of id; an id without a user (never the case
	// for a comment Parley stored) has no line.
	ids := make([]string, 0, len(people))
	for id := range people {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for batch := range slices.Chunk(ids, exportUserBatch) {
		users, err := snap.Users(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		for _, id := range batch {
			u, ok := users[id]
			if !ok {
				continue
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
	}

	for _, p := range pages {
		cs, err := snap.PageComments(ctx, p.ID)
		if err != nil {
			return nil, fmt.Errorf("read comments of %s: %w", p.URL, err)
		}
		reports, err := snap.PageReports(ctx, p.ID)
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
