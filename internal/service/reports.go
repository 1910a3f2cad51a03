package service

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
)

// Brigade detection: "Report abuse" is also a harassment tool, used by a
// group against one author or one article. A burst of at least
// BrigadeReporters distinct readers reporting one author's comments (or one
// page's) within BrigadeWindow, at least two thirds of them readers with no
// record (an account younger than NewAccountAge, or no report of theirs
// ever upheld), is a suspected brigade: the reported comment is not held
// automatically, and moderators see the suspicion in the queue.
const (
	BrigadeWindow    = 10 * time.Minute
	BrigadeReporters = 3
	NewAccountAge    = 24 * time.Hour
)

// Brigade is the verdict on the reports of a comment.
type Brigade struct {
	Suspected bool
	Message   string // for moderators, when Suspected
}

// ReportAssessment weighs a comment's open reports.
type ReportAssessment struct {
	Weights   map[string]float64 // by reporter: store.ReporterWeight of their record
	Weight    float64            // the sum over distinct reporters
	Reporters int                // distinct reporters
	Brigade   Brigade
}

// assessReports weighs the open reports of c by their reporters' records
// and looks for a brigade against its author or page.
func (s *Service) assessReports(ctx context.Context, c *parley.Comment, open []*parley.Report) (ReportAssessment, error) {
	ra := ReportAssessment{Weights: map[string]float64{}}
	if len(open) == 0 {
		return ra, nil
	}
	var ids []string
	var newest time.Time
	for _, r := range open {
		if _, ok := ra.Weights[r.ReporterID]; !ok {
			ra.Weights[r.ReporterID] = 0
			ids = append(ids, r.ReporterID)
		}
		if r.Created.After(newest) {
			newest = r.Created
		}
	}
	recs, err := s.store.ReporterRecords(ctx, ids)
	if err != nil {
		return ra, err
	}
	for _, id := range ids {
		w := store.ReporterWeight(0, 0)
		if rec, ok := recs[id]; ok {
			w = rec.Weight()
		}
		ra.Weights[id] = w
		ra.Weight += w
	}
	ra.Reporters = len(ids)
	ra.Brigade, err = s.brigade(ctx, c, newest)
	return ra, err
}

// brigade looks at the reports against c's author and against its page in
// the BrigadeWindow before at.
func (s *Service) brigade(ctx context.Context, c *parley.Comment, at time.Time) (Brigade, error) {
	since := at.Add(-BrigadeWindow)
	for _, q := range []struct {
		q    store.ReportQuery
		what string
	}{
		{store.ReportQuery{AuthorID: c.AuthorID, Since: since}, "comments by this author"},
		{store.ReportQuery{PageID: c.PageID, Since: since}, "comments on this page"},
	} {
		rs, err := s.store.ReportsAgainst(ctx, q.q)
		if err != nil {
			return Brigade{}, err
		}
		var ids []string
		seen := map[string]bool{}
		for _, r := range rs {
			if !r.Created.After(at) && !seen[r.ReporterID] {
				seen[r.ReporterID] = true
				ids = append(ids, r.ReporterID)
			}
		}
		if len(ids) < BrigadeReporters {
			continue
		}
		recs, err := s.store.ReporterRecords(ctx, ids)
		if err != nil {
			return Brigade{}, err
		}
		fresh := 0
		for _, id := range ids {
			rec, ok := recs[id]
			if !ok || rec.Upheld == 0 || at.Sub(rec.Joined) < NewAccountAge {
				fresh++
			}
		}
		if 3*fresh >= 2*len(ids) {
			return Brigade{Suspected: true, Message: fmt.Sprintf(
				"Possible brigade: %d readers reported %s within %s, %d of them new accounts or readers with no upheld report. "+
					"The comment was not hidden automatically; judge it on its merits.",
				len(ids), q.what, BrigadeWindow, fresh)}, nil
		}
	}
	return Brigade{}, nil
}

// applyReportThreshold holds an approved comment, not yet seen by a
// moderator, once the weight of its open reports reaches the policy's
// report threshold, unless the reports look like a brigade: then the
// comment stays up and waits in the reported queue, flagged.
func (s *Service) applyReportThreshold(ctx context.Context, c *parley.Comment) error {
	if c.Status != parley.StatusApproved || c.Seen {
		return nil
	}
	p, err := s.store.PageByID(ctx, c.PageID)
	if err != nil {
		return err
	}
	site, err := s.Site(ctx, p.SiteID)
	if err != nil {
		return err
	}
	_, policy, err := s.pipeline(site, p)
	if err != nil {
		return err
	}
	if policy.ReportThreshold <= 0 {
		return nil
	}
	reports, err := s.store.Reports(ctx, c.ID)
	if err != nil {
		return err
	}
	var open []*parley.Report
	for _, r := range reports {
		if r.Outcome == "" {
			open = append(open, r)
		}
	}
	ra, err := s.assessReports(ctx, c, open)
	if err != nil {
		return err
	}
	// A small tolerance: six readers of weight 0.5 make exactly 3.
	if ra.Weight+1e-9 < float64(policy.ReportThreshold) || ra.Brigade.Suspected {
		return nil
	}
	reason := parley.Reason{Rule: moderation.RuleReports, Message: fmt.Sprintf(
		"reported by %d readers, weighing %.2f by their records (threshold %d)", ra.Reporters, ra.Weight, policy.ReportThreshold)}
	reasons := append(c.Reasons, reason)
	return s.update(ctx, func(tx store.Tx) error {
		_, err := tx.SetStatus(c.ID, parley.StatusPending, reasons, false)
		return err
	})
}
