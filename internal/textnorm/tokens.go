package textnorm

import (
	"unicode"
	"unicode/utf8"
)

// Flags describe how a Token was read.
type Flags uint8

// Token flags.
const (
	// Leet means leetspeak was decoded: Text differs from the normalised
	// bytes because digits or @ $ ! inside a word stood for letters.
	Leet Flags = 1 << iota
	// Masked means Text contains '*' standing for hidden letters ("f**k",
	// "sh*t", "f#ck", and "f--k" beside the tokens "f" and "k"); word lists
	// match it with '*' as a one-letter wildcard.
	Masked
	// Joined means the word was spelled out one character at a time with the
	// same separator between each ("f.u.c.k", "f u c k", "f*u*c*k", "f. u.
	// c. k"). Text holds the characters alone; character k of Text is at
	// Norm byte Start+k*Stride, so any part of the word can be located.
	Joined
	// Stretched means Text has a run of three or more of the same letter
	// ("fuuuck"); see Unstretch.
	Stretched
	// Number means the token has no letters: Text is digits only.
	Number
)

// Token is one word of a normalised text.
type Token struct {
	// Text is the word as matched: lower-case letters and digits, leetspeak
	// decoded when the word also has letters ("sh1t" → "shit", "@ss" →
	// "ass"), never in numbers ("1984", "$5" → "5", "10th"), and '*' for
	// each masked letter. Where '1' was read as 'i', Alt holds the reading
	// with 'l' ("ki11" → "kiii", "kill"); otherwise Alt is empty.
	Text string
	Alt  string
	// Start and End are the word's byte offsets in Text.Norm; map them to
	// the original with Text.Orig.
	Start, End int
	// Stride is, for a Joined token, the distance in bytes between the
	// starts of consecutive characters in Norm; 0 otherwise.
	Stride int
	Flags  Flags
}

// Has reports whether all flags in f are set on the token.
func (tk Token) Has(f Flags) bool { return tk.Flags&f == f }

// Tokens splits t into words. Words are runs of letters and digits (plus the
// leetspeak symbols @ $ ! and the masks * # inside a word); apostrophes,
// hyphens and other punctuation separate words, so "don't" is "don" and "t".
// Letters spelled out with one repeated separator ("f.u.c.k") are one Joined
// token.
func Tokens(t Text) []Token {
	return AppendTokens(make([]Token, 0, len(t.Norm)/4+4), t)
}

// AppendTokens appends the tokens of t to dst and returns the extended slice,
// so that callers on a hot path can reuse a buffer.
func AppendTokens(dst []Token, t Text) []Token {
	s := t.Norm
	n := len(s)
	for i := 0; i < n; {
		if c := s[i]; c < utf8.RuneSelf {
			if !wordByte[c] {
				i++
				continue
			}
		} else if w, size := wordAt(s, i); !w {
			i += size
			continue
		}
		// Scan the run of word characters, noting on the way whether it
		// is letters only and whether a letter is repeated three times.
		a := i
		plain := true
		var stretch Flags
		var prev byte
		run := 0
		for i < n {
			c := s[i]
			if c >= utf8.RuneSelf {
				w, size := wordAt(s, i)
				if !w {
					break
				}
				i += size
				prev, run = 0, 0
				continue
			}
			if !wordByte[c] {
				break
			}
			if c < 'a' {
				plain = false // a digit or a symbol
			}
			if c == prev {
				run++
				if run == 3 {
					stretch = Stretched
				}
			} else {
				prev, run = c, 1
			}
			i++
		}
		b := i
		switch {
		case b-a == 1 && joinable(s[a]):
			if tk, end, ok := joined(s, a); ok {
				dst = append(dst, tk)
				i = end
				continue
			}
			dst = appendRun(dst, s, a, b)
		case plain:
			dst = append(dst, Token{Text: s[a:b], Start: a, End: b, Flags: stretch})
		default:
			dst = appendRun(dst, s, a, b)
		}
		if plain && b+1 < n && (s[b] == '-' || s[b] == '_') && s[b+1] == s[b] {
			if tk, ok := dashed(s, a, b); ok {
				dst = append(dst, tk)
			}
		}
	}
	return dst
}

