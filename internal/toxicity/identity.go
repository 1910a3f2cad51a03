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

var swapClass = func() map[string]int {
	m := map[string]int{}
	for c, ws := range swapWords {
		for _, w := range ws {
			m[w] = c
		}
	}
	return m
}()

// swapIdentities returns text with every identity term replaced by another
// of the same class, chosen with rng, and whether any term was found. Training
// on both versions under the same label teaches the model that which group a
// comment names does not decide whether it is toxic — what the comment says
// about the group does.
func swapIdentities(text string, rng *rand.Rand) (string, bool) {
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
		if c, ok := swapClass[strings.ToLower(w)]; ok {
			found = true
			repl := swapWords[c][rng.IntN(len(swapWords[c]))]
			if unicode.IsUpper(rune(w[0])) {
				repl = strings.ToUpper(repl[:1]) + repl[1:]
			}
			b.WriteString(repl)
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
	_, ok := swapClass[text]
	return ok
}

// maskIdentities replaces every identity term among toks by its class's
// group token. Swapping terms in training copies makes groups
// interchangeable, but each name still kept a weight of its own, learned
// from how often hate sources name the group ("Muslims" alone added more to
// the logit than "stupid" in "I would never say Muslims are terrorists").
// Masked, no group's name can carry evidence: what is said about a group
// does, through the words around the token and the word-class features.
func maskIdentities(toks []token) {
	for i := range toks {
		if c, ok := swapClass[toks[i].text]; ok {
			toks[i].text = groupToken[c]
		}
	}
}
