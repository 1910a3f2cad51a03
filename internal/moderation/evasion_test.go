package moderation

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// testBanned is a list such as a newsroom would write: profanity, insults,
// slurs, one phrase and one prefix entry.
var testBanned = []string{
	"fuck", "shit", "cunt", "ass", "asshole", "bitch", "idiot", "moron", "dick",
	"cock", "cum", "tit", "fag", "faggot", "nigger", "kike", "towel head", "rape",
	"slut", "whore", "retard", "twat", "wanker", "bastard", "arse", "spic", "clit",
	"motherfuck*", "butt", "twit", "anal", "sex", "penis", "scumbag",
}

// evasions must all be caught: each trick alone, then combined. written is
// the text the evidence span must cover in the original.
var evasions = []struct {
	name, text, word, written string
}{
	// case
	{"plain", "fuck you", "fuck", "fuck"},
	{"upper case", "FUCK YOU", "fuck", "FUCK"},
	{"mixed case", "you FuCk", "fuck", "FuCk"},
	{"in a sentence", "What an idiot, honestly.", "idiot", "idiot"},
	// NFKC
	{"fullwidth", "ＦＵＣＫ you", "fuck", "ＦＵＣＫ"},
	{"mathematical bold", "you 𝐢𝐝𝐢𝐨𝐭", "idiot", "𝐢𝐝𝐢𝐨𝐭"},
	{"mathematical script", "𝓶𝓸𝓻𝓸𝓷!", "moron", "𝓶𝓸𝓻𝓸𝓷"},
	{"enclosed letters", "ⓕⓤⓒⓚ", "fuck", "ⓕⓤⓒⓚ"},
	{"negative squared letters", "🅵🆄🅲🅺 you", "fuck", "🅵🆄🅲🅺"},
	{"regional indicators", "🇸🇭🇮🇹", "shit", "🇸🇭🇮🇹"},
	{"superscript letters", "ⁱᵈⁱᵒᵗ", "idiot", "ⁱᵈⁱᵒᵗ"},
	{"ligature", "ﬁlthy bastard", "bastard", "bastard"},
	// invisible characters
	{"zero-width space", "fu\u200bck off", "fuck", "fu\u200bck"},
	{"zero-width joiner", "f\u200du\u200dck", "fuck", "f\u200du\u200dck"},
	{"zero-width non-joiner", "id\u200ciot", "idiot", "id\u200ciot"},
	{"soft hyphen", "sh\u00ADit", "shit", "sh\u00ADit"},
	{"word joiner", "cu\u2060nt", "cunt", "cu\u2060nt"},
	{"byte order mark", "bi\uFEFFtch", "bitch", "bi\uFEFFtch"},
	{"bidi embedding", "mo\u202Aron\u202C", "moron", "mo\u202Aron"},
	{"bidi isolate", "wh\u2067or\u2069e", "whore", "wh\u2067or\u2069e"},
	{"variation selector", "sl\uFE0Fut", "slut", "sl\uFE0Fut"},
	// look-alike letters
	{"cyrillic a", "kiss my аss", "ass", "аss"},
	{"cyrillic all", "ѕһіт", "shit", "ѕһіт"},
	{"cyrillic o", "morоn", "moron", "morоn"},
	{"cyrillic es and i", "bіtсh", "bitch", "bіtсh"},
	{"greek", "ιdιοτ", "idiot", "ιdιοτ"},
	{"greek upsilon", "cυnt", "cunt", "cυnt"},
	{"greek capitals", "ΙDΙΟΤ", "idiot", "ΙDΙΟΤ"},
	{"latin small capitals", "ꜱʟᴜᴛ", "slut", "ꜱʟᴜᴛ"},
	{"accents", "fück", "fuck", "fück"},
	{"accents all over", "ìdìòt", "idiot", "ìdìòt"},
	{"zalgo", "f̷u̷c̷k̷ this", "fuck", "f̷u̷c̷k̷"},
	{"combining acute", "c\u0301u\u0301n\u0301t\u0301", "cunt", "c\u0301u\u0301n\u0301t\u0301"},
	{"hooked f", "ƒuck", "fuck", "ƒuck"},
	// leetspeak
	{"leet 0", "m0r0n", "moron", "m0r0n"},
	{"leet 1 as i", "1diot", "idiot", "1diot"},
	{"leet 1 as l", "s1ut", "slut", "s1ut"},
	{"leet 3", "r3tard", "retard", "r3tard"},
	{"leet 4", "f4g", "fag", "f4g"},
	{"leet 5", "5hit", "shit", "5hit"},
	{"leet 7", "7wat", "twat", "7wat"},
	{"leet at", "@ss", "ass", "@ss"},
	{"leet dollar", "$hit", "shit", "$hit"},
	{"leet bang", "b!tch", "bitch", "b!tch"},
	{"leet digits everywhere", "1d10t", "idiot", "1d10t"},
	// stretched letters
	{"stretched u", "fuuuuuck", "fuck", "fuuuuuck"},
	{"stretched i", "shiiiiit", "shit", "shiiiiit"},
	{"stretched end", "asssss", "ass", "asssss"},
	{"stretched two runs", "fuuuckkkk", "fuck", "fuuuckkkk"},
	// separators
	{"dots", "f.u.c.k", "fuck", "f.u.c.k"},
	{"spaces", "you f u c k", "fuck", "f u c k"},
	{"hyphens", "f-u-c-k", "fuck", "f-u-c-k"},
	{"underscores", "s_h_i_t", "shit", "s_h_i_t"},
	{"asterisks between", "c*u*n*t", "cunt", "c*u*n*t"},
	{"slashes", "i/d/i/o/t", "idiot", "i/d/i/o/t"},
	{"spelled after a", "you are a f u c k", "fuck", "f u c k"},
	{"dots and spaces", "f. u. c. k. off", "fuck", "f. u. c. k"},
	{"spaced hyphens", "s - h - i - t", "shit", "s - h - i - t"},
	{"split by a hyphen", "you scum-bag", "scumbag", "scum-bag"},
	{"split by an underscore", "you scum_bag", "scumbag", "scum_bag"},
	{"split by an apostrophe", "you scum'bag", "scumbag", "scum'bag"},
	{"split by a typographic apostrophe", "you scum’bag", "scumbag", "scum’bag"},
	{"split twice", "sc-um-bags", "scumbag", "sc-um-bags"},
	{"split inflected", "Scum-Bags all of them", "scumbag", "Scum-Bags"},
	{"split prefix entry", "mother-fuckers", "motherfuck*", "mother-fuckers"},
	// masking
	{"two stars", "f**k off", "fuck", "f**k"},
	{"one star", "f*ck", "fuck", "f*ck"},
	{"star in shit", "sh*t", "shit", "sh*t"},
	{"hash", "c#nt", "cunt", "c#nt"},
	{"masked long word", "a**hole", "asshole", "a**hole"},
	{"dashes", "what the f--k", "fuck", "f--k"},
	{"dashes inflected", "f---ing hell", "fuck", "f---ing"},
	// inflections
	{"plural", "idiots", "idiot", "idiots"},
	{"ing", "fucking hell", "fuck", "fucking"},
	{"er", "fucker", "fuck", "fucker"},
	{"ed", "fucked", "fuck", "fucked"},
	{"dropped g", "fuckin' great", "fuck", "fuckin"},
	{"doubled consonant", "shitty", "shit", "shitty"},
	{"es", "bitches", "bitch", "bitches"},
	{"e stem", "raping", "rape", "raping"},
	{"phrase", "towel head", "towel head", "towel head"},
	{"phrase run together", "towelheads", "towel head", "towelheads"},
	{"phrase with hyphen", "Towel-Heads go home", "towel head", "Towel-Heads"},
	{"prefix entry", "motherfuckers", "motherfuck*", "motherfuckers"},
	{"prefix entry spelled out", "m.o.t.h.e.r.f.u.c.k.e.r", "motherfuck*", "m.o.t.h.e.r.f.u.c.k.e.r"},
	// combinations
	{"upper dots", "F.U.C.K", "fuck", "F.U.C.K"},
	{"fullwidth leet", "ＳＨ１Ｔ", "shit", "ＳＨ１Ｔ"},
	{"cyrillic leet", "ѕh1т", "shit", "ѕh1т"},
	{"zero-width stretched", "fu\u200buuuck", "fuck", "fu\u200buuuck"},
	{"stretched inflected", "Fuuuuuucking", "fuck", "Fuuuuuucking"},
	{"spelled inflected", "f.u.c.k.i.n.g", "fuck", "f.u.c.k.i.n.g"},
	{"dotted capital", "İDİOT", "idiot", "İDİOT"},
	{"leet plural", "1d10t5", "idiot", "1d10t5"},
	{"leet symbols", "@$$h0le", "asshole", "@$$h0le"},
	{"masked inflected", "sh*tty", "shit", "sh*tty"},
	{"fullwidth dots", "ｓ．ｈ．ｉ．ｔ", "shit", "ｓ．ｈ．ｉ．ｔ"},
	{"greek leet", "ιd10τ", "idiot", "ιd10τ"},
	{"case zero-width cyrillic", "B\u200bІТСН", "bitch", "B\u200bІТСН"},
	{"spelled leet", "5 h 1 t", "shit", "5 h 1 t"},
	{"accent stretched", "füüüück", "fuck", "füüüück"},
	{"in markdown emphasis", "what a **moron**", "moron", "moron"},
	{"quoted", "\"idiot\"", "idiot", "idiot"},
}

