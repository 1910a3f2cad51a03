package toxicity

import (
	"maps"
	"slices"
)

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

// GroupWords returns the identity terms of group list v (Info.GroupList: 0
// or 1 the original list, 2 the extended one) in their two grammatical
// classes (adjective or singular noun; plural noun), for training's
// augmentation. The slices are copies. "asylum seeker(s)", the one
// two-word term, is not among them.
func GroupWords(v int) [2][]string {
	out := [2][]string{slices.Clone(swapWords[0]), slices.Clone(swapWords[1])}
	if v >= 2 {
		for c := range out {
			for _, w := range moreGroupWords[c] {
				if !slices.Contains(out[c], w) {
					out[c] = append(out[c], w)
				}
			}
		}
	}
	return out
}

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

// peopleWords are what group list 3 (Info.GroupList) hashes as group
// tokens besides the identity terms: the words a sentence uses for people in
// general. "Muslims live here" and "People live here" then have the same
// features, so naming a group cannot raise a neutral sentence, and what is
// said about the group must carry the score — as it does when said of
// people.
var peopleWords = map[string]int{"person": 0, "people": 1, "persons": 1, "islam": 0,
	"american": 0, "americans": 1, "canadian": 0, "canadians": 1}

// groupClass3 is the identity-term map of the third group list.
var groupClass3 = func() map[string]int {
	m := maps.Clone(groupClass2)
	maps.Copy(m, peopleWords)
	return m
}()

// groupClasses returns the identity-term map of group list v (0 or 1: the
// original list, which older model files were trained with; 2: the
// extended one; 3: the extended one and the words for people).
func groupClasses(v int) map[string]int {
	switch {
	case v >= 3:
		return groupClass3
	case v == 2:
		return groupClass2
	}
	return swapClass
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
		if list >= 3 && isGroupToken(t.text) {
			n := len(out)
			switch {
			case n > 0 && isGroupToken(out[n-1].text) && !out[n-1].sentEnd:
				// "Black people", "a gay man", "Muslim women": one group.
				t.start = out[n-1].start
				out = out[:n-1]
			case n > 1 && out[n-1].text == "of" && (out[n-2].text == "follower" || out[n-2].text == "followers") && !out[n-2].sentEnd:
				// "followers of Islam": the group, in the follower's number.
				t.text, t.start = groupToken[0], out[n-2].start
				if out[n-2].text == "followers" {
					t.text = groupToken[1]
				}
				out = out[:n-2]
			}
			// "an atheist", "a person": the article follows the sound of
			// the word, not what it means.
			if n := len(out); n > 0 && out[n-1].text == "an" {
				out[n-1].text = "a"
			}
		}
		out = append(out, t)
	}
	return out
}

func isGroupToken(s string) bool { return s == groupToken[0] || s == groupToken[1] }
