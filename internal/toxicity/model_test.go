package toxicity

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func defaultModelT(t testing.TB) *Model {
	t.Helper()
	m, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return m
}

func TestDefaultLoadsQuickly(t *testing.T) {
	start := time.Now()
	m, err := Load(bytes.NewReader(defaultModel))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("embedded model: %d bytes, loaded in %s", len(defaultModel), took)
	limit := time.Second
	if raceEnabled {
		limit = 10 * time.Second
	}
	if took > limit {
		t.Errorf("loading the embedded model took %s, want under %s", took, limit)
	}
	if len(defaultModel) > 16<<20 {
		t.Errorf("embedded model is %d bytes, want at most 16 MB", len(defaultModel))
	}
	if m.Info.Baseline || len(m.Info.Licences) > 0 {
		t.Errorf("embedded model must be the recipe trained on permissive sources only: %+v", m.Info)
	}
	for _, s := range []string{"olid", "globe_and_mail"} { // lab.Restricted
		if m.Info.Sources[s] > 0 {
			t.Errorf("embedded model trained on restricted source %s", s)
		}
	}
}

func TestMaskQuotes(t *testing.T) {
	tests := []struct {
		name, text, quote string
		gone, kept        []string
	}{
		{
			name: "markdown block quote", text: "> you are an idiot\n\nI disagree with that.",
			gone: []string{"idiot"}, kept: []string{"I disagree"},
		},
		{
			name: "inline quote of the parent", text: `You wrote "immigrants are rats" and that is vile.`, quote: "immigrants are rats",
			gone: []string{"rats"}, kept: []string{"You wrote", "vile"},
		},
		{
			name: "re-wrapped multi-line quote", text: "> women are too stupid\n> to vote\n\nNonsense.", quote: "women are too stupid to vote",
			gone: []string{"stupid", "vote"}, kept: []string{"Nonsense"},
		},
		{
			name: "quote not in text", text: "plain words", quote: "something else",
			kept: []string{"plain words"},
		},
		{
			name: "greater-than inside a line is not a quote", text: "3 > 2, you idiot",
			kept: []string{"idiot"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf []byte
			got := maskQuotes(tt.text, tt.quote, &buf)
			if len(got) != len(tt.text) {
				t.Fatalf("masking changed the length: %d, want %d", len(got), len(tt.text))
			}
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("%q still in %q", g, got)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(got, k) {
					t.Errorf("%q missing from %q", k, got)
				}
			}
		})
	}
}

func TestScoreIgnoresQuotedWords(t *testing.T) {
	m := defaultModelT(t)
	parent := "You are a worthless idiot and a disgusting pig."
	tests := []struct {
		name, text, quote string
		held              bool
	}{
		{"author's own insult", parent, "", true},
		{"block-quoted parent", "> " + parent + "\n\nPlease keep it civil, this is a news site.", parent, false},
		{"parent quoted inline", `Someone wrote "` + parent + `" — please keep it civil.`, parent, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := m.Score(tt.text, tt.quote)
			if got := s.Toxicity >= m.Threshold; got != tt.held {
				t.Errorf("toxicity %.3f (threshold %.2f): held %v, want %v", s.Toxicity, m.Threshold, got, tt.held)
			}
			runes := []rune(tt.text)
			for _, e := range s.Evidence {
				if tt.quote != "" && strings.Contains(tt.quote, string(runes[e.Start:e.End])) && len(string(runes[e.Start:e.End])) > 3 {
					t.Errorf("evidence %q comes from the quote", string(runes[e.Start:e.End]))
				}
			}
		})
	}
}

func TestEvidenceLocatesOriginalText(t *testing.T) {
	m := defaultModelT(t)
	tests := []struct {
		name, text string
		feature    string // the normalised word that must be in the evidence
		original   string // its text in the original
	}{
		{"plain", "Honestly, you are an idiot.", "idiot", "idiot"},
		{"after non-ASCII text", "Ça suffit 😀 — tu es un idiot, you idiot", "idiot", "idiot"},
		{"leetspeak", "You are an 1d10t, go away", "idiot", "1d10t"},
		{"capitals", "What a STUPID comment", "stupid", "STUPID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := m.Score(tt.text, "")
			if len(s.Evidence) == 0 {
				t.Fatalf("no evidence for %q (toxicity %.3f)", tt.text, s.Toxicity)
			}
			runes := []rune(tt.text)
			found := false
			for i, e := range s.Evidence {
				if e.Start < 0 || e.End > len(runes) || e.Start >= e.End {
					t.Fatalf("evidence %d span %v outside the text", i, e.Span)
				}
				if i > 0 && e.Weight > s.Evidence[i-1].Weight {
					t.Errorf("evidence not strongest first: %v", s.Evidence)
				}
				if e.Feature == tt.feature {
					found = true
					if got := string(runes[e.Start:e.End]); got != tt.original {
						t.Errorf("evidence %q located at %q, want %q", e.Feature, got, tt.original)
					}
				}
			}
			if !found {
				t.Errorf("evidence %v lacks %q", s.Evidence, tt.feature)
			}
		})
	}
}

func TestScoreConcurrent(t *testing.T) {
	m := defaultModelT(t)
	texts := []string{"You are an idiot.", "Thanks for the article.", "Muslims are my neighbours.", "> quoted idiot\n\nok"}
	want := make([]float64, len(texts))
	for i, tx := range texts {
		want[i] = m.Score(tx, "").Toxicity
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				i := (g + k) % len(texts)
				if got := m.Score(texts[i], "").Toxicity; got != want[i] {
					t.Errorf("concurrent score of %q = %v, want %v", texts[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestScoreEdgeInputs(t *testing.T) {
	m := defaultModelT(t)
	huge := strings.Repeat("The council voted on the budget again. ", 25000) // ~1 MB
	tests := []struct {
		name, text, quote string
	}{
		{"empty", "", ""},
		{"white space", " \n\t ", ""},
		{"only a quote", "> you idiot", "you idiot"},
		{"punctuation", "?!... ---", ""},
		{"invalid UTF-8", "bad \xff\xfe bytes idiot", ""},
		{"one megabyte", huge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			s := m.Score(tt.text, tt.quote)
			for name, v := range map[string]float64{"toxicity": s.Toxicity, "identity": s.IdentityAttack, "spam": s.Spam} {
				if math.IsNaN(v) || v < 0 || v > 1 {
					t.Errorf("%s = %v, want in [0,1]", name, v)
				}
			}
			if tt.text != huge && s.Toxicity >= m.Threshold && tt.name != "invalid UTF-8" {
				t.Errorf("toxicity %.3f held for %q", s.Toxicity, tt.text)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}

// TestEvidenceNeverNamesAGroup: the words that explain a score are what a
// comment says about a group, never the group's name.
func TestEvidenceNeverNamesAGroup(t *testing.T) {
	m := defaultModelT(t)
	for _, text := range []string{
		"Muslims are vermin and should all be deported, every last one of them.",
		"Jews are parasites and everyone knows it.",
		"Gay people are disgusting freaks.",
		"Go back to your country, immigrant scum.",
	} {
		s := m.Score(text, "")
		if len(s.Evidence) == 0 {
			t.Errorf("%q: no evidence", text)
		}
		for _, e := range s.Evidence {
			w := strings.ToLower(string([]rune(text)[e.Span.Start:e.Span.End]))
			if isIdentityToken(w) || isIdentityToken(strings.TrimSuffix(w, "s")) {
				t.Errorf("%q: evidence %q names a group", text, w)
			}
		}
	}
}
