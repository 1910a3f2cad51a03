package httpapi_test

import (
	"strings"
	"testing"
)

// TestPolicyPutAndPatch pins the two ways of changing settings: PUT
// replaces the whole policy and refuses a body that leaves settings out,
// naming them; PATCH merges (RFC 7396), so a one-field change keeps every
// other setting, and null puts a setting back to its default. The page
// override's PATCH merges into the override the same way.
func TestPolicyPutAndPatch(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.reader("")
	auth := []string{"Authorization", "Bearer " + adminToken}
	policy := func() map[string]any {
		t.Helper()
		res := admin.do("GET", "/api/v1/admin/sites/news/policy", nil, auth...)
		if res.status != 200 {
			t.Fatalf("GET policy: %d %s", res.status, res.body)
		}
		return res.json(t)
	}
	// A site policy that differs from the defaults in several settings.
	full := policy()
	full["mode"] = "pre_new"
	full["max_links"] = 0
	full["banned_words"] = []string{"idiot"}
	full["report_threshold"] = 7
	if res := admin.do("PUT", "/api/v1/admin/sites/news/policy", full, auth...); res.status != 200 {
		t.Fatalf("PUT of the full policy: %d %s", res.status, res.body)
	}

	tests := []struct {
		name, method string
		body         any
		contentType  string
		status       int
		errHas       []string       // the error message names these
		want         map[string]any // settings after the request
	}{
		{"PUT with one field is refused, naming the missing ones", "PUT", map[string]any{"max_length": 900}, "", 400,
			[]string{"auto_premod", "banned_words", "mode", "report_threshold", "PATCH"},
			map[string]any{"max_length": 5000.0, "mode": "pre_new"}},
		{"PUT missing a nested field names it by path", "PUT", withField(full, "auto_premod", map[string]any{"window": 5}), "", 400,
			[]string{"auto_premod.rejected"}, map[string]any{"report_threshold": 7.0}},
		{"PATCH of one field keeps the others", "PATCH", map[string]any{"max_length": 900}, "application/merge-patch+json", 200, nil,
			map[string]any{"max_length": 900.0, "mode": "pre_new", "max_links": 0.0, "report_threshold": 7.0, "banned_words": []any{"idiot"}}},
		{"PATCH of a nested field merges into the object", "PATCH", map[string]any{"auto_premod": map[string]any{"rejected": 2}}, "", 200, nil,
			map[string]any{"auto_premod": map[string]any{"window": 5.0, "rejected": 2.0}, "max_length": 900.0}},
		{"PATCH null puts a setting back to its default", "PATCH", map[string]any{"report_threshold": nil}, "", 200, nil,
			map[string]any{"report_threshold": 3.0, "mode": "pre_new"}},
		{"PATCH is validated as the whole policy", "PATCH", map[string]any{"mode": "sometimes"}, "", 400,
			[]string{"mode"}, map[string]any{"mode": "pre_new"}},
		{"PATCH with an unknown setting", "PATCH", map[string]any{"moed": "post"}, "", 400,
			[]string{"moed"}, map[string]any{"mode": "pre_new"}},
		{"PATCH with a wrong type", "PATCH", map[string]any{"max_length": "long"}, "", 400,
			[]string{"max_length"}, map[string]any{"max_length": 900.0}},
		{"PATCH that is not an object", "PATCH", `["mode"]`, "", 400, []string{"object"}, map[string]any{"mode": "pre_new"}},
		{"PATCH as text/plain", "PATCH", `{"mode":"post"}`, "text/plain", 415, []string{"merge-patch"}, map[string]any{"mode": "pre_new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := append([]string{}, auth...)
			if tt.contentType != "" {
				hdr = append(hdr, "Content-Type", tt.contentType)
			}
			res := admin.do(tt.method, "/api/v1/admin/sites/news/policy", tt.body, hdr...)
			if res.status != tt.status {
				t.Fatalf("%s: %d %s, want %d", tt.method, res.status, res.body, tt.status)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(string(res.body), s) {
					t.Errorf("error %s does not name %q", res.body, s)
				}
			}
			got := policy()
			for k, v := range tt.want {
				if !jsonEqual(got[k], v) {
					t.Errorf("after %s: %s = %v, want %v", tt.method, k, got[k], v)
				}
			}
		})
	}

	// The page override: PATCH merges into it.
	page := "/api/v1/admin/sites/news/pages/policy?url=" + escape(articleURL)
	if res := admin.do("PATCH", page, map[string]any{"create": true, "policy": map[string]any{"max_links": 5, "mode": "pre_all"}}, auth...); res.status != 200 {
		t.Fatalf("PATCH page override: %d %s", res.status, res.body)
	}
	res := admin.do("PATCH", page, map[string]any{"policy": map[string]any{"mode": nil, "report_threshold": 1}}, auth...)
	if res.status != 200 {
		t.Fatalf("PATCH page override again: %d %s", res.status, res.body)
	}
	got := res.json(t)
	own := got["policy"].(map[string]any)
	if !jsonEqual(own, map[string]any{"max_links": 5.0, "report_threshold": 1.0}) {
		t.Errorf("override after two patches = %v, want max_links 5 kept, mode dropped, report_threshold 1", own)
	}
	if eff := got["effective"].(map[string]any); eff["mode"] != "pre_new" || eff["max_length"] != 900.0 {
		t.Errorf("effective policy = %v, want the site's mode and max_length where the override is silent", eff)
	}
	if res := admin.do("PATCH", page, map[string]any{"closed": true}, auth...); res.status != 200 || len(res.json(t)["policy"].(map[string]any)) != 2 {
		t.Errorf("PATCH closed only: %d %s, want the override kept", res.status, res.body)
	}
	if res := admin.do("PATCH", page, map[string]any{"policy": nil}, auth...); res.status != 200 || len(res.json(t)["policy"].(map[string]any)) != 0 {
		t.Errorf(`PATCH "policy":null: %d %s, want the override removed`, res.status, res.body)
	}
	if res := admin.do("PATCH", page, map[string]any{"colsed": true}, auth...); res.status != 400 || !strings.Contains(string(res.body), "colsed") {
		t.Errorf("PATCH with an unknown page field: %d %s, want 400 naming it", res.status, res.body)
	}
}

func withField(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m))
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// jsonEqual compares two values in generic JSON form.
func jsonEqual(a, b any) bool {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k := range av {
			if !jsonEqual(av[k], bv[k]) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !jsonEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}