// innocents must all pass the same list: Scunthorpe-style words, numbers,
// and ordinary news comments, including ones about religions and groups.
var innocents = []string{
	"class", "assassin", "Scunthorpe", "cocktail", "Essex", "shiitake", "Dickens",
	"Penistone", "analysis", "therapist", "grape", "cumin", "hello", "assess",
	"sextant", "Sussex", "Matsushita", "button", "titmouse", "Hancock",
	"committee", "bookkeeper", "Cockburn", "peacock", "Hitchcock", "snigger",
	"Niger", "Nigeria", "spicy", "spices", "spiced", "butter", "Twitter", "title",
	"cumulative", "document", "circumstances", "Arsenal", "scrap", "passage",
	"grapefruit", "therapists", "Middlesex", "Sexton", "shell", "hello there", "Shellfish",
	"cocked hat", "cocker spaniel", "Cumming", "titter", "dicker over the price",
	"But I think", "Buuuut I think you're wrong", "sooooo good", "as I said", "Hmmm",
	"1984", "5 people died", "It costs $5", "£20 a month", "the 10th of May", "3rd",
	"the 1980s", "covid19", "open 24/7", "after 9/11", "2 + 2 = 4", "at 12:30",
	"I scored 100%", "a b c", "U.S.A.", "e.g. this", "i.e. that", "f/2.8 lens",
	"Call 0800 123 456", "Prices rose 5% to $1,299.",
	"Muslims in the city organised a food bank for Ramadan.",
	"Jewish families gathered at the synagogue on Friday.",
	"Immigrants make up 14% of the workforce, according to the ONS.",
	"The council voted 7-2 to approve the plan on 12/03/2024.",
	"I'm a Christian and I disagree with the bishop on this.",
	"Refugees from Syria settled in Essex and Sussex.",
	"The assessment of the class-action suit was thorough.",
	"Great analysis by the therapist from Scunthorpe.",
	"My grandad grew shiitake mushrooms in Penistone.",
	"We read Dickens in class and loved it.",
	"The cocktail bar on Hancock Street is closing.",
	"A titmouse landed on the button of my coat.",
	"Matsushita sold the brand in 2008.",
	"Black and white photos from the 1960s are in the archive.",
	"Gay and lesbian couples can marry here since 2014.",
	"The transgender athlete's case goes to court in June.",
	"She is a refugee who became a doctor at the hospital.",
	"Hindus, Sikhs and Muslims marched together against hate.",
	"The assassination of the archduke started the war.",
	"Harassment claims against the MP were upheld.",
	"The report says Arab and Asian voters turned out in record numbers.",
	"Let's not pass the buck: the committee failed.",
	"The shuttlecock hit the net at 21-19.",
	"Massachusetts and Connecticut passed similar laws.",
	"A b c d e f g is how the song starts.",
	"Wow!!! What a great goal!!!",
	"I'd rate it 4/5 stars.",
	"This is *really* important.",
	"It was--honestly--a good day.",
	"Vote yes--or no--but vote.",
	"The vote was 52% to 48%.",
	"Mix 3 eggs with 200g flour.",
	"See www.example.com for details.",
	"His retort was swift.",
	"The twitching curtains of Cockermouth.",
	"a scum-free pond", "Scunthorpe-based firm", "the scum's edge", "class-action",
	"well-known", "snake_case_name",
}

