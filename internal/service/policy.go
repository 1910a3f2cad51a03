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

// pipeline returns the compiled moderation pipeline for a site and page,
// compiling a policy once per distinct text.
func (s *Service) pipeline(site *parley.Site, page *parley.Page) (*moderation.Pipeline, moderation.Policy, error) {
	key := string(site.Policy)
	if page != nil && len(page.Policy) > 0 {
		key += "\x00" + string(page.Policy)
	}
	policy, err := effectivePolicy(site, page)
	if err != nil {
		return nil, policy, err
	}
	s.mu.Lock()
	p, ok := s.pipes[key]
	s.mu.Unlock()
	if ok {
		return p, policy, nil
	}
	p, err = moderation.Compile(policy)
	if err != nil {
		return nil, policy, fmt.Errorf("compile policy of site %s: %w", site.ID, err)
	}
	s.mu.Lock()
	if len(s.pipes) >= maxPipelines {
		clear(s.pipes)
	}
	s.pipes[key] = p
	s.mu.Unlock()
	return p, policy, nil
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
