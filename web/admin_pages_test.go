package web

import (
	"strings"
	"testing"
)

// TestAdminPagesContract checks the Pages view against docs/admin-api.md:
// the endpoints it calls, and the view's place in the page.
func TestAdminPagesContract(t *testing.T) {
	js := adminCode(readAdmin(t, "admin.js"))
	for _, want := range []string{
		"`/sites/${encodeURIComponent(S.site)}/pages?`",
		"`/sites/${encodeURIComponent(S.site)}/pages/policy?`",
		`api("PUT", pagePath(pg.id), { closed, note })`,
		`api("PUT", pagePath(pg.id), { policy: override })`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("admin.js lacks %s", want)
		}
	}
	html := readAdmin(t, "index.html")
	for _, want := range []string{`data-view="pages"`, `id="pages-view"`, `id="pages-search"`, `role="search"`, `id="pages-list"`} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	// The override editor offers every setting of a page's override but
	// "closed", which is the page's own flag.
	for _, name := range []string{"mode", "pre_new_min_approved", "max_length", "max_links", "banned_words", "suspect_words",
		"report_threshold", "flood_per_minute", "flood_per_minute_ip", "flood_duplicate_window", "toxicity_hold", "toxicity_reject",
		"auto_premod.window", "auto_premod.rejected"} {
		if !strings.Contains(js, `["`+name+`", "`) {
			t.Errorf("the override editor has no field %s", name)
		}
	}
	if strings.Contains(js, `["closed", "`) {
		t.Error("the override editor offers closed")
	}
}