func TestEvasions(t *testing.T) {
	l, err := NewWordList(testBanned)
	if err != nil {
		t.Fatal(err)
	}
	caught := 0
	for _, tt := range evasions {
		t.Run(tt.name, func(t *testing.T) {
			ms := l.Match(tt.text)
			for _, m := range ms {
				if m.Word != tt.word {
					continue
				}
				caught++
				if got := spanText(tt.text, m.Span); got != tt.written {
					t.Errorf("Match(%q): span %+v covers %q, want %q", tt.text, m.Span, got, tt.written)
				}
				return
			}
			t.Errorf("Match(%q) = %+v, want %q", tt.text, ms, tt.word)
		})
	}
	falsePos := 0
	for _, text := range innocents {
		t.Run("innocent/"+text, func(t *testing.T) {
			if ms := l.Match(text); len(ms) > 0 {
				falsePos++
				t.Errorf("Match(%q) = %+v, want nothing", text, ms)
			}
		})
	}
	line := fmt.Sprintf("caught %d/%d (%.1f%%), false positives %d/%d",
		caught, len(evasions), 100*float64(caught)/float64(len(evasions)), falsePos, len(innocents))
	t.Log(line)
	fmt.Println("evasion table:", line)
	if len(evasions) < 60 || len(innocents) < 60 {
		t.Errorf("table too small: %d evasions, %d innocents; want at least 60 each", len(evasions), len(innocents))
	}
}

// spanText returns the code points of s that span covers.
func spanText(s string, span parley.Span) string {
	r := []rune(s)
	if span.Start < 0 || span.End > len(r) || span.Start > span.End {
		return fmt.Sprintf("<span %+v outside %d code points>", span, len(r))
	}
	return string(r[span.Start:span.End])
}

func FuzzMatch(f *testing.F) {
	for _, tt := range evasions {
		f.Add(tt.text)
	}
	for _, s := range innocents[:20] {
		f.Add(s)
	}
	l, err := NewWordList(testBanned)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n := utf8.RuneCountInString(text)
		for _, m := range l.Match(text) {
			if m.Span.Start < 0 || m.Span.End > n || m.Span.Start >= m.Span.End {
				t.Fatalf("Match(%q): span %+v outside %d code points", text, m.Span, n)
			}
		}
	})
}