// wordAt reports whether the character at s[i] belongs to a word, and its
// size in bytes.
func wordAt(s string, i int) (bool, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return wordByte[c], 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r), size
}

// wordByte marks the ASCII bytes that can be part of a word.
var wordByte = func() (t [utf8.RuneSelf]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "@$!*#" {
		t[c] = true
	}
	return t
}()

// leet maps the characters that stand for letters inside a word.
var leet = [utf8.RuneSelf]byte{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't',
	'@': 'a', '$': 's', '!': 'i',
}

// joinable reports whether c may be one character of a spelled-out word.
func joinable(c byte) bool {
	return 'a' <= c && c <= 'z' || c < utf8.RuneSelf && leet[c] != 0 && c != '!'
}

// separator reports whether c may separate the characters of a spelled-out
// word.
func separator(c byte) bool {
	switch c {
	case ' ', '.', '-', '_', '+', '/', '|', ',', '~', ':', '=', '*', '\\', '^':
		return true
	}
	return false
}

// maxJoined bounds a spelled-out word; a longer run of single characters
// continues as another token.
const maxJoined = 64

// joined reads a spelled-out word starting with the single character at
// s[a]: at least three characters, two of them letters, separated by the same
// one to three bytes of punctuation or space each time ("f.u.c.k", "f. u. c.
// k", "f - u - c - k"). It returns the token and where scanning resumes.
func joined(s string, a int) (Token, int, bool) {
	n := len(s)
	l := 0 // separator length
	for a+1+l < n && l < 3 && separator(s[a+1+l]) {
		l++
	}
	if l == 0 || a+1+l >= n {
		return Token{}, 0, false
	}
	sep := s[a+1 : a+1+l]
	stride := l + 1
	end := a + 1 // just after the last character
	for p := a + stride; p < n && (p-a)/stride < maxJoined && joinable(s[p]); p += stride {
		if p+1 < n {
			if w, _ := wordAt(s, p+1); w {
				break // the next character starts a longer word
			}
		}
		end = p + 1
		if p+1+l > n || s[p+1:p+1+l] != sep {
			break
		}
	}
	count := (end-1-a)/stride + 1
	if count < 3 {
		return Token{}, 0, false
	}
	buf := make([]byte, 0, count)
	letters := 0
	var flags Flags = Joined
	for p := a; p < end; p += stride {
		c := s[p]
		if 'a' <= c && c <= 'z' {
			letters++
		} else {
			c = leet[c]
			flags |= Leet
		}
		buf = append(buf, c)
	}
	if letters < 2 {
		return Token{}, 0, false
	}
	return Token{Text: string(buf), Start: a, End: end, Stride: stride, Flags: flags | stretched(buf)}, end, true
}

