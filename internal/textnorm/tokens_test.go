package textnorm

import (
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // tokens as text[flags]|alt, space-separated
	}{
		{"plain words", "Hello, world!", "hello world"},
		{"apostrophe splits", "don't", "don t"},
		{"hyphen splits", "well-known", "well known"},
		{"numbers stay numbers", "1984 and 5 people paid $5", "1984[N] and 5[N] people paid 5[N]"},
		{"prices and dates", "$1,000 on 12/05/2024", "1[N] 000[N] on 12[N] 05[N] 2024[N]"},
		{"leet digits", "sh1t", "shit[L]|shlt"},
		{"leet four", "f4ggot", "faggot[L]"},
		{"leet zero three", "n00b l33t", "noob[L] leet[L]"},
		{"leet five seven", "5lu7", "slut[L]"},
		{"leet at", "@ss", "ass[L]"},
		{"leet dollar", "$hit", "shit[L]"},
		{"symbols only", "@$$ @55 $$$", "ass[L] ass[L] sss[LS]"},
		{"prices stay numbers", "$5 $55 $1984", "5[N] 55[N] 1984[N]"},
		{"leet bang inside", "sh!t", "shit[L]"},
		{"bang at the end is punctuation", "wow!!", "wow"},
		{"ordinals are not leet", "10th 1st 3rd 1980s 5km", "10th 1st 3rd 1980s 5km"},
		{"plain digits block leet", "covid19 b2b", "covid19 b2b"},
		{"mask", "f**k sh*t f#ck", "f**k[M] sh*t[M] f*ck[M]"},
		{"markdown emphasis is not a mask", "*really* **bold** #topic", "really bold topic"},
		{"trailing mask", "a** f***", "a**[M] f***[M]"},
		{"dashes as a mask", "f--k f---ing a__hole", "f f**k[M] k f f***ing[M] ing a a**hole[M] hole"},
		{"double dash between words", "yes--honestly, no--", "yes honestly no"},
		{"joined dots", "f.u.c.k", "fuck[J]"},
		{"joined spaces", "f u c k you", "fuck[J] you"},
		{"joined underscores", "f_u_c_k", "fuck[J]"},
		{"joined hyphens", "f-u-c-k", "fuck[J]"},
		{"joined asterisks", "f*u*c*k", "fuck[J] f*u*c*k[M]"},
		{"joined with leet", "5 h 1 t", "shit[JL]"},
		{"two letters do not join", "a b", "a b"},
		{"mixed separators do not join", "f.u-c.k", "f u c k"},
		{"two-byte separators", "f. u. c. k.", "fuck[J]"},
		{"spaced hyphens", "f - u - c - k", "fuck[J]"},
		{"list of letters", "options a, b or c", "options a b or c"},
		{"stretched", "fuuuuck", "fuuuuck[S]"},
		{"double letters are not stretched", "committee bookkeeper", "committee bookkeeper"},
		{"email", "john@example.com", "johnaexample[L] com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := Normalize(tt.in)
			var parts []string
			for _, tk := range Tokens(tx) {
				parts = append(parts, describe(tk))
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func describe(tk Token) string {
	s := tk.Text
	var f string
	for _, c := range []struct {
		flag Flags
		code string
	}{{Joined, "J"}, {Leet, "L"}, {Masked, "M"}, {Stretched, "S"}, {Number, "N"}} {
		if tk.Has(c.flag) {
			f += c.code
		}
	}
	if f != "" {
		s += "[" + f + "]"
	}
	if tk.Alt != "" {
		s += "|" + tk.Alt
	}
	return s
}

func TestJoinedOffsets(t *testing.T) {
	for _, in := range []string{"you are a f u c k i n g idiot", "f. u. c. k. off", "c*u*n*t", "s - h - i - t"} {
		tx := Normalize(in)
		joined := 0
		for _, tk := range Tokens(tx) {
			if !tk.Has(Joined) {
				continue
			}
			joined++
			for k := 0; k < len(tk.Text); k++ {
				if got := tx.Norm[tk.Start+k*tk.Stride]; got != tk.Text[k] {
					t.Errorf("%q: joined %q: Norm[%d] = %q, want %q", in, tk.Text, tk.Start+k*tk.Stride, got, tk.Text[k])
				}
			}
			if last := tk.Start + (len(tk.Text)-1)*tk.Stride; last != tk.End-1 {
				t.Errorf("%q: joined %q ends at %d, last character at %d", in, tk.Text, tk.End, last)
			}
		}
		if joined != 1 {
			t.Errorf("%q: %d joined tokens, want 1", in, joined)
		}
	}
}

func TestSqueeze(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fuuuuck", "fuck"},
		{"committee", "comite"},
		{"", ""},
		{"abc", "abc"},
		{"ääää", "ä"},
		{"\u2082\u2082", "\u2082"},
	}
	for _, tt := range tests {
		if got := Squeeze(tt.in); got != tt.want {
			t.Errorf("Squeeze(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var benchText = strings.Repeat("The council's plan for the new bridge is, frankly, a waste of money.\n\n", 7)

func BenchmarkNormalize(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		Normalize(benchText)
	}
}

func BenchmarkTokens(b *testing.B) {
	tx := Normalize(benchText)
	buf := make([]Token, 0, 256)
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendTokens(buf[:0], tx)
	}
}

func TestUnstretch(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"fuuuuck", "fuck fuuck"},
		{"asssss", "as ass"},
		{"buuuut", "but buut"},
		{"fuuuckkkk", "fuck fuuck fuckk fuuckk"},
		{"committee", "committee"},
		{"ääää", "ä ää"},
		{"f***", "f***"},
	}
	for _, tt := range tests {
		if got := strings.Join(Unstretch(tt.in), " "); got != tt.want {
			t.Errorf("Unstretch(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkNormalizeScripts(b *testing.B) {
	for _, tt := range []struct{ name, text string }{
		{"cyrillic", strings.Repeat("Решение совета закрыть библиотеку недальновидно и ударит по семьям. ", 4)},
		{"cjk", strings.Repeat("議会が図書館を閉鎖する決定は近視眼的で、家族に打撃を与える。", 6)},
		{"typographic", strings.Repeat("The minister’s answer — frankly — was “evasive”; café owners agree. ", 7)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.text)))
			b.ReportAllocs()
			for b.Loop() {
				Normalize(tt.text)
			}
		})
	}
}
