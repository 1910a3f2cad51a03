package toxicity

import (
	"strings"
	"unicode"

	"github.com/parleyhq/parley/internal/textnorm"
)

// words splits the normalised text into the model's words, appending them to
// dst: textnorm's tokens (leetspeak decoded, look-alike letters folded,
// spelled-out and masked words joined), with stretched letters squeezed,
// numbers collapsed to "_num" and each link to one "_url". A word followed by
// . ! or ? ends a sentence. buf is reused memory for textnorm's tokens.
func words(t textnorm.Text, dst []token, buf *[]textnorm.Token) []token {
	tks := safeTokens((*buf)[:0], t)
	*buf = tks
	norm := t.Norm
	urlEnd := -1
	for _, tk := range tks {
		if tk.Start < urlEnd {
			continue // inside a link already emitted
		}
		if rest := norm[tk.Start:]; strings.HasPrefix(rest, "http") || strings.HasPrefix(rest, "www") {
			j := strings.IndexByte(rest, ' ')
			if j < 0 {
				j = len(rest)
			}
			if link := rest[:j]; strings.Contains(link, "://") || strings.HasPrefix(link, "www.") {
				urlEnd = tk.Start + j
				dst = append(dst, token{text: "_url", start: tk.Start, end: urlEnd})
				continue
			}
		}
		w := tk.Text
		switch {
		case tk.Has(textnorm.Number):
			w = "_num"
		case tk.Has(textnorm.Stretched):
			w = textnorm.Squeeze(w)
		}
		if onlyMasks(w) {
			continue
		}
		dst = append(dst, token{text: w, start: tk.Start, end: tk.End})
	}
	// Sentence ends: the first non-space byte after a word is . ! or ?.
	for i := range dst {
		for k := dst[i].end; k < len(norm); k++ {
			c := norm[k]
			if c == ' ' || c == '"' || c == '\'' || c == ')' {
				continue
			}
			dst[i].sentEnd = c == '.' || c == '!' || c == '?'
			break
		}
	}
	return dst
}

// safeTokens is textnorm.AppendTokens, falling back to plain runs of letters
// and digits if the tokenizer panics: a comment must always get a score.
func safeTokens(dst []textnorm.Token, t textnorm.Text) (out []textnorm.Token) {
	defer func() {
		if recover() != nil {
			out = plainTokens(dst[:0], t.Norm)
		}
	}()
	return textnorm.AppendTokens(dst, t)
}

// plainTokens splits s into runs of letters and digits.
func plainTokens(dst []textnorm.Token, s string) []textnorm.Token {
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			dst = append(dst, textnorm.Token{Text: s[start:i], Start: start, End: i})
			start = -1
		}
	}
	if start >= 0 {
		dst = append(dst, textnorm.Token{Text: s[start:], Start: start, End: len(s)})
	}
	return dst
}

// onlyMasks reports whether w is made of mask characters alone ("***").
func onlyMasks(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] != '*' && w[i] != '#' {
			return false
		}
	}
	return true
}
