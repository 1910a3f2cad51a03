package toxicity

import (
	"math/rand/v2"
	"strings"
	"unicode"
)

// Identity is one group the bias templates name, in the grammatical forms the
// templates need.
type Identity struct {
	Name     string // e.g. "muslim"
	Adj      string // "Muslim" in "a Muslim neighbour"
	Singular string // "a Muslim" — a person of the group, with its article
	Plural   string // "Muslims"
}

// Identities is the project's identity term set: religions, ethnicities,
// nationalities, genders, sexualities, disability and migration status.
var Identities = []Identity{
	{"muslim", "Muslim", "a Muslim", "Muslims"},
	{"islam", "Islamic", "a follower of Islam", "followers of Islam"},
	{"jewish", "Jewish", "a Jew", "Jews"},
	{"christian", "Christian", "a Christian", "Christians"},
	{"catholic", "Catholic", "a Catholic", "Catholics"},
	{"hindu", "Hindu", "a Hindu", "Hindus"},
	{"buddhist", "Buddhist", "a Buddhist", "Buddhists"},
	{"sikh", "Sikh", "a Sikh", "Sikhs"},
	{"atheist", "atheist", "an atheist", "atheists"},
	{"arab", "Arab", "an Arab", "Arabs"},
	{"black", "Black", "a Black person", "Black people"},
	{"white", "white", "a white person", "white people"},
	{"asian", "Asian", "an Asian person", "Asians"},
	{"chinese", "Chinese", "a Chinese person", "Chinese people"},
	{"indian", "Indian", "an Indian", "Indians"},
	{"latino", "Latino", "a Latino", "Latinos"},
	{"hispanic", "Hispanic", "a Hispanic person", "Hispanics"},
	{"mexican", "Mexican", "a Mexican", "Mexicans"},
	{"african", "African", "an African", "Africans"},
	{"indigenous", "Indigenous", "an Indigenous person", "Indigenous people"},
	{"gay", "gay", "a gay man", "gay people"},
	{"lesbian", "lesbian", "a lesbian", "lesbians"},
	{"bisexual", "bisexual", "a bisexual person", "bisexual people"},
	{"transgender", "transgender", "a transgender person", "transgender people"},
	{"queer", "queer", "a queer person", "queer people"},
	{"immigrant", "immigrant", "an immigrant", "immigrants"},
	{"refugee", "refugee", "a refugee", "refugees"},
	{"woman", "female", "a woman", "women"},
	{"man", "male", "a man", "men"},
	{"disabled", "disabled", "a disabled person", "disabled people"},
	{"deaf", "deaf", "a deaf person", "deaf people"},
	{"blind", "blind", "a blind person", "blind people"},
	{"elderly", "elderly", "an elderly person", "elderly people"},
	{"canadian", "Canadian", "a Canadian", "Canadians"},
	{"american", "American", "an American", "Americans"},
}

// swapWords are the one-word identity terms the training augmentation
// exchanges for one another, in two grammatical classes (adjective or
// singular noun; plural noun) so a swap keeps the sentence readable.
var swapWords = [2][]string{
	{"muslim", "jewish", "christian", "catholic", "hindu", "buddhist", "sikh", "atheist", "arab", "black", "asian", "chinese", "indian", "latino", "hispanic", "mexican", "african", "gay", "lesbian", "bisexual", "transgender", "queer", "immigrant", "refugee", "female", "disabled", "jew", "feminist", "homosexual"},
	{"muslims", "jews", "christians", "catholics", "hindus", "buddhists", "sikhs", "atheists", "arabs", "blacks", "asians", "latinos", "hispanics", "mexicans", "africans", "indians", "gays", "lesbians", "immigrants", "refugees", "women", "men", "homosexuals", "feminists", "whites"},
}

// moreGroupWords are the identity terms the second group list
// (Info.GroupList 2) adds to swapWords, in the same two classes: issue 10's
// missing terms (trans, white, Islamic, migrants, Roma, …) and the singular
// nouns the templates use ("a woman", "a man").
var moreGroupWords = [2][]string{
	{"trans", "white", "islamic", "migrant", "roma", "romani", "gypsy", "woman", "man", "latina", "indigenous",
		"aboriginal", "lgbt", "lgbtq", "deaf", "blind", "elderly", "refugee", "christian", "native", "jewess"},
	{"migrants", "gypsies", "transgenders", "latinas", "natives", "lgbts", "aboriginals", "elders"},
}

