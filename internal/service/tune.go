package service

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/toxicity"
)

// Tuning a site's model on its moderators' decisions.
const (
	// MinTuneDecisions is how many decisions a tune needs at least.
	MinTuneDecisions = 20
	// AutoTuneDecisions is how many decisions a site needs before it is
	// tuned automatically: fewer would teach the site model noise.
	AutoTuneDecisions = 50
	// maxTuneDecisions bounds the decisions a tune reads: the most recent
	// ones, which say what the moderators want now.
	maxTuneDecisions = 20_000
)

// decisionActions are the audit actions that are a moderator's verdict on a
// comment's text (Decide, Bulk, RejectPending): the labels of a site model.
// Featuring, sanctions and deletions are not.
var decisionActions = []string{ActionApprove, ActionReject}

// SiteDecisions returns the moderators' decisions on the comments of a site,
// labelled for tuning: each comment a moderator approved or rejected, by its
// latest such decision (a rejection later approved counts as approved),
// with the text it quoted; the most recent maxTuneDecisions, oldest first.
// Comments only the rules or the model decided, and imported ones, are not
// moderators' decisions. It is for the operator and auto-tune; no reader
// or moderator calls it. ENotFound for an unknown site.
func (s *Service) SiteDecisions(ctx context.Context, siteID string) ([]toxicity.Labelled, error) {
	ds, _, err := s.siteDecisions(ctx, siteID)
	return ds, err
}

// siteDecisions is SiteDecisions with the time of the newest decision.
func (s *Service) siteDecisions(ctx context.Context, siteID string) ([]toxicity.Labelled, time.Time, error) {
	if _, err := s.Site(ctx, siteID); err != nil {
		return nil, time.Time{}, err
	}
	rows, err := s.store.Decisions(ctx, store.DecisionQuery{SiteID: siteID, Actions: decisionActions, Limit: maxTuneDecisions})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("decisions of site %s: %w", siteID, err)
	}
	out := make([]toxicity.Labelled, len(rows))
	var newest time.Time
	for i, d := range rows {
		out[i] = toxicity.Labelled{Text: d.Text, Quote: d.Quote, Rejected: d.Action == ActionReject}
		if d.Decided.After(newest) {
			newest = d.Decided
		}
	}
	return out, newest, nil
}

// TrainSiteModel tunes base to a site's decisions (toxicity.Tune). EInvalid
// with fewer than MinTuneDecisions.
func TrainSiteModel(base *toxicity.Model, siteID string, ds []toxicity.Labelled) (*toxicity.SiteModel, error) {
	if len(ds) < MinTuneDecisions {
		return nil, parley.Errorf(parley.EInvalid, "site %s has %d moderator decisions; tuning needs at least %d", siteID, len(ds), MinTuneDecisions)
	}
	tm := toxicity.Tune(base, ds)
	tm.Site = siteID
	return tm, nil
}

// Tuned is the outcome of TuneSite.
type Tuned struct {
	Model     *toxicity.SiteModel // with its out-of-fold scores (Model.OOF), one per decision
	Decisions []toxicity.Labelled // what it was tuned on, in order
	Version   int64               // the version saved
}

// TuneSite tunes the site's model on its moderators' decisions
// (SiteDecisions), or on ds when it is not nil, and saves it as the site's
// current model, which every instance then uses. EInvalid without site
// models (no toxicity model) or with too few decisions; EConflict when the
// site's model was saved by someone else while this one was tuned.
func (s *Service) TuneSite(ctx context.Context, siteID string, ds []toxicity.Labelled) (*Tuned, error) {
	if s.SiteModels == nil {
		return nil, parley.Errorf(parley.EInvalid, "no toxicity model is loaded: site models need one")
	}
	// The version is read before the decisions: a save that lands while
	// this tune runs makes this one's save an EConflict, not a silent
	// overwrite with older evidence.
	versions, err := s.store.SiteModelVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("tune site %s: %w", siteID, err)
	}
	if ds == nil {
		if ds, err = s.SiteDecisions(ctx, siteID); err != nil {
			return nil, err
		}
	} else if _, err := s.Site(ctx, siteID); err != nil {
		return nil, err
	}
	tm, err := TrainSiteModel(s.SiteModels.Base(), siteID, ds)
	if err != nil {
		return nil, err
	}
	v, err := s.SiteModels.Save(ctx, tm, versions[siteID])
	if err != nil {
		return nil, fmt.Errorf("save the model of site %s: %w", siteID, err)
	}
	return &Tuned{Model: tm, Decisions: ds, Version: v}, nil
}

// AutoTune retunes every site with at least AutoTuneDecisions decisions
// whose model is missing, older than its newest decision, or tuned on
// another base model, and returns the sites it tuned. A site another
// instance tuned meanwhile is skipped; a failure on one site does not stop
// the others and is logged.
func (s *Service) AutoTune(ctx context.Context) ([]string, error) {
	if s.SiteModels == nil {
		return nil, nil
	}
	if err := s.SiteModels.Refresh(ctx); err != nil {
		return nil, err
	}
	sites, err := s.store.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("auto-tune: %w", err)
	}
	var tuned []string
	for _, site := range sites {
		if err := ctx.Err(); err != nil {
			return tuned, err
		}
		ds, newest, err := s.siteDecisions(ctx, site.ID)
		if err != nil {
			s.Logger.Warn("auto-tune: cannot read decisions", "site", site.ID, "error", err.Error())
			continue
		}
		if len(ds) < AutoTuneDecisions {
			continue
		}
		if cur := s.SiteModels.get(site.ID); cur != nil && cur.base == s.SiteModels.baseID && !newest.After(cur.created) {
			continue // nothing decided since it was tuned
		}
		res, err := s.TuneSite(ctx, site.ID, ds)
		if parley.ErrorCode(err) == parley.EConflict {
			continue // another instance tuned it meanwhile
		} else if err != nil {
			s.Logger.Warn("auto-tune: cannot tune", "site", site.ID, "error", err.Error())
			continue
		}
		s.Logger.Info("auto-tune: site model updated", "site", site.ID, "decisions", len(ds), "version", res.Version)
		tuned = append(tuned, site.ID)
	}
	return tuned, nil
}

// RunSiteModels keeps the site models current until ctx is done: it
// loads a model another instance saved as soon as Observe hears of it,
// compares versions with the database every SiteModels.CheckEvery, and,
// when autoTune > 0, runs AutoTune that often. It returns when ctx is done;
// without SiteModels it returns at once.
func (s *Service) RunSiteModels(ctx context.Context, autoTune time.Duration) {
	m := s.SiteModels
	if m == nil {
		return
	}
	check := time.NewTicker(m.CheckEvery)
	defer check.Stop()
	var tuneC <-chan time.Time
	if autoTune > 0 {
		t := time.NewTicker(autoTune)
		defer t.Stop()
		tuneC = t.C
	}
	refresh := func() {
		if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn("site models not refreshed", "error", err.Error())
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
			refresh()
		case <-check.C:
			refresh()
		case <-tuneC:
			if _, err := s.AutoTune(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Warn("auto-tune failed", "error", err.Error())
			}
		}
	}
}

// scorer returns the toxicity model for a comment of the site: its tuned
// model when it has one, else the base model (nil without one).
func (s *Service) scorer(siteID string) moderation.Scorer {
	if s.SiteModels != nil {
		if sc := s.SiteModels.Scorer(siteID); sc != nil {
			return sc
		}
	}
	return s.Scorer
}
