package textnorm

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ascii lower-cased", "Hello World", "hello world"},
		{"whitespace collapsed", "a  \t\n\n b", "a b"},
		{"leading and trailing space kept once", "  a  ", " a "},
		{"fullwidth", "ＦＵＣＫ ｙｏｕ", "fuck you"},
		{"mathematical bold", "𝐟𝐮𝐜𝐤", "fuck"},
		{"enclosed letters", "ⓘⓓⓘⓞⓣ", "idiot"},
		{"zero-width space", "fu\u200bck", "fuck"},
		{"zero-width joiner and non-joiner", "i\u200dd\u200ciot", "idiot"},
		{"bidi override", "\u202Eidiot\u202C", "idiot"},
		{"bidi isolates", "\u2066id\u2069iot", "idiot"},
		{"soft hyphen", "id\u00ADiot", "idiot"},
		{"word joiner and BOM", "\uFEFFid\u2060iot", "idiot"},
		{"variation selector", "idi\uFE0Fot", "idiot"},
		{"control characters dropped", "id\x00io\x7ft", "idiot"},
		{"accents stripped", "Fück Crétin naïve", "fuck cretin naive"},
		{"combining marks stripped", "e\u0301e\u0300", "ee"},
		{"zalgo", "Z̷a̷l̷g̷o̷", "zalgo"},
		{"cyrillic look-alikes", "ѕһіт сосk", "shit cock"},
		{"cyrillic upper case", "ВАТНRООМ", "bathroom"},
		{"greek look-alikes", "ΙDΙΟΤ ραt", "idiot pat"},
		{"mixed script", "іdіоt", "idiot"},
		{"sharp s folded", "STRASSE straße", "strasse strasse"},
		{"dotted capital i", "İdiot", "idiot"},
		{"typographic quotes", "don’t “say” it", "don't \"say\" it"},
		{"dashes", "a–b—c", "a-b-c"},
		{"no-break space collapses with space", "a\u00A0 b", "a b"},
		{"ellipsis", "wait…", "wait..."},
		{"ligature", "ﬁne", "fine"},
		{"cjk kept", "日本語 テキスト", "日本語 テキスト"},
		{"arabic kept with marks", "مَرْحَبًا", "مَرْحَبًا"},
		{"digits kept", "Call 555-1234 in 1984", "call 555-1234 in 1984"},
		{"invalid utf-8 dropped", "id\xffiot", "idiot"},
		{"ae ligature", "Æther", "aether"},
		{"devanagari keeps its vowel signs", "हिंदी समाचार", "हिंदी समाचार"},
		{"stray mark after a space", "a ́b", "a b"},
		{"hangul", "한국어", "한국어"},
		{"greek final sigma", "ΛΟΓΟΣ λόγος", "λoyoσ λoyoσ"},
		{"cyrillic with breve", "Й", "u"},
		{"negative squared letters", "🅵🆄🅲🅺", "fuck"},
		{"negative circled letters", "🅕🅤🅒🅚", "fuck"},
		{"regional indicators", "🇫🇺🇨🇰", "fuck"},
		{"small capitals", "ꜰᴜᴄᴋ", "fuck"},
		{"modifier letters", "ᶠᵘᶜᵏ", "fuck"},
		{"fraktur", "ℱ𝔲𝔠𝔨", "fuck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(tt.in)
			if got.Norm != tt.want {
				t.Errorf("Normalize(%q).Norm = %q, want %q", tt.in, got.Norm, tt.want)
			}
			checkText(t, tt.in, got)
		})
	}
}

func TestOrig(t *testing.T) {
	tests := []struct {
		name, in, word, wantOrig string
	}{
		{"ascii", "You are an Idiot.", "idiot", "Idiot"},
		{"after collapsed space", "a   \n\n  Idiot!", "idiot", "Idiot"},
		{"zero-width inside", "you i\u200bd\u200bi\u200bot", "idiot", "i\u200bd\u200bi\u200bot"},
		{"fullwidth", "ｉｄｉｏｔ here", "idiot", "ｉｄｉｏｔ"},
		{"accents", "crétin", "cretin", "crétin"},
		{"cyrillic", "what іdіоt", "idiot", "іdіоt"},
		{"combining", "ide\u0301ot", "ideot", "ide\u0301ot"},
		{"emoji before", "😀😀 idiot", "idiot", "idiot"},
		{"sharp s", "Straße", "strasse", "Straße"},
		{"bidi wrapped", "\u202Eidiot\u202C", "idiot", "idiot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := Normalize(tt.in)
			i := strings.Index(tx.Norm, tt.word)
			if i < 0 {
				t.Fatalf("Normalize(%q).Norm = %q, does not contain %q", tt.in, tx.Norm, tt.word)
			}
			a, b := tx.Orig(i, i+len(tt.word))
			if got := tt.in[a:b]; got != tt.wantOrig {
				t.Errorf("Orig(%d, %d) = %q, want %q", i, i+len(tt.word), got, tt.wantOrig)
			}
		})
	}
}

