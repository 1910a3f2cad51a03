// Package textnorm normalises comment text so that word lists and the
// toxicity model see through the usual evasions (case, full-width and
// mathematical letters, accents, zero-width and bidi controls, Cyrillic and
// Greek look-alikes, leetspeak, stretched letters, letters spelled out with
// separators, masking with asterisks) while every normalised byte still knows
// where it came from in the text the reader wrote.
//
// Normalize produces a Text; Tokens splits it into words. Both are pure,
// allocation-light and safe for concurrent use.
package textnorm

import (
	"sort"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"

	"github.com/parleyhq/parley"
)

// Text is a normalised text that remembers where each normalised byte came
// from in the original string.
//
// Norm is the original after, in order: Unicode compatibility normalisation
// (NFKC), removal of combining marks on Latin, Greek and Cyrillic letters
// ("fück" → "fuck"), removal of default-ignorable code points (zero-width
// characters, bidi controls, soft hyphens, variation selectors) and of other
// control characters, full case folding, mapping of Cyrillic, Greek and other
// look-alike letters to the Latin letter they imitate, typographic quotes and
// dashes to their ASCII forms, and collapsing every run of white space to one
// space. Digits and symbols are kept: leetspeak is decoded per word by Tokens,
// where it can be told apart from numbers.
type Text struct {
	// Norm is the normalised text, valid UTF-8.
	Norm string

	segs    []seg // how Norm maps back to the original; sorted by n
	origLen int
}

// seg maps the bytes of Norm from n up to the next seg's n back to the
// original. When w is 0 the mapping is linear (byte n+k came from byte o+k,
// used for bytes copied through or ASCII letters lower-cased); otherwise every
// byte came from the same original unit [o, o+w).
type seg struct {
	n, o, w int32
}

// Normalize returns the normalised form of s. It never fails: invalid UTF-8
// bytes are dropped.
func Normalize(s string) Text {
	b := builder{out: make([]byte, 0, len(s)+len(s)/8+8), segs: make([]seg, 0, 8)}
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i = b.asciiRun(s, i)
			if i >= len(s) {
				break
			}
		}
		// A non-ASCII run, with the ASCII letter before it that its
		// combining marks may belong to (asciiRun leaves it). NFKC has a
		// boundary before every ASCII character, so the run can be
		// normalised on its own.
		j := i + 1
		for j < len(s) && s[j] >= utf8.RuneSelf {
			j++
		}
		b.slow(s[i:j], i)
		i = j
	}
	t := Text{segs: b.segs, origLen: len(s)}
	if len(b.out) > 0 {
		// The buffer is never written again, so it can back the string
		// without a copy.
		t.Norm = unsafe.String(&b.out[0], len(b.out))
	}
	return t
}

// ASCII byte classes for the fast path.
const (
	aCopy  = iota // written through
	aUpper        // written lower-cased
	aSpace        // white space, collapsed
	aDrop         // control character, dropped
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c == ' ' || '\t' <= c && c <= '\r':
			t[c] = aSpace
		case c < 0x20 || c == 0x7f:
			t[c] = aDrop
		case 'A' <= c && c <= 'Z':
			t[c] = aUpper
		}
	}
	return t
}()

// asciiRun normalises the ASCII bytes of s from i and returns where it
// stopped: at the end, or at a non-ASCII byte, or at the ASCII byte before a
// non-ASCII one when that byte may carry combining marks.
func (b *builder) asciiRun(s string, i int) int {
	b.lastLGC = true
	out := b.out
	for i < len(s) {
		// Copy the longest run that maps linearly.
		b.out = out
		b.linear(i)
		k := i
		for ; k < len(s); k++ {
			c := s[k]
			if c >= utf8.RuneSelf {
				break
			}
			switch asciiClass[c] {
			case aUpper:
				c += 'a' - 'A'
			case aSpace:
				if b.lastSpace {
					goto stop
				}
				out = append(out, ' ')
				b.lastSpace = true
				continue
			case aDrop:
				goto stop
			}
			out = append(out, c)
			b.lastSpace = false
		}
	stop:
		if k < len(s) && s[k] >= utf8.RuneSelf {
			// Leave a letter or symbol before a non-ASCII byte to the
			// slow path, with the marks that may follow it.
			if k > i && asciiClass[s[k-1]] < aSpace {
				out = out[:len(out)-1]
				k--
				b.lastSpace = len(out) > 0 && out[len(out)-1] == ' '
			}
			b.out = out
			b.trim()
			return k
		}
		if k == len(s) {
			b.out = out
			b.trim()
			return k
		}
		// A collapsed space or a control character: skip it.
		i = k + 1
		b.out = out
		b.trim()
	}
	b.out = out
	return i
}

