package toxicity

import (
	"testing"

	"github.com/parleyhq/parley/internal/textnorm"
)

// TestClassFeatures: a class word adds its class feature, and a pair feature
// only when another class came earlier in the same sentence; a model trained
// without word classes sees none of them.
func TestClassFeatures(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		classes bool
		want    int // features beyond the word features
	}{
		{"no class words", "the weather was fine", true, 0},
		{"one class word", "vermin everywhere", true, 1},
		{"group then dehumanising", "immigrants are vermin", true, 1 + 2},
		{"sentence break resets the pair", "immigrants arrived. vermin everywhere", true, 1 + 1},
		{"word classes off", "immigrants are vermin", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			with, without := &scratch{}, &scratch{}
			featurize(with, textnorm.Normalize(c.text), featureSet{classes: c.classes})
			featurize(without, textnorm.Normalize(c.text), featureSet{})
			if got := len(with.feats) - len(without.feats); got != c.want {
				t.Errorf("%q: %d class features, want %d", c.text, got, c.want)
			}
			if len(with.ends) != len(with.toks) {
				t.Errorf("%d feature ends for %d words", len(with.ends), len(with.toks))
			}
		})
	}
}
