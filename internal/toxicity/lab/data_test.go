package lab

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

func TestCivilSentences(t *testing.T) {
	post := Example{
		Source: SourceCivil, ID: "42", HasSpans: true, Toxicity: 1,
		// "idiot" is at code points 58–63; the "é" before it checks that offsets count code points.
		Text:  "The council met on Tuesday about café parking. You are an idiot for thinking so! Anyway the vote is next week.",
		Spans: []parley.Span{{Start: 58, End: 63}},
	}
	if got := []rune(post.Text)[58:63]; string(got) != "idiot" {
		t.Fatalf("test setup: span is %q", string(got))
	}
	got := civilSentences(post)
	want := []struct {
		prefix string
		toxic  float64
	}{
		{"The council met", 0},
		{"You are an idiot", 1},
		{"Anyway the vote", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sentences, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i].Text, w.prefix) || got[i].Toxicity != w.toxic || got[i].ID != "42" || got[i].Source != SourceCivilSentences {
			t.Errorf("sentence %d = %+v, want prefix %q toxicity %v", i, got[i], w.prefix, w.toxic)
		}
	}
	post.HasSpans = false
	if got := civilSentences(post); got != nil {
		t.Errorf("a post whose raters found no majority span yields sentences: %+v", got)
	}
}

func TestSpanLexicon(t *testing.T) {
	posts := []Example{
		{HasSpans: true, Text: "you idiot", Spans: []parley.Span{{Start: 4, End: 9}}},
		{HasSpans: true, Text: "what an idiot", Spans: []parley.Span{{Start: 8, End: 13}}},
		{HasSpans: true, Text: "idiot you are", Spans: []parley.Span{{Start: 0, End: 5}}},
		{HasSpans: true, Text: "you you", Spans: nil},
	}
	lex := spanLexicon(posts, 0.5, 3)
	if !lex["idiot"] {
		t.Error("idiot, marked in 3 of 3 occurrences, is not in the lexicon")
	}
	if lex["you"] {
		t.Error("you, marked in 1 of 4 occurrences, is in the lexicon")
	}
	if !mentionsAny("Such an IDIOT.", lex) || mentionsAny("A fine day.", lex) {
		t.Error("mentionsAny does not match whole lower-cased words")
	}
}

func TestSwapIdentities(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	got, ok := swapIdentities("Muslims are my neighbours; the gay couple too.", rng)
	if !ok {
		t.Fatal("no identity term found")
	}
	if strings.Contains(got, "Muslims") && strings.Contains(got, " gay ") {
		t.Errorf("nothing swapped: %q", got)
	}
	if !strings.HasSuffix(got, "couple too.") || !strings.Contains(got, "are my neighbours;") {
		t.Errorf("swap changed the rest of the sentence: %q", got)
	}
	if _, ok := swapIdentities("The council met on Tuesday.", rng); ok {
		t.Error("found an identity term in a sentence without one")
	}
}

func TestLoadSharedData(t *testing.T) {
	d := sharedData(t)
	count := map[string]int{}
	test := map[string]int{}
	for _, e := range d.Examples {
		count[e.Source]++
		if e.Test {
			test[e.Source]++
		}
		if e.Toxicity != Unknown && (e.Toxicity < 0 || e.Toxicity > 1) {
			t.Fatalf("%s %s: toxicity %v outside [0,1]", e.Source, e.ID, e.Toxicity)
		}
	}
	want := map[string]int{
		SourceCivil: 12873, SourceStormfront: 10703, SourceWikiDebias: 11550, SourceYouTube: 1956,
		SourceToxiGen: 8957, SourceToxiGenSeeds: 991, SourceWikiTalk: 20966, SourceOLID: 13240,
		SourceGlobeAndMail: 4417, SourcePerspective: 2000, SourceJigsaw: 308,
	}
	for src, n := range want {
		if count[src] != n {
			t.Errorf("%s: %d rows, want %d", src, count[src], n)
		}
	}
	// The held-out fifth is a fifth, give or take the hash.
	if f := float64(test[SourceCivil]) / float64(count[SourceCivil]); f < 0.18 || f > 0.22 {
		t.Errorf("civil held-out share %.3f, want about 0.2", f)
	}
	if count[SourceCivilSentences] < 10000 {
		t.Errorf("only %d Civil Comments sentences derived", count[SourceCivilSentences])
	}
	// A sentence is on its post's side of the split: the held-back posts'
	// sentences are never trained on.
	postTest := map[string]bool{}
	for _, e := range d.Examples {
		if e.Source == SourceCivil {
			postTest[e.ID] = e.Test
		}
	}
	wrong := 0
	for _, e := range d.Examples {
		if e.Source == SourceCivilSentences && e.Test != postTest[e.ID] {
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d Civil Comments sentences are on the other side of the split from their post", wrong)
	}
}

// TestValidationFifth: the validation fifth is Civil Comments only, a fifth
// of the posts, disjoint from the held-out fifth, with each sentence on its
// post's side; training with Validate learns from none of it, and training
// without it learns from all of it.
func TestValidationFifth(t *testing.T) {
	d := sharedData(t)
	posts, valid, train := 0, 0, 0
	postValid := map[string]bool{}
	for _, e := range d.Examples {
		if e.Valid && e.Test {
			t.Fatalf("%s %s is in both the held-out and the validation fifth", e.Source, e.ID)
		}
		if e.Valid && e.Source != SourceCivil && e.Source != SourceCivilSentences {
			t.Fatalf("%s %s: only Civil Comments has a validation fifth", e.Source, e.ID)
		}
		if e.Source == SourceCivil {
			posts++
			postValid[e.ID] = e.Valid
			if e.Valid {
				valid++
			}
			if !e.Test && !e.Valid {
				train++
			}
		}
	}
	for _, e := range d.Examples {
		if e.Source == SourceCivilSentences && e.Valid != postValid[e.ID] {
			t.Fatalf("sentence of post %s is on the other side of the validation split", e.ID)
		}
	}
	if f := float64(valid) / float64(posts); f < 0.18 || f > 0.22 {
		t.Errorf("validation share %.3f, want about 0.2", f)
	}
	if testing.Short() || raceEnabled {
		return
	}
	m, err := Train(d, TrainOptions{Seed: 1, Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Info.Validate || m.Info.Sources[SourceCivil] != train {
		t.Errorf("trained on %d Civil Comments posts with Validate, want the %d outside both fifths", m.Info.Sources[SourceCivil], train)
	}
	if dm := defaultModelT(t); dm.Info.Sources[SourceCivil] != train+valid {
		t.Errorf("embedded model trained on %d posts, want %d (the validation fifth included)", dm.Info.Sources[SourceCivil], train+valid)
	}
}