// trim removes a trailing record that no output byte uses.
func (b *builder) trim() {
	if k := len(b.segs) - 1; k >= 0 && int(b.segs[k].n) == len(b.out) {
		b.segs = b.segs[:k]
	}
}

// builder accumulates Norm and its map back to the original.
type builder struct {
	out       []byte
	segs      []seg
	lastSpace bool   // the last byte written is a space
	lastLGC   bool   // the last letter written was Latin, Greek or Cyrillic: marks after it are dropped
	scratch   []byte // NFKC output of the current segment
	scratch2  []byte // its NFD form when marks are stripped
}

// linear records that the next output byte came from original byte o.
func (b *builder) linear(o int) {
	n := len(b.out)
	if k := len(b.segs) - 1; k >= 0 {
		last := b.segs[k]
		if last.w == 0 && int(last.o)+(n-int(last.n)) == o {
			return
		}
	}
	b.segs = append(b.segs, seg{n: int32(n), o: int32(o)})
}

// unit records that the next output bytes, up to the next record, came from
// the original range [o, o+w).
func (b *builder) unit(o, w int) {
	b.segs = append(b.segs, seg{n: int32(len(b.out)), o: int32(o), w: int32(w)})
}

// ascii handles one ASCII byte c at original offset i.
func (b *builder) ascii(c byte, i int) {
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
		if b.lastSpace {
			return
		}
		b.linear(i)
		b.out = append(b.out, ' ')
		b.lastSpace = true
		return
	case c < 0x20 || c == 0x7f:
		return // other control characters carry no text
	case 'A' <= c && c <= 'Z':
		c += 'a' - 'A'
	}
	b.linear(i)
	b.out = append(b.out, c)
	b.lastSpace = false
}

// slow handles a chunk of text starting at original offset off that contains
// non-ASCII bytes, one NFKC segment (a starter and its combining marks) at a
// time, so that each output byte maps back to its segment.
func (b *builder) slow(chunk string, off int) {
	var props, next norm.Properties
	propsAt := -1 // where props was looked up
	for p := 0; p < len(chunk); {
		r, size := utf8.DecodeRuneInString(chunk[p:])
		if r == utf8.RuneError && size == 1 {
			p++ // an invalid byte: drop it, Norm stays valid UTF-8
			continue
		}
		if propsAt != p {
			props = norm.NFKC.PropertiesString(chunk[p:])
		}
		q := p + size
		if q < len(chunk) {
			next = norm.NFKC.PropertiesString(chunk[q:])
		}
		// The common case: a character NFKC leaves alone that does not
		// combine with the next one is a segment by itself.
		if len(props.Decomposition()) == 0 && props.CCC() == 0 && (q == len(chunk) || next.BoundaryBefore()) {
			b.rune1(chunk[p:q], r, off+p)
			props, propsAt, p = next, q, q
			continue
		}
		q = p + norm.NFKC.NextBoundaryInString(chunk[p:], true)
		if q <= p {
			q = p + size
		}
		b.segment(chunk[p:q], off+p)
		p = q
	}
}

// rune1 normalises a character r, written s, at original offset o that NFKC
// leaves unchanged.
func (b *builder) rune1(s string, r rune, o int) {
	w := len(s)
	if 0x3040 <= r && r <= 0x30FF || 0x3400 <= r && r <= 0x9FFF || 0xAC00 <= r && r <= 0xD7A3 {
		// Kana, CJK ideographs and Hangul syllables: no case, no marks, no
		// look-alikes of Latin letters.
		b.lastLGC = false
		b.linear(o)
		b.out = append(b.out, s...)
		b.lastSpace = false
		return
	}
	if r < utf8.RuneSelf {
		b.ascii(byte(r), o)
		b.lastLGC = true
		return
	}
	if rep, ok := typographic(r); ok {
		if rep == ' ' {
			b.space(o, w)
			return
		}
		b.unit(o, w)
		b.out = append(b.out, rep)
		b.lastSpace = false
		return
	}
	switch {
	case r <= 0x9F || ignorable(r): // C1 controls and invisible characters
		return
	case unicode.IsSpace(r):
		b.space(o, w)
		return
	case unicode.In(r, unicode.Mn, unicode.Me):
		if b.lastLGC {
			return // a stray mark on a Latin, Greek or Cyrillic letter
		}
		b.linear(o)
		b.out = utf8.AppendRune(b.out, r)
		b.lastSpace = false
		return
	}
	if l := letterSymbol(r); l != 0 {
		b.lastLGC = true
		b.unit(o, w)
		b.out = append(b.out, l)
		b.lastSpace = false
		return
	}
	b.lastLGC = stripsMarks(r)
	start := len(b.out)
	mark := len(b.segs)
	b.unit(o, w)
	b.appendFolded(r)
	if string(b.out[start:]) == s {
		// Unchanged: map linearly, which keeps the map short.
		b.segs = b.segs[:mark]
		b.out = b.out[:start]
		b.linear(o)
		b.out = append(b.out, s...)
	}
}

