package moderation

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// benchLists returns n plausible banned and n suspect entries, generated
// deterministically: real profanity, slurs and phrases first, then invented
// words built from English syllables, with a few prefix and exact entries.
func benchLists(n int) (banned, suspect []string) {
	r := rand.New(rand.NewPCG(1, 2))
	onsets := []string{"b", "bl", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "j", "k",
		"l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "sm", "sn", "sp", "st", "sw", "t", "th", "tr", "v", "w", "wh", "z"}
	nuclei := []string{"a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "oi", "y"}
	codas := []string{"", "b", "ck", "d", "g", "k", "l", "m", "n", "ng", "nk", "p", "rt", "sh", "st", "t", "tch", "x", "zz"}
	word := func() string {
		var b strings.Builder
		for range 1 + r.IntN(3) {
			b.WriteString(onsets[r.IntN(len(onsets))])
			b.WriteString(nuclei[r.IntN(len(nuclei))])
			b.WriteString(codas[r.IntN(len(codas))])
		}
		return b.String()
	}
	make1 := func(seed []string) []string {
		list := append([]string(nil), seed...)
		seen := map[string]bool{}
		for len(list) < n {
			w := word()
			if seen[w] || len(w) < 4 {
				continue
			}
			seen[w] = true
			switch r.IntN(20) {
			case 0:
				w += "*"
			case 1:
				w = "=" + w
			case 2:
				w += " " + word()
			}
			list = append(list, w)
		}
		return list
	}
	return make1(testBanned), make1([]string{"stupid", "kill", "hate", "scum", "vermin", "traitor", "liar", "clown"})
}

// benchComments returns varied, realistic comments of about 500 characters.
func benchComments(n int) []string {
	r := rand.New(rand.NewPCG(3, 4))
	sentences := []string{
		"The council's decision to close the library is short-sighted and will hurt families who rely on it.",
		"I've lived in this town for 34 years and I've never seen traffic this bad on the high street.",
		"According to the report, spending rose by 4.5% to £1.2bn in 2023, which is hardly a cut.",
		"Has anyone actually read the proposal? Page 12 says the opposite of what the headline claims.",
		"My daughter's school lost two teachers last term and nobody replaced them.",
		"Great reporting, thank you. More of this please, and less celebrity gossip.",
		"Immigrants staff half of our hospital wards; the debate should start from that fact.",
		"The Muslim community centre on Park Road has been running a food bank since 2019.",
		"This is the third time the bridge repairs have been delayed — when will they finish?",
		"I disagree with the author: the data in the second chart does not support the conclusion.",
		"Prices at the pump went from $3.10 to $3.65 in six weeks, and wages haven't moved.",
		"See the full minutes at https://council.example.gov/minutes/2024-03 if you want the details.",
		"Honestly, the minister’s answer was evasive and the interviewer let him off the hook.",
		"We need more buses after 10pm, not fewer; shift workers have no other way home.",
		"What a stupid idea to build on the flood plain, again.",
		"The Jewish museum's new exhibition on 1930s Vienna is well worth a visit.",
		"Cycling lanes are fine, but the junction at Mill Lane is still dangerous for everyone.",
		"Can the paper publish the full survey, including the questions that were asked?",
		"My grandfather worked at the steelworks until it closed in 1982; the town never recovered.",
		"Respectfully, the comparison with Denmark ignores the difference in population density.",
	}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for len([]rune(b.String())) < 460 {
			if b.Len() > 0 {
				if r.IntN(4) == 0 {
					b.WriteString("\n\n")
				} else {
					b.WriteByte(' ')
				}
			}
			b.WriteString(sentences[r.IntN(len(sentences))])
		}
		out[i] = b.String()
	}
	return out
}

func BenchmarkDecide(b *testing.B) {
	p := DefaultPolicy()
	p.BannedWords, p.SuspectWords = benchLists(1000)
	pl, err := Compile(p)
	if err != nil {
		b.Fatal(err)
	}
	comments := benchComments(256)
	var bytes int
	for _, c := range comments {
		bytes += len(c)
	}
	in := Input{Trust: Trust{Approved: 4, Recent: []string{"approved", "approved", "rejected"}}, RecentByAuthor: 1}
	b.SetBytes(int64(bytes / len(comments)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in.Text = comments[i%len(comments)]
		pl.Decide(in)
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i)/1e3, "µs/comment")
}

func BenchmarkCompile(b *testing.B) {
	p := DefaultPolicy()
	p.BannedWords, p.SuspectWords = benchLists(1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchInputs checks the benchmark measures what it claims: lists of
// 1,000 entries each and comments of about 500 characters, a few of which are
// held or rejected.
func TestBenchInputs(t *testing.T) {
	banned, suspect := benchLists(1000)
	if len(banned) != 1000 || len(suspect) != 1000 {
		t.Fatalf("lists of %d and %d entries, want 1000 each", len(banned), len(suspect))
	}
	p := DefaultPolicy()
	p.BannedWords, p.SuspectWords = banned, suspect
	pl := compile(t, p)
	held := 0
	for _, c := range benchComments(256) {
		if n := len([]rune(c)); n < 450 || n > 650 {
			t.Errorf("comment of %d characters, want about 500", n)
		}
		if pl.Decide(Input{Text: c}).Status != "approved" {
			held++
		}
	}
	if held == 0 || held == 256 {
		t.Errorf("%d of 256 comments held or rejected; want some, not all", held)
	}
}
