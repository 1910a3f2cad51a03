package lab

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/toxicity"
)

func defaultModelT(t testing.TB) *toxicity.Model {
	t.Helper()
	m, err := toxicity.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return m
}

// tinyData is a small synthetic dataset for training mechanics.
func tinyData() *Dataset {
	d := &Dataset{}
	for i := 0; i < 200; i++ {
		d.Examples = append(d.Examples,
			Example{Source: SourceWikiTalk, ID: fmt.Sprint("t", i), Text: fmt.Sprintf("you are a stupid idiot number %d", i), Toxicity: 1, Identity: 0, Spam: 0},
			Example{Source: SourceWikiTalk, ID: fmt.Sprint("n", i), Text: fmt.Sprintf("thanks for the helpful edit number %d", i), Toxicity: 0, Identity: 0, Spam: 0},
			Example{Source: SourceYouTube, ID: fmt.Sprint("s", i), Text: fmt.Sprintf("check out my channel and subscribe %d", i), Toxicity: Unknown, Identity: Unknown, Spam: 1},
		)
	}
	return d
}

func TestTrainDeterministicAndRoundTrip(t *testing.T) {
	d := tinyData()
	opt := TrainOptions{Seed: 7, Bits: 16}
	a, err := Train(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.W {
		if a.W[i] != b.W[i] {
			t.Fatalf("weights differ at %d between two runs with the same seed", i)
		}
	}
	if a.Threshold != toxicity.DefaultHoldThreshold || a.Info.Calibration != "default" {
		t.Errorf("without Globe and Mail data the threshold stays %v: got %v (%q)", toxicity.DefaultHoldThreshold, a.Threshold, a.Info.Calibration)
	}
	tox, clean, spam := "you are a stupid idiot", "thanks for the helpful edit", "check out my channel"
	if s := a.Score(tox, ""); s.Toxicity < 0.5 {
		t.Errorf("trained model scores %q %.3f, want >= 0.5", tox, s.Toxicity)
	}
	if s := a.Score(clean, ""); s.Toxicity >= 0.5 {
		t.Errorf("trained model scores %q %.3f, want < 0.5", clean, s.Toxicity)
	}
	if s := a.Score(spam, ""); s.Spam < 0.5 {
		t.Errorf("trained model spam score of %q %.3f, want >= 0.5", spam, s.Spam)
	}

	path := t.TempDir() + "/m.ptox"
	if err := a.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	c, err := toxicity.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range []string{tox, clean, spam} {
		x, y := a.Score(tx, ""), c.Score(tx, "")
		if math.Abs(x.Toxicity-y.Toxicity) > 1e-3 || math.Abs(x.Spam-y.Spam) > 1e-3 {
			t.Errorf("%q: loaded model scores %+v, saved %+v", tx, y, x)
		}
	}
	if _, err := toxicity.Load(strings.NewReader("not a model")); err == nil {
		t.Error("Load accepted garbage")
	}
}

// TestRecipeGroupLists: each recipe masks with its own identity list, and a
// model file records it, so a loaded model hashes groups as it was trained.
func TestRecipeGroupLists(t *testing.T) {
	for _, c := range []struct {
		recipe, list         int
		pairs, branch, wordI bool
	}{
		{RecipeFourth, 0, false, false, false}, {RecipeSecondGen, 2, false, false, false}, {RecipePeople, 3, false, false, false},
		{RecipePairs, 3, true, false, false}, {RecipeIdentityBranch, 3, true, true, false}, {RecipeWordIdentity, 3, true, true, true},
	} {
		m, err := Train(tinyData(), TrainOptions{Seed: 7, Bits: 16, Recipe: c.recipe})
		if err != nil {
			t.Fatal(err)
		}
		if m.Info.GroupList != c.list {
			t.Errorf("recipe %d: group list %d, want %d", c.recipe, m.Info.GroupList, c.list)
		}
		if i := m.Info; i.GroupPairs != c.pairs || i.IdentityBranch != c.branch || i.WordIdentity != c.wordI {
			t.Errorf("recipe %d: group pairs %v, identity branch %v, word-level identity head %v; want %v, %v, %v",
				c.recipe, i.GroupPairs, i.IdentityBranch, i.WordIdentity, c.pairs, c.branch, c.wordI)
		}
	}
	if _, err := Train(tinyData(), TrainOptions{Seed: 7, Bits: 16, Recipe: RecipeVectors + 1}); err == nil {
		t.Error("an unknown recipe trained")
	}
}
