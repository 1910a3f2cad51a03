package textnorm

import "strings"

// NameKey returns the key under which two display names count as the same
// name: what is left of the name after Normalize (case, look-alike letters
// from other scripts, full-width and mathematical forms, accents, zero-width
// and bidi characters), with leetspeak decoded as Tokens decodes it, every
// character but letters and digits dropped (so spacing and punctuation
// cannot tell "Ad.min" from "Admin"), 'l' read as 'i' (the two look alike in
// many fonts) and runs of one letter squeezed ("Addmin"). "" when the name
// has no letter or digit.
func NameKey(name string) string {
	var b strings.Builder
	for _, tk := range Tokens(Normalize(name)) {
		b.WriteString(tk.Text)
	}
	key := strings.Map(func(r rune) rune {
		switch {
		case r == 'l':
			return 'i'
		case r == '*':
			return -1
		}
		return r
	}, b.String())
	return Squeeze(key)
}
