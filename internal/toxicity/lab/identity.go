package lab

import (
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/internal/toxicity"
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

// swapWords and groupWords2 are the runtime's identity terms (the
// original list and the second one) by grammatical class, and swapClass
// and groupClass2 the maps of word to class.
var (
	swapWords   = toxicity.GroupWords(0)
	groupWords2 = toxicity.GroupWords(2)
	swapClass   = classMap(swapWords)
	groupClass2 = classMap(groupWords2)
)

func classMap(lists [2][]string) map[string]int {
	m := map[string]int{}
	for c, ws := range lists {
		for _, w := range ws {
			m[w] = c
		}
	}
	return m
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
