package moderation

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

func TestParseOverride(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		mode     string // of the result, "" for unset
		maxLinks int    // -1 for unset
		err      string // in the error, "" for none
	}{
		{"two settings", `{"mode":"pre_all","max_links":0}`, "pre_all", 0, ""},
		{"empty", ` {} `, "", -1, ""},
		{"unknown setting", `{"mode":"pre_all","max_linkz":0}`, "", -1, `unknown field "max_linkz"`},
		{"two objects", `{"mode":"pre_all"} {"max_links":1}`, "", -1, "more than one JSON value"},
		{"not JSON", `mode: pre_all`, "", -1, "not a policy override"},
		{"wrong type", `{"max_links":"none"}`, "", -1, "not a policy override"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOverride([]byte(tc.in))
			if tc.err != "" {
				if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(parley.ErrorMessage(err), tc.err) {
					t.Fatalf("got %+v, %v; want EInvalid with %q", o, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := deref(o.Mode, ""); got != tc.mode {
				t.Errorf("mode %q, want %q", got, tc.mode)
			}
			if got := deref(o.MaxLinks, -1); got != tc.maxLinks {
				t.Errorf("max_links %d, want %d", got, tc.maxLinks)
			}
		})
	}
}

func deref[T any](p *T, unset T) T {
	if p == nil {
		return unset
	}
	return *p
}
