package moderation

import (
	"strings"
	"unicode"

	"github.com/parleyhq/parley"
)

// RuleGroupAttack accompanies a toxicity reason when the model reads the
// comment as an attack on a group of people. It changes no outcome (the
// toxicity rule decided); it says which policy point the comment touches.
const RuleGroupAttack = "group_attack"

// Policy points: what a writer is told their text touches, in place of
// the evidence. Stable ids; the widget words them in the reader's language.
const (
	PointGroup  = "group"  // attacks a group of people
	PointInsult = "insult" // reads as an insult or abuse
	PointWords  = "words"  // uses language the site's word lists do not allow
	PointLinks  = "links"  // more links than the site publishes unreviewed
	PointLength = "length" // longer than the site allows
)

// AuthorPoints returns the policy points a decision's reasons touch, for
// the comment's author, without the evidence: telling a writer which words
// tripped a list would teach them what to disguise. Reasons about the
// reader or the site (pre-moderation, flood) touch no point of the text.
// When the comment reads as an attack on a group, that is said instead of
// the general insult.
func AuthorPoints(reasons []parley.Reason) []string {
	group := false
	for _, r := range reasons {
		group = group || r.Rule == RuleGroupAttack
	}
	var out []string
	add := func(p string) {
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	for _, r := range reasons {
		switch r.Rule {
		case RuleGroupAttack, RuleNameGroup:
			add(PointGroup)
		case RuleNameInsult:
			add(PointInsult)
		case RuleNameWords:
			add(PointWords)
		case RuleToxicity:
			if !group {
				add(PointInsult)
			}
		case RuleBannedWord, RuleSuspectWord:
			add(PointWords)
		case RuleMaxLinks:
			add(PointLinks)
		case RuleMaxLength:
			add(PointLength)
		}
	}
	return out
}

// AuthorPoint is the policy point of one reason ("" for none): the rule's
// point, as AuthorPoints gives it for the reason alone.
func AuthorPoint(r parley.Reason) string {
	if ps := AuthorPoints([]parley.Reason{r}); len(ps) > 0 {
		return ps[0]
	}
	return ""
}

// functionWords are the words that carry grammar, not meaning, in the
// languages Parley ships: never evidence, so never highlighted for a
// moderator even when the model's n-grams include them ("are vermin").
var functionWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		a an the and or but nor so if then than that this these those there here of to in on at by for from with
		without into onto over under about as is are was were be been being am do does did done have has had having
		will would shall should can could may might must not no it its it's they them their theirs he him his she her
		hers we us our you your yours i me my mine who whom whose which what when where why how all any some such
		just very too also only out up down off again more most
		le la les un une des du de et ou mais donc que qui est sont il ils elle elles nous vous je tu ce cette ces
		der die das ein eine einen und oder aber ist sind sie er es wir ihr ich du nicht zu von mit den dem des
		el los las unos unas y o pero es son ellos ellas nosotros que de del en por para con se lo
		il lo gli uno e ma che di da per con sono gli
		في من على إلى عن هو هي هم أن إن ما لا و`) {
		m[w] = true
	}
	return m
}()

// trimFunctionWords narrows a span of text (code-point offsets) to its
// words of meaning: function words and the spaces and punctuation around
// them are taken off both ends. ok is false when nothing of meaning is left.
func trimFunctionWords(text []rune, sp parley.Span) (parley.Span, bool) {
	if sp.Start < 0 || sp.End > len(text) || sp.Start >= sp.End {
		return sp, false
	}
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’' }
	// words lists the [start, end) of each word in the span.
	var words [][2]int
	for i := sp.Start; i < sp.End; {
		if !isWord(text[i]) {
			i++
			continue
		}
		j := i
		for j < sp.End && isWord(text[j]) {
			j++
		}
		words = append(words, [2]int{i, j})
		i = j
	}
	meaning := func(w [2]int) bool {
		return !functionWords[strings.ToLower(strings.ReplaceAll(string(text[w[0]:w[1]]), "’", "'"))]
	}
	first, last := 0, len(words)-1
	for first <= last && !meaning(words[first]) {
		first++
	}
	for last >= first && !meaning(words[last]) {
		last--
	}
	if first > last {
		return sp, false
	}
	return parley.Span{Start: words[first][0], End: words[last][1]}, true
}
