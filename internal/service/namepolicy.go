package service

import (
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
)

// ReasonNameRefused is the parley.Error Reason of a display name refused
// by the site's policy.
const ReasonNameRefused = "name_refused"

// moderateName runs the site's policy on the display name a reader sends
// with a comment (moderation.Pipeline.DecideName), when it is new to them:
// a name the policy rejects is refused (EInvalid, ReasonNameRefused) with
// a message that names the policy point, not the words; a name it holds
// returns the reason that holds the comment. Staff and readers signed in
// by their publisher keep their names.
func (s *Service) moderateName(a Actor, d *draft, name string) (*parley.Reason, error) {
	if name == "" {
		return nil, nil
	}
	clean, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	if a.User != nil && (clean == a.User.Name || a.User.IsStaff() || IsSSOReader(a.User.ID)) {
		return nil, nil
	}
	pipe, _, err := s.pipeline(d.site, d.page)
	if err != nil {
		return nil, err
	}
	v := pipe.DecideName(clean, s.scorer(d.site.ID))
	switch v.Status {
	case parley.StatusRejected:
		e := parley.Errorf(parley.EInvalid, "This display name is not accepted on this site: it %s. Choose another name.",
			moderation.PointPhrase(v.Point()))
		e.Reason = ReasonNameRefused
		return nil, e
	case parley.StatusPending:
		return &v.Reason, nil
	}
	return nil, nil
}

// withNameHold holds a decision for the display name's reason, when there
// is one.
func withNameHold(dec parley.Decision, r *parley.Reason) parley.Decision {
	if r == nil {
		return dec
	}
	dec.Reasons = append(dec.Reasons, *r)
	if dec.Status == parley.StatusApproved {
		dec.Status = parley.StatusPending
	}
	return dec
}
