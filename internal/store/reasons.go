package store

import (
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley"
)

// Hold reasons are stored as JSON in one format on every backend (and so
// in backups and exports): [{"rule","message","spans":[[start,end],…]}],
// spans in code points.

// reasonJSON is the stored form of a parley.Reason.
type reasonJSON struct {
	Rule    string   `json:"rule"`
	Message string   `json:"message,omitempty"`
	Spans   [][2]int `json:"spans,omitempty"`
	User    string   `json:"user,omitempty"`
}

// EncodeReasons returns the stored JSON of reasons, nil for none.
func EncodeReasons(rs []parley.Reason) ([]byte, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	js := make([]reasonJSON, len(rs))
	for i, r := range rs {
		js[i] = reasonJSON{Rule: r.Rule, Message: r.Message, User: r.UserID}
		for _, s := range r.Spans {
			js[i].Spans = append(js[i].Spans, [2]int{s.Start, s.End})
		}
	}
	b, err := json.Marshal(js)
	if err != nil {
		return nil, parley.Wrap(err, parley.EInvalid, "the moderation reasons cannot be encoded")
	}
	return b, nil
}

// DecodeReasons is the inverse of EncodeReasons; empty input is none.
func DecodeReasons(b []byte) ([]parley.Reason, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var js []reasonJSON
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, fmt.Errorf("reasons: %w", err)
	}
	rs := make([]parley.Reason, len(js))
	for i, j := range js {
		rs[i] = parley.Reason{Rule: j.Rule, Message: j.Message, UserID: j.User}
		if len(j.Spans) > 0 {
			rs[i].Spans = make([]parley.Span, len(j.Spans))
			for k, s := range j.Spans {
				rs[i].Spans[k] = parley.Span{Start: s[0], End: s[1]}
			}
		}
	}
	return rs, nil
}
