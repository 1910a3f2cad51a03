package toxicity

import (
	"math"
	"slices"
	"testing"
)

// TestGroupPairs: with group pairs, what is said of a group adds features
// of its own ("_groups … vermin" differs from "vermin" said of no group),
// naming a group still gives the features of saying "people", and a word
// in the next sentence pairs with nothing.
func TestGroupPairs(t *testing.T) {
	info := Info{WordClasses: true, ClassSets: true, ClassRepeat: 3, MaskIdentity: true, GroupList: 3, GroupPairs: true}
	feats := func(i Info, s string) []uint32 {
		f, _ := i.Features(s)
		return f
	}
	noPairs := info
	noPairs.GroupPairs = false
	for _, c := range []struct {
		text  string
		pairs int // pair features: one per word with a group token either side within pairWindow
	}{
		{"Muslims are vermin.", 2},
		{"They are vermin.", 0},
		{"Kill all the Jews.", 3},
		{"Muslims. Vermin came.", 0},
		{"Black people are nothing but apes.", 4},
	} {
		if got := len(feats(info, c.text)) - len(feats(noPairs, c.text)); got != c.pairs {
			t.Errorf("%q: %d pair features, want %d", c.text, got, c.pairs)
		}
	}
	if a, b := feats(info, "Muslims are neighbours."), feats(info, "People are neighbours."); !slices.Equal(a, b) {
		t.Error("naming a group and saying people give different features with group pairs")
	}
	if a, b := feats(info, "Muslims are vermin."), feats(info, "Muslims are neighbours."); slices.Equal(a, b) {
		t.Error("a dehumanising and a neutral predicate of a group give the same features")
	}
	// A model without group pairs in its Info never computes them, whatever
	// the runtime knows: old files score as they were trained.
	if a, b := feats(Info{WordClasses: true, MaskIdentity: true, GroupList: 3}, "Muslims are vermin."), feats(Info{WordClasses: true, MaskIdentity: true, GroupList: 3, GroupPairs: false}, "Muslims are vermin."); !slices.Equal(a, b) {
		t.Error("features differ between equal Infos")
	}
}

// TestWordIdentityHead: with Info.WordIdentity the identity-attack head
// scores the word-level features only (WordFeatures: no character
// n-grams), and the toxicity head is unchanged.
func TestWordIdentityHead(t *testing.T) {
	info := Info{WordClasses: true, ClassSets: true, ClassRepeat: 3, MaskIdentity: true, GroupList: 3, GroupPairs: true}
	m := NewModel(12)
	m.Info = info
	for i := range m.W {
		m.W[i] = float32(math.Sin(float64(i))) // any weights
	}
	const text = "Go back to where you came from. Muslims are vermin."
	before := m.Logits(text)
	m.Info.WordIdentity = true
	after := m.Logits(text)
	if before[HeadToxicity] != after[HeadToxicity] {
		t.Errorf("toxicity logit %.4f changed to %.4f", before[HeadToxicity], after[HeadToxicity])
	}
	wf := m.Info.WordFeatures(text)
	all, _ := m.Info.Features(text)
	if len(wf) == 0 || len(wf) >= len(all) {
		t.Fatalf("%d word-level features of %d", len(wf), len(all))
	}
	var s float32
	for _, f := range wf {
		s += m.W[int(f&(1<<m.Bits-1))*NumHeads+HeadIdentity]
	}
	want := float64(m.Bias[HeadIdentity] + FeatureScale(len(wf))*s)
	if math.Abs(after[HeadIdentity]-want) > 1e-5 {
		t.Errorf("identity logit %.6f, want %.6f from the word-level features", after[HeadIdentity], want)
	}
}

// TestIdentityBranch: the identity branch raises toxicity to
// IdentityMix·(identity + IdentityShift) + (1−IdentityMix)·toxicity when
// that is larger, and never lowers it; the reported identity-attack score
// does not include the shift.
func TestIdentityBranch(t *testing.T) {
	m := NewModel(10)
	m.Info = Info{WordClasses: true, MaskIdentity: true, GroupList: 3}
	m.Bias = [NumHeads]float32{-1, 2, 0, 0}
	const text = "Muslims are vermin."
	off := m.ScoreFast(text, "")
	m.Info.IdentityBranch, m.Info.IdentityMix, m.Info.IdentityShift = true, 0.5, 1
	on := m.ScoreFast(text, "")
	if want := sigmoid(0.5*(2+1) + 0.5*-1); math.Abs(on.Toxicity-want) > 1e-6 {
		t.Errorf("toxicity %.4f with the branch, want %.4f", on.Toxicity, want)
	}
	if on.IdentityAttack != off.IdentityAttack {
		t.Errorf("identity-attack score moved from %.4f to %.4f", off.IdentityAttack, on.IdentityAttack)
	}
	m.Info.IdentityShift = -10
	if low := m.ScoreFast(text, ""); low.Toxicity != off.Toxicity {
		t.Errorf("a low identity branch changed toxicity from %.4f to %.4f", off.Toxicity, low.Toxicity)
	}
}