// appendRun appends the token(s) of the word run s[a:b].
func appendRun(dst []Token, s string, a, b int) []Token {
	// Punctuation at the edges is not leetspeak or masking: "wow!",
	// "#topic", "*emphasis*".
	lead := false
	for a < b && (s[a] == '!' || s[a] == '*' || s[a] == '#') {
		lead = lead || s[a] == '*'
		a++
	}
	for b > a && (s[b-1] == '!' || s[b-1] == '@' || s[b-1] == '#' || lead && s[b-1] == '*') {
		b--
	}
	if a == b {
		return dst
	}
	var letters, masks, digits, ats, dollars int
	plainDigits := false // digits that never stand for letters: 2 6 8 9
	for i := a; i < b; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || c >= utf8.RuneSelf:
			letters++ // a non-ASCII byte is part of a letter, digit or mark
		case c == '2' || c == '6' || c == '8' || c == '9':
			plainDigits = true
			digits++
		case '0' <= c && c <= '9':
			digits++
		case c == '*' || c == '#':
			masks++
		case c == '@':
			ats++
		case c == '$':
			dollars++
		}
	}
	if letters == 0 {
		// Symbols alone can still spell a word ("@$$", "@55"); a dollar
		// before digits is a price ("$5", "$55").
		symbolWord := ats > 0 && !plainDigits || digits == 0 && dollars >= 2
		if !symbolWord {
			return appendNumbers(dst, s, a, b)
		}
		letters = -1 // not a plain word: decoded below like any leetspeak
	}
	if letters == b-a {
		// The common case: a plain word, Text is a substring of Norm.
		w := s[a:b]
		return append(dst, Token{Text: w, Start: a, End: b, Flags: stretched(w)})
	}
	leetDigits := !plainDigits && !unitSuffix(s[a:b])
	if masks > 0 && masks == (b-a)/2 && b-a >= 5 {
		// "f*u*c*k" is a spelled-out word, "a*s*s" may be one too or a
		// masked five-letter word: keep both readings.
		if tk, ok := alternating(s, a, b); ok {
			dst = append(dst, tk)
		}
	}
	buf := make([]byte, 0, b-a)
	var flags Flags
	hasOne := false
	for i := a; i < b; i++ {
		c := s[i]
		switch {
		case c == '*' || c == '#':
			c = '*'
			flags |= Masked
		case c == '@' || c == '$' || c == '!':
			c = leet[c]
			flags |= Leet
		case '0' <= c && c <= '9' && leetDigits && leet[c] != 0:
			hasOne = hasOne || c == '1'
			c = leet[c]
			flags |= Leet
		}
		buf = append(buf, c)
	}
	tk := Token{Text: string(buf), Start: a, End: b, Flags: flags | stretched(buf)}
	if hasOne {
		for i := a; i < b; i++ {
			if s[i] == '1' {
				buf[i-a] = 'l'
			}
		}
		tk.Alt = string(buf)
	}
	return append(dst, tk)
}

// dashed reads a word masked with dashes or underscores, as newspapers print
// it: "f--k", "f---ing", "a__hole". The letters before the dashes are s[a:b];
// one side must be short (two letters at most) and the whole word at most
// 16 bytes, so that a double dash between words ("yes--honestly") is not
// taken for a mask. The token is added beside the words on either side.
func dashed(s string, a, b int) (Token, bool) {
	c := b
	for c < len(s) && s[c] == s[b] {
		c++
	}
	d := c
	for d < len(s) && 'a' <= s[d] && s[d] <= 'z' {
		d++
	}
	if d == c || d-a > 16 || min(b-a, d-c) > 2 {
		return Token{}, false
	}
	if d < len(s) {
		if w, _ := wordAt(s, d); w {
			return Token{}, false
		}
	}
	buf := make([]byte, 0, d-a)
	buf = append(buf, s[a:b]...)
	for range c - b {
		buf = append(buf, '*')
	}
	buf = append(buf, s[c:d]...)
	return Token{Text: string(buf), Start: a, End: d, Flags: Masked}, true
}

// alternating reads "f*u*c*k": single characters with one mask between each.
func alternating(s string, a, b int) (Token, bool) {
	if (b-a)%2 == 0 {
		return Token{}, false
	}
	buf := make([]byte, 0, (b-a+1)/2)
	var flags Flags = Joined
	for p := a; p < b; p++ {
		c := s[p]
		if (p-a)%2 == 1 {
			if c != '*' && c != '#' {
				return Token{}, false
			}
			continue
		}
		if !joinable(c) {
			return Token{}, false
		}
		if l := leet[c]; l != 0 {
			c = l
			flags |= Leet
		}
		buf = append(buf, c)
	}
	return Token{Text: string(buf), Start: a, End: b, Stride: 2, Flags: flags | stretched(buf)}, true
}

