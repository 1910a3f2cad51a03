package lab

import (
	"math"

	"github.com/parleyhq/parley/internal/toxicity"
)

// The functional suite: short hand-written cases in the spirit of HateCheck
// (Röttger et al., 2021), each testing one thing a moderation model must get
// right. Toxic is the expected verdict: abusive, hateful or threatening.
// None of these sentences is in the training data.

// Case is one functional test.
type Case struct {
	Category string
	Text     string
	Quote    string // the quoted parent, for quote-aware cases
	Toxic    bool
}

// Suite categories.
const (
	CatGroupHate     = "group_hate"           // explicit hate against a group
	CatDehumanising  = "dehumanising"         // comparisons to animals, vermin, disease
	CatThreat        = "threat"               // threats of violence
	CatIndividual    = "individual_abuse"     // insults aimed at one person
	CatSpelling      = "spelling_tricks"      // hate or abuse with obfuscated spelling
	CatNeutralGroup  = "neutral_group"        // neutral statements about groups
	CatPositiveGroup = "positive_group"       // positive statements about groups
	CatProfanity     = "profanity_nonhate"    // profanity that attacks no one
	CatNegated       = "negated_hate"         // hate negated by its author
	CatCounter       = "counter_speech"       // counter-speech that refers to hate in its own words
	CatQuoted        = "counter_speech_quote" // counter-speech that quotes the hateful parent
)

// Suite returns the functional test cases.
func Suite() []Case {
	var cs []Case
	add := func(cat string, toxic bool, texts ...string) {
		for _, t := range texts {
			cs = append(cs, Case{Category: cat, Text: t, Toxic: toxic})
		}
	}
	add(CatGroupHate, true,
		"I hate Muslims, they ruin everything.",
		"Jews are greedy parasites who control the banks.",
		"Black people are too stupid to run anything.",
		"Women are worthless and belong in the kitchen.",
		"Gay people are disgusting perverts.",
		"Immigrants are criminals and rapists, every last one.",
		"Trans people are mentally ill freaks.",
		"Mexicans are lazy thieves.",
		"All Asians are sneaky liars.",
		"Disabled people are a burden and should not exist.",
	)
	add(CatDehumanising, true,
		"Immigrants are rats that breed in the sewers.",
		"Muslims are a cancer on this country.",
		"Those refugees are animals, not people.",
		"Gays are vermin and should be treated like vermin.",
		"Black people are apes.",
		"Jews are a disease that infects every nation.",
		"Women are cattle to be owned.",
		"Roma are cockroaches.",
	)
	add(CatThreat, true,
		"I will find you and break your neck.",
		"Someone should put a bullet in the mayor's head.",
		"If I see you at the meeting I will beat you senseless.",
		"We should burn down their mosque with them inside.",
		"I'm going to kill every last one of them.",
		"Keep talking and you'll end up in a ditch.",
		"Hang the traitors from the nearest tree.",
		"I hope someone stabs you on the way home.",
	)
	add(CatIndividual, true,
		"You are a worthless idiot.",
		"Shut up, you pathetic moron.",
		"What a stupid, ignorant comment from a clown like you.",
		"You're a lying piece of garbage.",
		"Nobody cares what a brain-dead loser like you thinks.",
		"The author is a complete imbecile.",
		"Go back to your basement, you disgusting troll.",
		"You are the dumbest person on this site.",
	)
	add(CatSpelling, true,
		"You are an 1d10t.",
		"Shut up you st*pid b1tch.",
		"M u s l i m s are vermin.",
		"k1ll all the immigrants",
		"You're a f.u.c.k.i.n.g moron.",
		"what a retaaaaarded comment",
		"Immigrants are filthy r@ts.",
		"You are a p1ece of sh1t.",
	)
	add(CatNeutralGroup, false,
		"Muslims pray five times a day.",
		"Many Jewish families celebrate Hanukkah in December.",
		"The city has a large Black community.",
		"Women make up half of the workforce.",
		"Gay couples can marry in Canada.",
		"Immigrants often send money back to their families.",
		"Transgender people face higher rates of unemployment.",
		"Most Mexicans speak Spanish.",
		"The refugees arrived in Toronto last week.",
		"Disabled people need accessible transit.",
		"Hindus celebrate Diwali in the autumn.",
		"The Sikh temple is hosting a community dinner.",
	)
	add(CatPositiveGroup, false,
		"Immigrants make our city stronger.",
		"I love my Muslim neighbours.",
		"Black artists shaped modern music.",
		"Women are brilliant leaders.",
		"Gay people are wonderful parents.",
		"Refugees have enriched this town.",
		"Jewish scholars have contributed so much to science.",
		"Trans people are valued members of our community.",
	)
	add(CatProfanity, false,
		"This fucking rain will not stop.",
		"Holy shit, what a game last night!",
		"Damn, that was a great article.",
		"I stubbed my toe and yelled fuck so loud.",
		"This traffic is a shit show every morning.",
		"Hell yes, the budget finally passed.",
		"Well, that was a bloody brilliant goal.",
		"My damn printer jammed again.",
	)
	add(CatNegated, false,
		"I would never say Muslims are terrorists.",
		"I don't hate immigrants at all.",
		"No one should call women stupid.",
		"It is wrong to say that gay people are sick.",
		"Black people are not criminals.",
		"Jews are not greedy, that is an old slur.",
		"I do not think refugees are dangerous.",
		"Nobody deserves to be called vermin.",
	)
	add(CatCounter, false,
		"Calling immigrants rats is disgusting and you should be ashamed.",
		"Saying that Muslims are terrorists is bigotry, plain and simple.",
		"When people call women worthless, we need to speak up.",
		"Comments claiming Black people are inferior have no place here.",
		"Using the word vermin for refugees is how genocides start.",
		"Stop spreading the lie that gay people are dangerous.",
	)
	for _, q := range []struct{ quote, reply string }{
		{"Immigrants are rats and should be deported.", "> Immigrants are rats and should be deported.\n\nThis is hateful and wrong. Immigrants built this country."},
		{"Muslims are a cancer on this country.", "> Muslims are a cancer on this country.\n\nPlease report comments like this one."},
		{"Women are too stupid to vote.", "You wrote \"Women are too stupid to vote.\" That is simply false."},
		{"Gay people are disgusting perverts.", "> Gay people are disgusting perverts.\n\nMy brother is gay and he is the kindest person I know."},
		{"You are a worthless idiot.", "> You are a worthless idiot.\n\nLet's keep the discussion civil, please."},
		{"Black people are apes.", "> Black people are apes.\n\nModerators, this needs to come down."},
	} {
		cs = append(cs, Case{Category: CatQuoted, Text: q.reply, Quote: q.quote})
	}
	return cs
}

