package moderation

import (
	"testing"

	"github.com/parleyhq/parley"
)

// TestStarterPolicy pins the starter policy on a fresh site's default
// policy: disguised slurs for groups and classic hateful phrases are not
// published; the plain names of groups and ordinary talk about them are;
// and an editor who switches the starter policy off gets their own lists
// only.
func TestStarterPolicy(t *testing.T) {
	on := compile(t, DefaultPolicy())
	offPolicy := DefaultPolicy()
	offPolicy.StarterPolicy = false
	off := compile(t, offPolicy)
	// The site's own list may repeat a starter entry.
	dup := DefaultPolicy()
	dup.BannedWords = []string{"muzzie", "idiot"}
	both := compile(t, dup)

	for _, tt := range []struct {
		text   string
		status string // with the starter policy
		rule   string
	}{
		{"Muzzies are ruining this town.", parley.StatusRejected, RuleBannedWord},
		{"Typical m.u.z.z.i.e behaviour.", parley.StatusRejected, RuleBannedWord},
		{"The M*slims want to take over.", parley.StatusPending, RuleDisguisedGroup},
		{"J3ws again, of course.", parley.StatusPending, RuleDisguisedGroup},
		{"Go back to your own country!", parley.StatusPending, RuleSuspectWord},
		{"They control the banks and the media, wake up.", parley.StatusPending, RuleSuspectWord},
		{"Ausländer raus, sagt er.", parley.StatusPending, RuleSuspectWord},
		{"Rentre dans ton pays.", parley.StatusPending, RuleSuspectWord},
		// Ordinary talk about groups passes.
		{"Muslims and Jews in Harwick organised the open doors weekend together.", parley.StatusApproved, ""},
		{"The mosque's Eid meal welcomed refugees, migrants and Muslim families alike.", parley.StatusApproved, ""},
		{"Gay, lesbian and trans readers wrote in too; the Black history month talk was full.", parley.StatusApproved, ""},
		{"My grandmother's Jewish bakery is still open.", parley.StatusApproved, ""},
	} {
		d := on.Decide(Input{Text: tt.text})
		if d.Status != tt.status || (tt.rule != "" && !hasRule(d, tt.rule)) {
			t.Errorf("starter on: Decide(%q) = %s %+v, want %s by %s", tt.text, d.Status, d.Reasons, tt.status, tt.rule)
		}
		if d := off.Decide(Input{Text: tt.text}); d.Status != parley.StatusApproved {
			t.Errorf("starter off: Decide(%q) = %s %+v, want approved", tt.text, d.Status, d.Reasons)
		}
		if d2 := both.Decide(Input{Text: tt.text}); d2.Status != d.Status {
			t.Errorf("starter with an overlapping own list: Decide(%q) = %s, want %s", tt.text, d2.Status, d.Status)
		}
	}
	s := StarterPolicy()
	if len(s.Banned) < 20 || len(s.Suspect) < 15 || len(s.Disguised) < 10 {
		t.Errorf("starter lists have %d banned, %d suspect, %d disguised entries; the file lost some", len(s.Banned), len(s.Suspect), len(s.Disguised))
	}
}

func hasRule(d parley.Decision, rule string) bool {
	for _, r := range d.Reasons {
		if r.Rule == rule {
			return true
		}
	}
	return false
}