// appendNumbers appends the runs of digits in s[a:b], a run with no letters.
func appendNumbers(dst []Token, s string, a, b int) []Token {
	for i := a; i < b; {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			i += size
			continue
		}
		j := i + size
		for j < b {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsDigit(r) {
				break
			}
			j += size
		}
		dst = append(dst, Token{Text: s[i:j], Start: i, End: j, Flags: Number})
		i = j
	}
	return dst
}

// unitSuffix reports whether w is a number followed by an ordinal or unit
// ("10th", "1st", "1980s", "5km", "3pm"), whose digits are not leetspeak.
func unitSuffix(w string) bool {
	i := 0
	for i < len(w) && '0' <= w[i] && w[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	switch w[i:] {
	case "st", "nd", "rd", "th", "s", "am", "pm", "k", "m", "km", "kg", "g", "mg",
		"ml", "l", "cm", "mm", "ft", "in", "lb", "lbs", "x", "h", "hr", "hrs",
		"min", "mph", "kmh", "p", "yo", "yr", "yrs", "d", "gb", "mb", "tb", "v", "w", "kw":
		return true
	}
	return false
}

// stretched returns Stretched if w has a run of three or more of the same
// byte.
func stretched[T string | []byte](w T) Flags {
	run := 1
	for i := 1; i < len(w); i++ {
		if w[i] == w[i-1] && w[i] != '*' {
			run++
			if run >= 3 {
				return Stretched
			}
		} else {
			run = 1
		}
	}
	return 0
}

// Squeeze collapses every run of a repeated character to one character:
// "fuuuuck" → "fuck", "committee" → "comite". It is a coarse key, fit for
// model features; word lists use Unstretch, which keeps double letters so
// that "buuut" never reads as "butt".
func Squeeze(s string) string {
	repeat := false
	prev := rune(-1)
	for _, r := range s {
		if r == prev {
			repeat = true
			break
		}
		prev = r
	}
	if !repeat {
		return s
	}
	buf := make([]byte, 0, len(s))
	prev = -1
	for _, r := range s {
		if r != prev {
			buf = utf8.AppendRune(buf, r)
		}
		prev = r
	}
	return string(buf)
}

// Unstretch returns the readings of a stretched word: each run of three or
// more of the same character read as one character and as two ("fuuuuck" →
// "fuck", "fuuck"; "asssss" → "as", "ass"), double letters kept as written.
// Word lists look these readings up for a Stretched token, so stretching is
// caught while "but" can never become "butt" nor "heel" become "hell". Only
// the first four stretched runs vary (at most 16 readings); later runs read as
// one character.
func Unstretch(w string) []string {
	type run struct{ start, end int } // byte range of a stretched run's repeats
	var runs []run
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRuneInString(w[i:])
		j, count := i+size, 1
		for j < len(w) {
			r2, size2 := utf8.DecodeRuneInString(w[j:])
			if r2 != r {
				break
			}
			j += size2
			count++
		}
		if count >= 3 && r != '*' {
			runs = append(runs, run{i, j})
		}
		i = j
	}
	if len(runs) == 0 {
		return []string{w}
	}
	vary := min(len(runs), 4)
	out := make([]string, 0, 1<<vary)
	buf := make([]byte, 0, len(w))
	for mask := 0; mask < 1<<vary; mask++ {
		buf = buf[:0]
		prev := 0
		for k, rn := range runs {
			_, size := utf8.DecodeRuneInString(w[rn.start:])
			buf = append(buf, w[prev:rn.start+size]...)
			if k < vary && mask&(1<<k) != 0 {
				buf = append(buf, w[rn.start:rn.start+size]...)
			}
			prev = rn.end
		}
		buf = append(buf, w[prev:]...)
		out = append(out, string(buf))
	}
	return out
}
