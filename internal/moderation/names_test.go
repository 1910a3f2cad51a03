package moderation_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/toxicity"
)

// TestDecideName: hateful and obscene display names are refused or held,
// disguised or not, with the policy point; ordinary names from many
// languages pass, those that contain a rude word included (no Scunthorpe
// problem).
func TestDecideName(t *testing.T) {
	model, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	p := moderation.DefaultPolicy()
	p.SuspectWords = []string{"idiot"}
	pipe, err := moderation.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want string // status, and for refused or held names the point
	}{
		// Hate, plainly and in disguise.
		{"Muslims are vermin", "rejected group"},
		{"MUSLIMS ARE VERMIN", "rejected group"},
		{"Mu$lims are v3rmin", "rejected group"},
		{"M*slims are vermin", "pending group"},
		{"Muzzie Hunter", "rejected words"},
		{"Jews are rats", "rejected group"},
		{"Kill all jews", "rejected group"},
		{"Go back to your own country", "pending words"},
		// Obscenities, plainly and in disguise.
		{"Fuck You", "rejected words"},
		{"F.u.c.k y.o.u", "rejected words"},
		{"fuk u", "rejected words"},
		{"Sh1thead", "rejected words"},
		{"Motherfucker", "rejected words"},
		{"Cunt", "rejected words"},
		{"c*nt", "rejected words"},
		{"Putain de merde", "rejected words"},
		{"Arschloch", "rejected words"},
		// The site's own lists, and the model's insults.
		{"Village Idiot", "pending words"},
		{"stupid moron", "rejected insult"},
		{"Ass Ange", "pending insult"}, // a moderator looks
		// Ordinary names, rude-looking ones included.
		{"Dick Smith", "approved"},
		{"Richard Dick", "approved"},
		{"Cockburn", "approved"},
		{"Alexander Cockburn", "approved"},
		{"Sexton", "approved"},
		{"Anne Sexton", "approved"},
		{"Julian Assange", "approved"},
		{"Assange", "approved"},
		{"Fanny Blankers-Koen", "approved"},
		{"Willy Brandt", "approved"},
		{"Amanda Butts", "approved"},
		{"Dominic Cummings", "approved"},
		{"Wang Fang", "approved"},
		{"Nguyễn Văn Phúc", "approved"},
		{"Scunthorpe United fan", "approved"},
		{"Anna Nguyen", "approved"},
		{"José García", "approved"},
		{"Mohammed Al-Sayed", "approved"},
		{"محمد علي", "approved"},
		{"Zhang Wei", "approved"},
		{"Priya Patel", "approved"},
		{"Иван Петров", "approved"},
		{"Σωκράτης Παπαδόπουλος", "approved"},
		{"Ngozi Okafor", "approved"},
		{"Hiroshi Tanaka", "approved"},
		{"Åsa Öberg", "approved"},
		{"Klaus Kuntz", "approved"},
		{"Sacha Baron Cohen", "approved"},
		{"Gay Talese", "approved"},
		{"Proud Muslim", "approved"},
		{"Jewish Mom of Three", "approved"},
	} {
		v := pipe.DecideName(tc.name, model)
		got := v.Status
		if p := v.Point(); p != "" {
			got += " " + p
		}
		if got != tc.want {
			t.Errorf("%q: %s (%s), want %s", tc.name, got, v.Reason.Message, tc.want)
		}
		if v.Status != parley.StatusApproved && (len(v.Reason.Spans) != 0 || !strings.HasPrefix(v.Reason.Message, "display name ")) {
			t.Errorf("%q: reason %+v, want a moderator's message without spans", tc.name, v.Reason)
		}
	}
}
