package moderation

import (
	"bytes"
	"encoding/json"

	"github.com/parleyhq/parley"
)

// ParseOverride reads a page's policy override written by hand (as `parley
// page policy --set FILE` takes it): one JSON object holding only settings
// an override has, e.g. {"mode":"pre_all","max_links":0}. Anything else is
// EInvalid, so that a misspelt setting is refused rather than ignored.
func ParseOverride(data []byte) (PolicyOverride, error) {
	var o PolicyOverride
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return PolicyOverride{}, parley.Errorf(parley.EInvalid, "not a policy override: %v", err)
	}
	if dec.More() {
		return PolicyOverride{}, parley.Errorf(parley.EInvalid, "not a policy override: more than one JSON value")
	}
	return o, nil
}
