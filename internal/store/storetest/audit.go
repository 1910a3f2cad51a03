package storetest

import (
	"testing"

	"github.com/parleyhq/parley/internal/store"
)

// countActions counts bob's audit entries on the site named "test-"+name.
func countActions(t *testing.T, f *fixture, name string) int {
	t.Helper()
	all, err := f.s.Actions(f.ctx, store.ActionQuery{UserID: "bob", SiteID: f.site.ID, Limit: 1000})
	if err != nil {
		t.Fatalf("Actions: %v", err)
	}
	n := 0
	for _, a := range all {
		if a.Action == "test-"+name {
			n++
		}
	}
	return n
}
