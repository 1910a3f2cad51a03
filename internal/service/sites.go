package service

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// checkSiteID refuses, before any store sees it, a site id that no site can
// have: PostgreSQL would fail on a NUL or invalid UTF-8 where SQLite finds
// nothing, and both should say the same.
func checkSiteID(id string) error {
	if !slugRE.MatchString(id) {
		return parley.Errorf(parley.EInvalid, "site %.80q is not a site id (1-63 lower-case letters, digits or '-')", id)
	}
	return nil
}

// ValidateSite checks a site's fields and normalises its origins.
func ValidateSite(site *parley.Site) error {
	if !slugRE.MatchString(site.ID) {
		return parley.Errorf(parley.EInvalid, "site id %q must be 1-63 lower-case letters, digits or '-'", site.ID)
	}
	if strings.TrimSpace(site.Name) == "" {
		site.Name = site.ID
	}
	for i, o := range site.Origins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return parley.Errorf(parley.EInvalid, "origin %q must be scheme://host[:port], e.g. https://news.example.com", o)
		}
		site.Origins[i] = strings.ToLower(u.Scheme + "://" + u.Host)
	}
	if site.PolicyURL != "" {
		u, err := url.Parse(site.PolicyURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && !strings.HasPrefix(site.PolicyURL, "/")) {
			return parley.Errorf(parley.EInvalid, "policy URL %q must be an http(s) URL or a path", site.PolicyURL)
		}
	}
	return nil
}

// CreateSite validates and stores a new site.
func (s *Service) CreateSite(ctx context.Context, site *parley.Site) error {
	if err := ValidateSite(site); err != nil {
		return err
	}
	if site.Created.IsZero() {
		site.Created = s.now()
	}
	// Its site.updated event tells every instance, this one before the
	// call returns (its allowed origins).
	err := s.update(ctx, func(tx store.Tx) error { return tx.CreateSite(site) })
	s.forgetSite(site.ID)
	return err
}

// UpdateSite validates and stores a site's new fields.
func (s *Service) UpdateSite(ctx context.Context, site *parley.Site) error {
	if err := ValidateSite(site); err != nil {
		return err
	}
	err := s.update(ctx, func(tx store.Tx) error { return tx.UpdateSite(site) })
	// Forgotten whatever the outcome: a failed commit may have happened.
	s.forgetSite(site.ID)
	return err
}

// SiteChange changes some of a site's settings; a nil field leaves its
// setting as it is.
type SiteChange struct {
	Name, PolicyURL       *string
	Origins, IgnoreParams *[]string
}

// ChangeSite applies change to the site as stored (not as cached), then
// validates and stores it like UpdateSite, and returns it. ENotFound for
// an unknown site, EInvalid for settings ValidateSite refuses.
func (s *Service) ChangeSite(ctx context.Context, id string, change SiteChange) (*parley.Site, error) {
	if err := checkSiteID(id); err != nil {
		return nil, err
	}
	site, err := s.store.Site(ctx, id)
	if err != nil {
		return nil, err
	}
	if change.Name != nil {
		site.Name = *change.Name
	}
	if change.PolicyURL != nil {
		site.PolicyURL = *change.PolicyURL
	}
	if change.Origins != nil {
		site.Origins = *change.Origins
	}
	if change.IgnoreParams != nil {
		site.IgnoreParams = *change.IgnoreParams
	}
	if err := s.UpdateSite(ctx, site); err != nil {
		return nil, err
	}
	return site, nil
}

// Policy returns a site's moderation policy.
func (s *Service) Policy(ctx context.Context, a Actor, siteID string) (moderation.Policy, error) {
	site, err := s.store.Site(ctx, siteID)
	if err != nil {
		return moderation.Policy{}, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return moderation.Policy{}, err
	}
	return effectivePolicy(site, nil)
}

// SetPolicy validates and stores a site's moderation policy.
func (s *Service) SetPolicy(ctx context.Context, a Actor, siteID string, p moderation.Policy) (moderation.Policy, error) {
	site, err := s.store.Site(ctx, siteID)
	if err != nil {
		return p, err
	}
	if !a.CanModerate(siteID) || (!a.Admin && a.User.Role != parley.RoleAdmin && a.User.SiteID != siteID) {
		return p, parley.Errorf(parley.EForbidden, "You may not change the policy of site %q.", siteID)
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	if _, err := moderation.Compile(p); err != nil {
		return p, parley.Errorf(parley.EInvalid, "policy: %v", err)
	}
	// With an Idempotency-Key, a retry gets the first answer and neither
	// changes nor audits anything again.
	out, _, err := once(ctx, s, a, siteID, "policy", p, func(k *keyed) (*moderation.Policy, error) {
		prev, err := effectivePolicy(site, nil)
		if err != nil {
			return nil, err
		}
		site.Policy, err = json.Marshal(p)
		if err != nil {
			return nil, err
		}
		before, after := policyDiff(prev, p)
		e, err := s.entry(a, store.Action{Action: AuditPolicy, SiteID: siteID}, before, after)
		if err != nil {
			return nil, err
		}
		err = s.update(ctx, func(tx store.Tx) error {
			if err := tx.UpdateSite(site); err != nil {
				return err
			}
			if err := tx.AddAction(e); err != nil {
				return err
			}
			return k.save(tx, p, nil)
		})
		// Forgotten here whatever the outcome (a failed commit may have
		// happened), and on every instance as its dispatcher delivers the
		// site.updated event UpdateSite recorded.
		s.forgetSite(siteID)
		return &p, err
	})
	if err != nil {
		return p, err
	}
	return *out, nil
}

// policyDiff returns the settings that differ between two policies, as
// their JSON fields before and after.
func policyDiff(old, new moderation.Policy) (before, after map[string]json.RawMessage) {
	fields := func(p moderation.Policy) map[string]json.RawMessage {
		b, _ := json.Marshal(p)
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		return m
	}
	o, n := fields(old), fields(new)
	before, after = map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for k, v := range n {
		if string(o[k]) != string(v) {
			before[k], after[k] = o[k], v
		}
	}
	return before, after
}
