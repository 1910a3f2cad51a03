package toxicity

import (
	"testing"

	"github.com/parleyhq/parley/internal/textnorm"
)

// TestClassFeatures: a class word adds its class feature, and a pair feature
// only when another class came earlier in the same sentence; a model trained
// without word classes sees none of them. With class sets, "you" is also the
// addressee and a sentence's third class adds one feature for the set.
func TestClassFeatures(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		classes bool
		sets    bool
		want    int // features beyond the word features
	}{
		{"no class words", "the weather was fine", true, false, 0},
		{"one class word", "vermin everywhere", true, false, 1},
		{"group then dehumanising", "immigrants are vermin", true, false, 1 + 2},
		{"sentence break resets the pair", "immigrants arrived. vermin everywhere", true, false, 1 + 1},
		{"word classes off", "immigrants are vermin", false, false, 0},
		// hope: modal; stabs: violence + pair; you: group + 2 pairs.
		{"threat without sets", "I hope someone stabs you", true, false, 1 + 2 + 3},
		// you: also addressee + 2 pairs, and the set {modal, violence, group, addressee}.
		{"threat with sets", "I hope someone stabs you", true, true, 1 + 2 + 3 + 3 + 1},
		{"two classes make no set", "they should leave", true, true, 1 + 2},
		{"you is two classes, should the third", "you should", true, true, 2 + 3 + 1},
		{"sets without classes", "I hope someone stabs you", false, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			with, without := &scratch{}, &scratch{}
			featurize(with, textnorm.Normalize(c.text), featureSet{classes: c.classes, classSets: c.sets})
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
