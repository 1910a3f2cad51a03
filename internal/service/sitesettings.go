package service

import (
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// AuditSite names the audit entry of a change to a site's settings.
const AuditSite = "site"

// SitePatch changes some of a site's settings: the fields that are not nil.
type SitePatch struct {
	Name      *string
	PolicyURL *string
	Origins   *[]string // the allowed embedding origins, replaced whole
}

// SiteSettings returns a site's settings to a moderator of the site.
// EForbidden elsewhere; ENotFound.
func (s *Service) SiteSettings(ctx context.Context, a Actor, siteID string) (*parley.Site, error) {
	if err := checkSiteID(siteID); err != nil {
		return nil, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return nil, err
	}
	return s.store.Site(ctx, siteID)
}

// PatchSite changes a site's name, policy URL or allowed origins: an
// admin's, in one unit of work with its audit entry (the changed fields
// before and after) and the site.updated event that has every instance
// allow the new origins. EForbidden for a moderator; EInvalid for a bad
// origin or URL; ENotFound.
func (s *Service) PatchSite(ctx context.Context, a Actor, siteID string, p SitePatch) (*parley.Site, error) {
	if err := checkSiteID(siteID); err != nil {
		return nil, err
	}
	if !a.isAdmin() {
		return nil, parley.Errorf(parley.EForbidden, "Only an admin may change a site's name, policy link or origins.")
	}
	old, err := s.store.Site(ctx, siteID)
	if err != nil {
		return nil, err
	}
	next := *old
	next.Origins = slices.Clone(old.Origins)
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.PolicyURL != nil {
		next.PolicyURL = *p.PolicyURL
	}
	if p.Origins != nil {
		next.Origins = slices.Clone(*p.Origins)
	}
	if err := ValidateSite(&next); err != nil {
		return nil, err
	}
	before, after := map[string]any{}, map[string]any{}
	if next.Name != old.Name {
		before["name"], after["name"] = old.Name, next.Name
	}
	if next.PolicyURL != old.PolicyURL {
		before["policy_url"], after["policy_url"] = old.PolicyURL, next.PolicyURL
	}
	if !slices.Equal(next.Origins, old.Origins) {
		before["origins"], after["origins"] = old.Origins, next.Origins
	}
	if len(after) == 0 {
		return old, nil
	}
	e, err := s.entry(a, store.Action{Action: AuditSite, SiteID: siteID}, before, after)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := tx.UpdateSite(&next); err != nil {
			return err
		}
		return tx.AddAction(e)
	})
	s.forgetSite(siteID)
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// SearchComments finds a site's comments by text, author (id or part of
// the name) or page, in any status but deleted, newest first, for a
// moderator of the site, as queue entries.
func (s *Service) SearchComments(ctx context.Context, a Actor, q store.CommentSearch) ([]*QueueEntry, error) {
	if err := checkSiteID(q.SiteID); err != nil {
		return nil, err
	}
	if err := mayModerate(a, q.SiteID); err != nil {
		return nil, err
	}
	if q.Text == "" && q.Author == "" && q.PageID == 0 {
		return nil, parley.Errorf(parley.EInvalid, "give text, author or page to search for")
	}
	cs, err := s.store.SearchComments(ctx, q)
	if err != nil {
		return nil, err
	}
	pages := map[int64]*parley.Page{}
	items := make([]*store.QueueItem, 0, len(cs))
	for _, c := range cs {
		p, ok := pages[c.PageID]
		if !ok {
			if p, err = s.store.PageByID(ctx, c.PageID); err != nil {
				return nil, err
			}
			pages[c.PageID] = p
		}
		items = append(items, &store.QueueItem{Comment: c, Page: p})
	}
	return s.enrich(ctx, q.SiteID, items)
}

// MaxWorkloadDays bounds the statistics view.
const MaxWorkloadDays = 366

// Workload returns a site's moderation workload over the last days UTC
// days, today included, for a moderator of the site.
func (s *Service) Workload(ctx context.Context, a Actor, siteID string, days int) (store.SiteStats, error) {
	if err := checkSiteID(siteID); err != nil {
		return store.SiteStats{}, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return store.SiteStats{}, err
	}
	if days < 1 || days > MaxWorkloadDays {
		return store.SiteStats{}, parley.Errorf(parley.EInvalid, "days must be between 1 and %d", MaxWorkloadDays)
	}
	if _, err := s.store.Site(ctx, siteID); err != nil {
		return store.SiteStats{}, err
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	return s.store.Workload(ctx, siteID, today.AddDate(0, 0, 1-days))
}
