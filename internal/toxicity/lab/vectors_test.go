package lab

import (
	"math"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/internal/toxicity"
)

var (
	vectorsOnce sync.Once
	vectorsV    *Vectors
	vectorsErr  error
)

// vectorsT loads the word vectors once per test binary, skipping without
// them (testenv.Vectors).
func vectorsT(t *testing.T) *Vectors {
	t.Helper()
	path := testenv.Vectors(t)
	vectorsOnce.Do(func() { vectorsV, vectorsErr = LoadVectors(VectorsPath()) })
	if vectorsErr != nil {
		t.Fatalf("%s: %v", path, vectorsErr)
	}
	return vectorsV
}

// TestLoadVectors: the npm package's file has its 341,479 words of 100
// dimensions in frequency order, and similar words are near.
func TestLoadVectors(t *testing.T) {
	v := vectorsT(t)
	if v.Dim != 100 || len(v.Words) != 341479 || v.Words[0] != "the" {
		t.Fatalf("%d words × %d, first %q; want 341479 × 100, \"the\"", len(v.Words), v.Dim, v.Words[0])
	}
	cos := func(a, b string) float64 {
		x, y := v.Of(a), v.Of(b)
		if x == nil || y == nil {
			t.Fatalf("no vector for %q or %q", a, b)
		}
		var xy, xx, yy float64
		for i := range x {
			xy += float64(x[i] * y[i])
			xx += float64(x[i] * x[i])
			yy += float64(y[i] * y[i])
		}
		return xy / (math.Sqrt(xx) * math.Sqrt(yy))
	}
	if a, b := cos("idiot", "moron"), cos("idiot", "council"); a <= b {
		t.Errorf("cos(idiot, moron) %.3f, want above cos(idiot, council) %.3f", a, b)
	}
}

// TestRecipeVectors: recipe 10 trains a vector branch that survives the
// model file, ranks an insult it never saw above a civil sentence through
// the vectors alone, and moves no score when a group is named instead of
// people.
func TestRecipeVectors(t *testing.T) {
	v := vectorsT(t)
	d := tinyData()
	opt := TrainOptions{Seed: 7, Bits: 16, Recipe: RecipeVectors, Vectors: v}
	m, err := Train(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	if m.Vec == nil || m.Info.Vectors == "" {
		t.Fatal("recipe 10 trained no vector branch")
	}
	again, err := Train(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range []string{"you are a moron", "thanks for the edit"} {
		if a, b := m.Score(tx, "").Toxicity, again.Score(tx, "").Toxicity; a != b {
			t.Errorf("%q: %v and %v from two runs with one seed", tx, a, b)
		}
	}
	// "moron" and "imbecile" are not in the training data: only their
	// vectors can tell.
	if a, b := m.VectorLogit("you are a moron imbecile"), m.VectorLogit("thanks for the useful change"); a <= b {
		t.Errorf("branch logit of an unseen insult %.3f, want above a civil sentence's %.3f", a, b)
	}
	path := t.TempDir() + "/v.ptox"
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	l, err := toxicity.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range []string{"you are a moron", "thanks for the edit", "Muslims are on the council"} {
		if a, b := m.Score(tx, "").Toxicity, l.Score(tx, "").Toxicity; a != b {
			t.Errorf("%q: %v trained, %v loaded", tx, a, b)
		}
	}
	for _, g := range []string{"Muslims", "Jews", "Migrants", "Trans people", "Asylum seekers", "Black people"} {
		if a, b := m.VectorLogit(g+" are on the council"), m.VectorLogit("People are on the council"); a != b {
			t.Errorf("%s: branch logit %.4f, people's %.4f", g, a, b)
		}
	}
}
