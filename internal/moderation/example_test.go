package moderation_test

import (
	"fmt"

	"github.com/parleyhq/parley/internal/moderation"
)

func ExampleWordList_Match() {
	l, err := moderation.NewWordList([]string{"idiot", "towel head", "=cock"})
	if err != nil {
		panic(err)
	}
	text := "You 1d10ts! Towel-heads, c.o.c.k… but not Scunthorpe, cocktails or cocked hats."
	for _, m := range l.Match(text) {
		fmt.Printf("%s at %d-%d: %q\n", m.Word, m.Span.Start, m.Span.End, string([]rune(text)[m.Span.Start:m.Span.End]))
	}
	// Output:
	// idiot at 4-10: "1d10ts"
	// towel head at 12-23: "Towel-heads"
	// =cock at 25-32: "c.o.c.k"
}

func ExampleCompile() {
	p := moderation.DefaultPolicy()
	p.Mode = moderation.ModePreNew
	p.BannedWords = []string{"idiot"}
	p.SuspectWords = []string{"kill"}
	pl, err := moderation.Compile(p)
	if err != nil {
		panic(err)
	}
	for _, in := range []moderation.Input{
		{Text: "Thanks for the article.", Trust: moderation.Trust{Approved: 5}},
		{Text: "Thanks for the article.", Trust: moderation.Trust{Approved: 1}},
		{Text: "They will k1ll the bill.", Trust: moderation.Trust{Approved: 5}},
		{Text: "What an 1diot.", Trust: moderation.Trust{Approved: 5}},
	} {
		d := pl.Decide(in)
		fmt.Printf("%s %v %q\n", d.Status, d.Reasons, moderation.AuthorMessage(d))
	}
	// Output:
	// approved [] ""
	// pending [{premod_new new reader: 1 of 3 approved comments needed to post without review [] }] "This site reviews comments from new readers before they appear. Yours will be published once a moderator approves it; there is nothing you need to change."
	// pending [{suspect_word suspect word "kill" [{10 14}] }] "Your comment is held for review by a moderator. It will appear once it is approved."
	// rejected [{banned_word banned word "idiot" [{8 13}] }] "Your comment was not published because it does not meet this site's comment policy."
}
