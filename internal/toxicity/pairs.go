package toxicity

// Group × word pairs (Info.GroupPairs). With identities masked, "Muslims
// are vermin" and "Muslims are neighbours" share the group token, whose
// weight is tied to what "people" weighs; what tells them apart is the
// predicate. A word's own weight is learned from every sentence it occurs
// in, most of which are about no group; the pair feature "word said of a
// group" is learned only from sentences that name one, so the data's many
// neutral sentences about groups and its hate about them both land on the
// pair, not on the group's name.

const (
	kindPairAfter  = 0x165667b1 // the word follows a group token
	kindPairBefore = 0xd3a2646c // the word precedes a group token
	// pairWindow is how many words either side of a group token pair with
	// it, within its sentence.
	pairWindow = 6
)

// appendGroupPairs appends the pair features of token i: one for the
// nearest group token before it and one for the nearest after it, within
// pairWindow words of its sentence. A group token pairs with nothing
// itself ("Black people": one group).
func appendGroupPairs(dst []uint32, toks []token, i int) []uint32 {
	w := toks[i].text
	if isGroupToken(w) {
		return dst
	}
	for j := i - 1; j >= 0 && i-j <= pairWindow && !toks[j].sentEnd; j-- {
		if isGroupToken(toks[j].text) {
			dst = append(dst, finalize(fnv32(kindPairAfter, w)))
			break
		}
	}
	for j := i + 1; j < len(toks) && j-i <= pairWindow && !toks[j-1].sentEnd; j++ {
		if isGroupToken(toks[j].text) {
			dst = append(dst, finalize(fnv32(kindPairBefore, w)))
			break
		}
	}
	return dst
}
