package toxicity

import "math/bits"

// Word classes: a few hand-written lists of words that play the same part in
// abuse — a group named, an animal or disease it is likened to, an act of
// violence, a threat's modal ("will", "should"), a negation or report of
// someone else's words. The training data has every such word only a few
// times ("vermin" in six training posts, "cockroaches" in seven), so each
// word's own weight is noisy; a class feature shared by every member lets
// what the data says about "rats" and "parasites" carry over to "vermin".
// Each word of a class adds the class feature, and each class seen earlier
// in the same sentence adds an ordered pair feature ("group … dehumanising",
// "negation … group", "modal … violence"). These are features like any
// other: training learns their weights (which may be zero or negative); no
// list decides a score by itself.

const kindClass = 0x27d4eb2f

// Word classes, as bits of a sentence's class set.
const (
	clsGroup     = 1 << iota // a group or a target: "immigrants", "they", "you"
	clsDehuman               // animals, vermin, disease
	clsViolence              // acts and instruments of violence
	clsModal                 // future, wish or obligation: "will", "should", "hope"
	clsNegation              // negation and reported speech: "never", "wrong to say"
	clsAddressee             // the reader addressed: "you", "your" (Info.ClassSets)
	numClasses   = 6
)

// wordClass maps a normalised word to its class bits.
var wordClass = func() map[string]uint8 {
	m := map[string]uint8{}
	add := func(c uint8, ws ...string) {
		for _, w := range ws {
			m[w] |= c
		}
	}
	for _, ws := range swapWords {
		add(clsGroup, ws...)
	}
	add(clsGroup, groupToken[:]...)
	add(clsGroup, "people", "they", "them", "their", "those", "these", "you", "your", "yours",
		"whites", "white", "jew", "negroes", "foreigners", "migrants", "aliens", "liberals", "conservatives",
		"leftists", "politicians", "trans", "gays", "roma", "gypsies", "natives")
	add(clsDehuman, "vermin", "rat", "rats", "cockroach", "cockroaches", "roaches", "ape", "apes",
		"monkey", "monkeys", "animal", "animals", "beast", "beasts", "savage", "savages", "subhuman",
		"subhumans", "parasite", "parasites", "leech", "leeches", "pest", "pests", "insects", "maggots",
		"swine", "pigs", "dogs", "cattle", "livestock", "filth", "scum", "cancer", "disease", "diseases",
		"plague", "infestation", "infest", "infesting", "infect", "infects", "virus", "tumor", "tumour",
		"mongrels", "barbarians", "primitive", "breed", "breeding", "creatures", "snakes", "locusts",
		"lice", "germs", "trash", "garbage", "sewer", "sewers")
	add(clsViolence, "kill", "kills", "killed", "killing", "murder", "murdered", "shoot", "shot",
		"shooting", "stab", "stabbed", "stabs", "hang", "hanged", "hanging", "lynch", "lynched", "burn",
		"burned", "beat", "beaten", "bullet", "bullets", "gun", "guns", "knife", "slaughter", "exterminate",
		"exterminated", "extermination", "gas", "gassed", "bomb", "strangle", "choke", "neck", "throat",
		"ditch", "bury", "buried", "rape", "raped", "destroy", "wipe", "eliminate", "execute", "executed",
		"torture", "punch", "smash", "behead", "beheaded", "massacre", "die", "dead", "death", "deported",
		"deport", "eradicate", "purge", "genocide", "hurt", "attack", "break", "senseless")
	add(clsAddressee, "you", "your", "yours", "yourself", "ya", "u", "ur")
	add(clsModal, "will", "ll", "gonna", "going", "should", "shall", "hope", "deserve", "deserves",
		"must", "ought", "need", "needs", "wish", "let", "lets", "gotta")
	add(clsNegation, "never", "not", "no", "nobody", "nothing", "don", "dont", "doesn", "didn",
		"isn", "aren", "wrong", "false", "lie", "lies", "myth", "stereotype", "stereotypes", "slur",
		"slurs", "bigotry", "bigoted", "racist", "racism", "claim", "claims", "claiming", "say",
		"saying", "says", "said", "call", "calling", "called", "stop", "shame", "ashamed", "untrue")
	return m
}()

// appendClassFeatures appends the class features of word w, each repeat
// times, given the set of classes seen earlier in its sentence, and returns
// the updated set. With sets, the addressee class and the class-set
// features are added too.
func appendClassFeatures(dst []uint32, w string, seen uint8, repeat int, sets bool) ([]uint32, uint8) {
	c := wordClass[w]
	if !sets {
		c &^= clsAddressee
	}
	if c == 0 {
		return dst, seen
	}
	for k := 0; k < numClasses; k++ {
		if c&(1<<k) == 0 {
			continue
		}
		f := finalize(uint32(kindClass) ^ uint32(k+1)*0x9e3779b1)
		for r := 0; r < repeat; r++ {
			dst = append(dst, f)
		}
		for j := 0; j < numClasses; j++ {
			if seen&(1<<j) != 0 && j != k {
				f := finalize(uint32(kindClass) ^ uint32((j+1)*16+k+1)*0x85ebca6b)
				for r := 0; r < repeat; r++ {
					dst = append(dst, f)
				}
			}
		}
	}
	if sets {
		if all := seen | c; all != seen && bits.OnesCount8(all) >= 3 {
			f := finalize(uint32(kindClass) ^ (0x1000+uint32(all))*0xc2b2ae35)
			for r := 0; r < repeat; r++ {
				dst = append(dst, f)
			}
		}
	}
	return dst, seen | c
}
