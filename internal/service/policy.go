package service

import (
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
)

// maxPipelines bounds the compiled-pipeline cache; each entry is one distinct
// site policy (plus page override).
const maxPipelines = 1000

// compiledPolicy is an effective policy and its pipeline.
type compiledPolicy struct {
	pipe   *moderation.Pipeline
	policy moderation.Policy
}

// pipeline returns the compiled moderation pipeline for a site and page and
// the effective policy, decoding and compiling a policy once per distinct
// text (a policy with long word lists costs more to decode than a comment
// to moderate).
func (s *Service) pipeline(site *parley.Site, page *parley.Page) (*moderation.Pipeline, moderation.Policy, error) {
	key := string(site.Policy)
	if page != nil && len(page.Policy) > 0 {
		key += "\x00" + string(page.Policy)
	}
	s.mu.Lock()
	c, ok := s.pipes[key]
	s.mu.Unlock()
	if ok {
		return c.pipe, c.policy, nil
	}
	policy, err := effectivePolicy(site, page)
	if err != nil {
		return nil, policy, err
	}
	p, err := moderation.Compile(policy)
	if err != nil {
		return nil, policy, fmt.Errorf("compile policy of site %s: %w", site.ID, err)
	}
	s.mu.Lock()
	if len(s.pipes) >= maxPipelines {
		clear(s.pipes)
	}
	s.pipes[key] = compiledPolicy{p, policy}
	s.mu.Unlock()
	return p, policy, nil
}

// closed reports whether new comments are refused on the page (nil: one
// nobody has commented on yet) of the site: the page's own flag, or the
// "closed" setting of the site's policy or of the page's override.
func (s *Service) closed(site *parley.Site, page *parley.Page) (bool, error) {
	if page != nil && page.Closed {
		return true, nil
	}
	_, policy, err := s.pipeline(site, page)
	return policy.Closed, err
}

// effectivePolicy is the site's policy with the page's overrides applied.
func effectivePolicy(site *parley.Site, page *parley.Page) (moderation.Policy, error) {
	policy := moderation.DefaultPolicy()
	if len(site.Policy) > 0 {
		if err := json.Unmarshal(site.Policy, &policy); err != nil {
			return policy, fmt.Errorf("site %s has a corrupt policy: %w", site.ID, err)
		}
	}
	if page != nil && len(page.Policy) > 0 {
		var o moderation.PolicyOverride
		if err := json.Unmarshal(page.Policy, &o); err != nil {
			return policy, fmt.Errorf("page %d has a corrupt policy override: %w", page.ID, err)
		}
		policy = o.Apply(policy)
	}
	return policy, nil
}
