package lab

import (
	"strings"
	"unicode"
)

// The Civil Comments raters highlight the toxic words of a post, but a span
// counts only when most raters marked it, so an insult is sometimes left
// unmarked. A sentence with such an insult would then be taken as a
// non-toxic news sentence and teach the model that the insult is harmless.
// spanLexicon learns, from the training posts alone, the words raters
// usually mark when they occur; negative sentences containing one are left
// out of training as ambiguous.

// lowerWords splits s into lower-case runs of letters.
func lowerWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && r != '*' })
}

// spanLexicon returns the words that fall inside a toxic span in at least
// minRate of their occurrences in the annotated training posts, counting
// words seen at least minCount times.
func spanLexicon(posts []Example, minRate float64, minCount int) map[string]bool {
	total, inSpan := map[string]int{}, map[string]int{}
	for _, p := range posts {
		if !p.HasSpans {
			continue
		}
		runes := []rune(p.Text)
		marked := make([]bool, len(runes))
		for _, sp := range p.Spans {
			for k := max(sp.Start, 0); k < min(sp.End, len(runes)); k++ {
				marked[k] = true
			}
		}
		start := -1
		for k := 0; k <= len(runes); k++ {
			word := k < len(runes) && (unicode.IsLetter(runes[k]) || runes[k] == '*')
			if word && start < 0 {
				start = k
			}
			if !word && start >= 0 {
				w := strings.ToLower(string(runes[start:k]))
				total[w]++
				for j := start; j < k; j++ {
					if marked[j] {
						inSpan[w]++
						break
					}
				}
				start = -1
			}
		}
	}
	lex := map[string]bool{}
	for w, n := range total {
		if n >= minCount && float64(inSpan[w]) >= minRate*float64(n) {
			lex[w] = true
		}
	}
	return lex
}

// mentionsAny reports whether text has a word of lex.
func mentionsAny(text string, lex map[string]bool) bool {
	for _, w := range lowerWords(text) {
		if lex[w] {
			return true
		}
	}
	return false
}