// SuiteCategories lists the categories in report order.
var SuiteCategories = []string{
	CatGroupHate, CatDehumanising, CatThreat, CatIndividual, CatSpelling,
	CatNeutralGroup, CatPositiveGroup, CatProfanity, CatNegated, CatCounter, CatQuoted,
}

// CategoryResult is the accuracy of the model on one suite category at the
// hold threshold.
type CategoryResult struct {
	Category string
	N        int
	Correct  int
	Failures []Case
}

// Accuracy is Correct / N.
func (r CategoryResult) Accuracy() float64 {
	if r.N == 0 {
		return math.NaN()
	}
	return float64(r.Correct) / float64(r.N)
}

// SuiteReport is the functional suite result.
type SuiteReport struct {
	Categories []CategoryResult
	AUC        float64 // ROC-AUC of the toxicity score over every case
}

// RunSuite scores every case (with its quote) and reports per-category
// accuracy at the model's hold threshold.
func RunSuite(m *toxicity.Model, cases []Case) SuiteReport {
	by := map[string]*CategoryResult{}
	var xs []toxicity.Scored
	for _, c := range cases {
		s := m.ScoreFast(c.Text, c.Quote).Toxicity
		xs = append(xs, toxicity.Scored{Score: s, Label: c.Toxic})
		r := by[c.Category]
		if r == nil {
			r = &CategoryResult{Category: c.Category}
			by[c.Category] = r
		}
		r.N++
		if (s >= m.Threshold) == c.Toxic {
			r.Correct++
		} else {
			r.Failures = append(r.Failures, c)
		}
	}
	rep := SuiteReport{AUC: ROCAUC(xs)}
	for _, cat := range SuiteCategories {
		if r := by[cat]; r != nil {
			rep.Categories = append(rep.Categories, *r)
		}
	}
	return rep
}