var swapClass = classMap(swapWords)

// groupClass2 is the identity-term map of the second group list.
var groupClass2 = func() map[string]int {
	m := classMap(swapWords)
	for w, c := range classMap(moreGroupWords) {
		m[w] = c
	}
	return m
}()

func classMap(lists [2][]string) map[string]int {
	m := map[string]int{}
	for c, ws := range lists {
		for _, w := range ws {
			m[w] = c
		}
	}
	return m
}

// groupClasses returns the identity-term map of group list v (0 or 1: the
// original list, which older model files were trained with; 2: the
// extended one).
func groupClasses(v int) map[string]int {
	if v >= 2 {
		return groupClass2
	}
	return swapClass
}

// swapIdentities returns text with every identity term replaced by another
// of the same class, chosen with rng, and whether any term was found. Training
// on both versions under the same label teaches the model that which group a
// comment names does not decide whether it is toxic — what the comment says
// about the group does.
func swapIdentities(text string, rng *rand.Rand) (string, bool) {
	return replaceIdentities(text, swapClass, func(c int) string { return swapWords[c][rng.IntN(len(swapWords[c]))] })
}

// counterfactualPeople returns text with every identity term of the second
// group list replaced by "person" (adjectives and singular nouns) or
// "people" (plurals), and whether any was found. Trained under the same
// label as the original, the copy teaches the model that naming a group
// adds nothing to what "people" would: the identity-template check
// compares every group with "people" (templates.go).
func counterfactualPeople(text string) (string, bool) {
	return replaceIdentities(text, groupClass2, func(c int) string { return [2]string{"person", "people"}[c] })
}

// replaceIdentities replaces every word of text in classes by repl of its
// class, keeping an initial capital.
func replaceIdentities(text string, classes map[string]int, repl func(int) string) (string, bool) {
	var b strings.Builder
	found := false
	i := 0
	for i < len(text) {
		r := rune(text[i])
		if r >= 0x80 || !unicode.IsLetter(r) {
			b.WriteByte(text[i])
			i++
			continue
		}
		j := i
		for j < len(text) && text[j] < 0x80 && unicode.IsLetter(rune(text[j])) {
			j++
		}
		w := text[i:j]
		if c, ok := classes[strings.ToLower(w)]; ok {
			found = true
			r := repl(c)
			if unicode.IsUpper(rune(w[0])) {
				r = strings.ToUpper(r[:1]) + r[1:]
			}
			b.WriteString(r)
		} else {
			b.WriteString(w)
		}
		i = j
	}
	return b.String(), found
}

// groupToken is the token an identity term of each swap class (adjective or
// singular noun; plural noun) becomes when a model masks identities.
var groupToken = [2]string{"_group", "_groups"}

// isIdentityToken reports whether a token names a group (masked or not).
// Evidence never points at one: what a comment says about a group may be
// toxic, naming the group is not, and a moderator shown "Muslims"
// highlighted as the reason a comment was held would learn the opposite.
func isIdentityToken(text string) bool {
	if text == groupToken[0] || text == groupToken[1] {
		return true
	}
	_, ok := groupClass2[text]
	return ok
}

// maskIdentities replaces every identity term among toks by its class's
// group token. Swapping terms in training copies makes groups
// interchangeable, but each name still kept a weight of its own, learned
// from how often hate sources name the group ("Muslims" alone added more to
// the logit than "stupid" in "I would never say Muslims are terrorists").
// Masked, no group's name can carry evidence: what is said about a group
// does, through the words around the token and the word-class features.
//
// With group list 2, "asylum seekers" is one plural term: the two words
// become one "_groups" token spanning both.
func maskIdentities(toks []token, list int) []token {
	classes := groupClasses(list)
	out := toks[:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if c, ok := classes[t.text]; ok {
			t.text = groupToken[c]
		} else if list >= 2 && t.text == "asylum" && i+1 < len(toks) && (toks[i+1].text == "seekers" || toks[i+1].text == "seeker") {
			c := 0
			if toks[i+1].text == "seekers" {
				c = 1
			}
			t.text, t.end, t.sentEnd = groupToken[c], toks[i+1].end, toks[i+1].sentEnd
			i++
		}
		out = append(out, t)
	}
	return out
}
