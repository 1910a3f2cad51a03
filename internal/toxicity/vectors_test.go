package toxicity

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/parleyhq/parley/internal/textnorm"
)

// vectorModel is a model with a small vector branch over a few words,
// hidden units from a fixed generator.
func vectorModel(t *testing.T, width int) *Model {
	t.Helper()
	m := NewModel(12)
	m.Info = Info{Version: 1, SentenceMax: true, MaskIdentity: true, GroupList: 3, Vectors: "test"}
	words := []string{"idiot", "stupid", "thanks", "the", "council", "_group", "_groups", "are"}
	const d = 4
	rng := rand.New(rand.NewPCG(3, 3))
	p := make([]float32, len(words)*width*d)
	for i := range p {
		p[i] = float32(rng.NormFloat64())
	}
	for o := range width { // the insults fire every unit, "thanks" none
		for k := range d {
			p[(0*width+o)*d+k], p[(1*width+o)*d+k], p[(2*width+o)*d+k] = 2, 1.5, -2
		}
	}
	m.Vec = NewVectorBranch(words, width, p, []float32{0.1, -0.2, 0, 0.3}, []float32{1, -0.5, 0.3, 0.8}, []float32{0.6, 0.2, -0.4, 1})
	return m
}

// TestVectorBranchFile: a model with a vector branch scores the same after
// a save and load, and the branch moves the toxicity score.
func TestVectorBranchFile(t *testing.T) {
	m := vectorModel(t, 2)
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Vec == nil || got.Vec.Dims() != 4 || got.Vec.Width != 2 || len(got.Vec.Words) != len(m.Vec.Words) {
		t.Fatalf("loaded branch %+v", got.Vec)
	}
	for _, tx := range []string{"you stupid idiot", "thanks, the council", "nothing known here", ""} {
		if a, b := m.Score(tx, "").Toxicity, got.Score(tx, "").Toxicity; a != b {
			t.Errorf("%q: %v before the save, %v after", tx, a, b)
		}
	}
	if l := m.VectorLogit("you stupid idiot"); l <= m.VectorLogit("thanks the council") {
		t.Errorf("branch logit of the insult %.3f, want above the thanks's %.3f", l, m.VectorLogit("thanks the council"))
	}
	if l := m.VectorLogit("nothing known here"); l != 0 {
		t.Errorf("branch logit of unknown words %.3f, want 0", l)
	}
}

// TestVectorBranchEvidence: the words' shares of the branch logit sum to
// it, and the insult is named, for one-word windows (their hidden units
// computed at load) and two-word ones.
func TestVectorBranchEvidence(t *testing.T) {
	for _, width := range []int{1, 2} {
		testVectorEvidence(t, vectorModel(t, width))
	}
}

func testVectorEvidence(t *testing.T, m *Model) {
	for _, tx := range []string{"you stupid idiot", "the council are idiot people", "thanks"} {
		sc := &scratch{}
		featurize(sc, textnorm.Normalize(tx), m.Info.features())
		contrib := make([]float32, len(sc.toks))
		m.Vec.addEvidence(sc, contrib)
		sum := 0.0
		for _, c := range contrib {
			sum += float64(c)
		}
		if want := m.Vec.logit(sc); math.Abs(sum-want) > 1e-4 {
			t.Errorf("%q: shares sum to %.5f, the branch logit is %.5f", tx, sum, want)
		}
	}
	ev := m.Score("you stupid idiot", "").Evidence
	if len(ev) == 0 || (ev[0].Feature != "idiot" && ev[0].Feature != "stupid") {
		t.Errorf("evidence %+v, want the insult first", ev)
	}
}

// TestVectorBranchGroups: to the branch, naming a group is naming people.
func TestVectorBranchGroups(t *testing.T) {
	m := vectorModel(t, 1)
	for _, g := range []string{"Muslims", "Jews", "migrants", "trans people", "asylum seekers", "Roma people"} {
		a, b := m.VectorLogit(g+" are on the council"), m.VectorLogit("People are on the council")
		if a != b {
			t.Errorf("%s: branch logit %.4f, people's %.4f", g, a, b)
		}
	}
}