// segment normalises one NFKC segment found at original offset o.
func (b *builder) segment(s string, o int) {
	if len(s) == 1 && s[0] < utf8.RuneSelf {
		b.ascii(s[0], o)
		return
	}
	if r, size := utf8.DecodeRuneInString(s); size == len(s) {
		if r == utf8.RuneError && size == 1 {
			return // an invalid byte: drop it, Norm stays valid UTF-8
		}
		if rep, ok := typographic(r); ok {
			if rep == ' ' {
				b.space(o, len(s))
				return
			}
			b.unit(o, len(s))
			b.out = append(b.out, rep)
			b.lastSpace = false
			return
		}
	}
	nf := norm.NFKC.AppendString(b.scratch[:0], s)
	b.scratch = nf
	base := first(nf)
	strip := stripsMarks(base)
	if unicode.In(base, unicode.Mn, unicode.Me) {
		strip = b.lastLGC
	} else {
		b.lastLGC = strip
	}
	if strip && hasNonASCII(nf) {
		b.scratch2 = norm.NFD.Append(b.scratch2[:0], nf...)
		nf = b.scratch2
	}
	start := len(b.out)
	mark := len(b.segs)
	b.unit(o, len(s))
	for k := 0; k < len(nf); {
		r, size := utf8.DecodeRune(nf[k:])
		k += size
		if r == utf8.RuneError && size == 1 {
			continue
		}
		if r < utf8.RuneSelf {
			c := byte(r)
			if c == ' ' || ('\t' <= c && c <= '\r') {
				b.appendSpace()
				continue
			}
			if c < 0x20 || c == 0x7f {
				continue
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.out = append(b.out, c)
			b.lastSpace = false
			continue
		}
		if ignorable(r) || unicode.Is(unicode.Cc, r) {
			continue
		}
		if unicode.IsSpace(r) {
			b.appendSpace()
			continue
		}
		if strip && unicode.In(r, unicode.Mn, unicode.Me) {
			continue
		}
		if rep, ok := typographic(r); ok {
			b.out = append(b.out, rep)
			b.lastSpace = false
			continue
		}
		b.appendFolded(r)
	}
	if len(b.out) == start {
		b.segs = b.segs[:mark] // nothing written: drop the record
		return
	}
	// A segment copied through unchanged maps linearly, which keeps the map
	// short for text in other scripts.
	if string(b.out[start:]) == s {
		b.segs = b.segs[:mark]
		b.out = b.out[:start]
		b.linear(o)
		b.out = append(b.out, s...)
	}
}

// space writes one space for an original unit [o, o+w) unless the output
// already ends with a space.
func (b *builder) space(o, w int) {
	if b.lastSpace {
		return
	}
	b.unit(o, w)
	b.out = append(b.out, ' ')
	b.lastSpace = true
}

// appendSpace writes a space within the current unit unless the output
// already ends with one.
func (b *builder) appendSpace() {
	if b.lastSpace {
		return
	}
	b.out = append(b.out, ' ')
	b.lastSpace = true
}

// appendFolded writes r case-folded and with look-alikes mapped to Latin.
func (b *builder) appendFolded(r rune) {
	switch r {
	case 'ß', 'ẞ':
		b.out = append(b.out, 's', 's')
		b.lastSpace = false
		return
	case 'æ', 'Æ', 'ӕ', 'Ӕ':
		b.out = append(b.out, 'a', 'e')
		b.lastSpace = false
		return
	case 'œ', 'Œ':
		b.out = append(b.out, 'o', 'e')
		b.lastSpace = false
		return
	}
	r = unicode.ToLower(r)
	if r == 'ς' {
		r = 'σ' // full case folding: final sigma is sigma
	}
	if l, ok := confusables[r]; ok {
		b.out = append(b.out, l)
	} else {
		b.out = utf8.AppendRune(b.out, r)
	}
	b.lastSpace = false
}

func first(b []byte) rune {
	r, _ := utf8.DecodeRune(b)
	return r
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// stripsMarks reports whether combining marks on base letter r are removed:
// true for Latin, Greek and Cyrillic, where marks are decoration that evasion
// abuses ("fück", "Z̷a̷l̷g̷o̷"), and for a mark with no base letter.
func stripsMarks(r rune) bool {
	switch {
	case r < 0x0530: // Latin, IPA, spacing modifiers, combining marks, Greek, Cyrillic
		return true
	case 0x1D00 <= r && r < 0x2000: // phonetic extensions, Latin and Greek extended
		return true
	case 0x2C60 <= r && r < 0x2C80, 0xA640 <= r && r < 0xA6A0, 0xA720 <= r && r < 0xA800, 0xAB30 <= r && r < 0xAB70:
		return true
	case unicode.In(r, unicode.Mn, unicode.Me):
		return true
	}
	return false
}

// ignorable reports whether r is a default-ignorable code point that renders
// as nothing: zero-width spaces and joiners, bidi controls, the soft hyphen,
// variation selectors, invisible operators, tags.
func ignorable(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160,
		r == 0x17B4, r == 0x17B5, r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case 0x180B <= r && r <= 0x180F, 0x200B <= r && r <= 0x200F,
		0x202A <= r && r <= 0x202E, 0x2060 <= r && r <= 0x206F,
		0xFE00 <= r && r <= 0xFE0F, 0xFFF0 <= r && r <= 0xFFF8,
		0x1BCA0 <= r && r <= 0x1BCA3, 0x1D173 <= r && r <= 0x1D17A,
		0xE0000 <= r && r <= 0xE0FFF:
		return true
	}
	return false
}

// letterSymbol returns the letter that a letter-shaped symbol NFKC leaves
// alone stands for (negative circled and squared letters, regional
// indicators: "🅵🆄🅲🅺", "🇫🇺🇨🇰"), or 0.
func letterSymbol(r rune) byte {
	switch {
	case 0x1F150 <= r && r <= 0x1F169:
		return byte('a' + r - 0x1F150)
	case 0x1F170 <= r && r <= 0x1F189:
		return byte('a' + r - 0x1F170)
	case 0x1F1E6 <= r && r <= 0x1F1FF:
		return byte('a' + r - 0x1F1E6)
	}
	return 0
}

// typographic maps typographic quotes, dashes and spaces to ASCII.
func typographic(r rune) (byte, bool) {
	switch r {
	case '\u2018', '\u2019', '\u201A', '\u201B', '\u2032', '\u02BC', '\u00B4', '\u0060':
		return '\'', true
	case '\u201C', '\u201D', '\u201E', '\u201F', '\u2033', '\u00AB', '\u00BB':
		return '"', true
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
		return '-', true
	case '\u00A0', '\u2007', '\u202F', '\u2028', '\u2029', '\u0085', '\u3000', '\u1680':
		return ' ', true
	}
	return 0, false
}

// Orig maps the byte range [start, end) of Norm to the byte range of the
// original text it came from. The result always lies within the original and
// on rune boundaries; out-of-range arguments are clamped.
func (t Text) Orig(start, end int) (int, int) {
	n := len(t.Norm)
	start = min(max(start, 0), n)
	end = min(max(end, start), n)
	empty := start == end
	for start > 0 && start < n && !utf8.RuneStart(t.Norm[start]) {
		start--
	}
	for end < n && !utf8.RuneStart(t.Norm[end]) {
		end++
	}
	if empty {
		if n == 0 {
			return 0, 0
		}
		if start == n {
			p := t.hi(n - 1)
			return p, p
		}
		p := t.lo(start)
		return p, p
	}
	return t.lo(start), t.hi(end - 1)
}

// find returns the seg holding Norm byte i.
func (t Text) find(i int) (seg, bool) {
	k := sort.Search(len(t.segs), func(k int) bool { return int(t.segs[k].n) > i }) - 1
	if k < 0 {
		return seg{}, false
	}
	return t.segs[k], true
}

// lo is the original offset where Norm byte i's source starts.
func (t Text) lo(i int) int {
	s, ok := t.find(i)
	if !ok {
		return 0
	}
	if s.w == 0 {
		return min(int(s.o)+i-int(s.n), t.origLen)
	}
	return int(s.o)
}

// hi is the original offset where Norm byte i's source ends.
func (t Text) hi(i int) int {
	s, ok := t.find(i)
	if !ok {
		return 0
	}
	if s.w == 0 {
		return min(int(s.o)+i-int(s.n)+1, t.origLen)
	}
	return int(s.o + s.w)
}

// RuneSpan converts the byte range [byteStart, byteEnd) of s into a
// parley.Span counting code points, as the API and the moderator UI expect.
// Offsets are clamped to s; an offset inside a multi-byte character counts
// that character as started.
func RuneSpan(s string, byteStart, byteEnd int) parley.Span {
	byteStart = min(max(byteStart, 0), len(s))
	byteEnd = min(max(byteEnd, byteStart), len(s))
	start := utf8.RuneCountInString(s[:byteStart])
	return parley.Span{Start: start, End: start + utf8.RuneCountInString(s[byteStart:byteEnd])}
}