func TestRuneSpan(t *testing.T) {
	tests := []struct {
		name       string
		s          string
		start, end int
		want       parley.Span
	}{
		{"ascii", "hello idiot", 6, 11, parley.Span{Start: 6, End: 11}},
		{"after emoji", "😀 idiot", 5, 10, parley.Span{Start: 2, End: 7}},
		{"multi-byte word", "ｉｄ", 0, 6, parley.Span{Start: 0, End: 2}},
		{"clamped", "abc", -3, 99, parley.Span{Start: 0, End: 3}},
		{"empty", "abc", 2, 1, parley.Span{Start: 2, End: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuneSpan(tt.s, tt.start, tt.end); got != tt.want {
				t.Errorf("RuneSpan(%q, %d, %d) = %+v, want %+v", tt.s, tt.start, tt.end, got, tt.want)
			}
		})
	}
}

// checkText verifies the invariants every Text must hold.
func checkText(t *testing.T, orig string, tx Text) {
	t.Helper()
	if !utf8.ValidString(tx.Norm) {
		t.Fatalf("Norm %q is not valid UTF-8", tx.Norm)
	}
	n := len(tx.Norm)
	prevA, prevB := 0, 0
	for i := 0; i <= n; i++ {
		for _, j := range []int{i, i + 1, i + 3, n} {
			if j < i || j > n {
				continue
			}
			a, b := tx.Orig(i, j)
			if a < 0 || b < a || b > len(orig) {
				t.Fatalf("Orig(%d, %d) = (%d, %d), outside [0, %d]", i, j, a, b, len(orig))
			}
			if !boundary(orig, a) || !boundary(orig, b) {
				t.Fatalf("Orig(%d, %d) = (%d, %d), not on rune boundaries of %q", i, j, a, b, orig)
			}
		}
		a, b := tx.Orig(i, i)
		if a < prevA || b < prevB {
			t.Fatalf("Orig(%d, %d) = (%d, %d) goes back from (%d, %d)", i, i, a, b, prevA, prevB)
		}
		prevA, prevB = a, b
	}
	for _, tk := range Tokens(tx) {
		if tk.Start < 0 || tk.End > n || tk.Start >= tk.End {
			t.Fatalf("token %+v outside Norm (len %d)", tk, n)
		}
		if !utf8.ValidString(tk.Text) || tk.Text == "" {
			t.Fatalf("token %+v has invalid text", tk)
		}
		if tk.Has(Joined) && !tk.Has(Leet) {
			for k := 0; k < len(tk.Text); k++ {
				if p := tk.Start + k*tk.Stride; p >= tk.End || tx.Norm[p] != tk.Text[k] {
					t.Fatalf("joined token %+v: character %d not at Norm[%d] in %q", tk, k, p, tx.Norm)
				}
			}
		}
	}
}

// boundary reports whether i is a rune boundary of s (invalid bytes count as
// one-byte runes).
func boundary(s string, i int) bool {
	if i == 0 || i == len(s) {
		return true
	}
	if utf8.RuneStart(s[i]) {
		return true
	}
	// A continuation byte is a boundary only if it does not belong to a
	// valid rune that started earlier.
	for k := i - 1; k >= 0 && k >= i-3; k-- {
		if utf8.RuneStart(s[k]) {
			r, size := utf8.DecodeRuneInString(s[k:])
			return (r == utf8.RuneError && size == 1) || k+size <= i
		}
	}
	return true
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "Hello, World!", "f.u.c.k you", "ＦＵＣＫ", "fu\u200bck", "ѕһіт", "Z̷a̷l̷g̷o̷",
		"sh1t $5 @ss f**k", "e\u0301\u0301\u0301", "\xff\xfe", "한국어 텍스트", "ﷺ", "ǅ", "ΐ",
		"a\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tx := Normalize(s)
		checkText(t, s, tx)
	})
}
