package moderation

import (
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

// TestToxicityEvidenceHasNoFunctionWords checks that the moderator's
// evidence never marks a function word: an n-gram's span is narrowed to
// its words of meaning, and one made only of function words is dropped.
func TestToxicityEvidenceHasNoFunctionWords(t *testing.T) {
	const text = "They are vermin and a plague, they should go."
	at := func(sub string) parley.Span {
		i := strings.Index(text, sub)
		return parley.Span{Start: len([]rune(text[:i])), End: len([]rune(text[:i])) + len([]rune(sub))}
	}
	scorer := scorerFunc(func(string, string) parley.Scores {
		return parley.Scores{Toxicity: 0.95, IdentityAttack: 0.92, Evidence: []parley.Evidence{
			{Span: at("are vermin"), Feature: "are vermin", Weight: 2},
			{Span: at("a plague"), Feature: "a plague", Weight: 1.5},
			{Span: at("they should"), Feature: "they should", Weight: 1},
			{Span: at("are"), Feature: "are", Weight: 0.8},
			{Span: at("vermin"), Feature: "vermin", Weight: 0.5}, // the same word again
		}}
	})
	pl := compile(t, DefaultPolicy())
	d := pl.Decide(Input{Text: text, Scorer: scorer})
	if len(d.Reasons) != 2 || d.Reasons[0].Rule != RuleToxicity || d.Reasons[1].Rule != RuleGroupAttack {
		t.Fatalf("reasons = %+v, want toxicity and group_attack", d.Reasons)
	}
	var marked []string
	for _, sp := range d.Reasons[0].Spans {
		marked = append(marked, string([]rune(text)[sp.Start:sp.End]))
	}
	if want := []string{"vermin", "plague"}; !slices.Equal(marked, want) {
		t.Errorf("evidence marks %q, want %q", marked, want)
	}
	if msg := d.Reasons[0].Message; strings.Contains(msg, `"are"`) || strings.Contains(msg, `"they should"`) {
		t.Errorf("message %q names function words as the strongest", msg)
	}
}

// TestAuthorPoints checks what a writer is told their text touches: the
// policy point, never the words.
func TestAuthorPoints(t *testing.T) {
	r := func(rule string) parley.Reason {
		return parley.Reason{Rule: rule, Message: "banned word \"idiot\"", Spans: []parley.Span{{Start: 0, End: 5}}}
	}
	for _, tt := range []struct {
		name    string
		reasons []parley.Reason
		want    []string
	}{
		{"insult", []parley.Reason{r(RuleToxicity)}, []string{PointInsult}},
		{"attack on a group", []parley.Reason{r(RuleToxicity), r(RuleGroupAttack)}, []string{PointGroup}},
		{"word lists", []parley.Reason{r(RuleBannedWord), r(RuleSuspectWord)}, []string{PointWords}},
		{"links and length", []parley.Reason{r(RuleMaxLength), r(RuleMaxLinks)}, []string{PointLength, PointLinks}},
		{"not about the text", []parley.Reason{r(RulePremodNew), r(RuleFlood), r(RuleTrust)}, nil},
	} {
		if got := AuthorPoints(tt.reasons); !slices.Equal(got, tt.want) {
			t.Errorf("%s: AuthorPoints = %v, want %v", tt.name, got, tt.want)
		}
	}
}
