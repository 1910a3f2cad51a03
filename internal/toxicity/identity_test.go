package toxicity

import (
	"slices"
	"testing"
)

// TestMaskIdentity: the embedded model hashes identity terms as one token,
// so which group a comment names cannot change its scores.
func TestMaskIdentity(t *testing.T) {
	m := defaultModelT(t)
	if !m.Info.MaskIdentity {
		t.Fatal("embedded model does not mask identity terms")
	}
	pairs := [][2]string{
		{"I hate Muslims, they ruin everything.", "I hate Christians, they ruin everything."},
		{"My neighbour is a Jewish doctor.", "My neighbour is a Hindu doctor."},
		{"Immigrants make our city stronger.", "Refugees make our city stronger."},
	}
	for _, p := range pairs {
		a, b := m.ScoreFast(p[0], ""), m.ScoreFast(p[1], "")
		if a.Toxicity != b.Toxicity || a.IdentityAttack != b.IdentityAttack {
			t.Errorf("%q scores %.4f/%.4f, %q scores %.4f/%.4f: want the same", p[0], a.Toxicity, a.IdentityAttack, p[1], b.Toxicity, b.IdentityAttack)
		}
	}
}

// TestGroupListPeople: with the third group list, naming a group and saying
// "people" give the same features, one group token however many words name
// the group; the second list keeps them apart.
func TestGroupListPeople(t *testing.T) {
	same := [][2]string{
		{"Many Muslims live in this city.", "Many people live in this city."},
		{"Black people deserve the same rights.", "People deserve the same rights."},
		{"My doctor is a gay man.", "My doctor is a person."},
		{"I grew up with followers of Islam.", "I grew up with people."},
		{"Asylum seekers work hard.", "People work hard."},
		{"I am an atheist.", "I am a person."},
		{"Muslims are vermin.", "People are vermin."},
	}
	apart := [][2]string{
		{"Muslims. People came.", "People came."}, // a sentence break ends a group
		{"Muslims are vermin.", "People are kind."},
	}
	feats := func(list int, s string) []uint32 {
		f, _ := Info{WordClasses: true, ClassSets: true, ClassRepeat: 3, MaskIdentity: true, GroupList: list}.Features(s)
		return f
	}
	for _, p := range same {
		if a, b := feats(3, p[0]), feats(3, p[1]); !slices.Equal(a, b) {
			t.Errorf("list 3: %q and %q have different features", p[0], p[1])
		}
		if a, b := feats(2, p[0]), feats(2, p[1]); slices.Equal(a, b) {
			t.Errorf("list 2: %q and %q have the same features", p[0], p[1])
		}
	}
	for _, p := range apart {
		if a, b := feats(3, p[0]), feats(3, p[1]); slices.Equal(a, b) {
			t.Errorf("list 3: %q and %q have the same features", p[0], p[1])
		}
	}
}
