package moderation

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/textnorm"
)

// Limits on word lists, so that a policy stays cheap to compile and match.
const (
	MaxListEntries = 10000 // entries per list
	MaxEntryBytes  = 100   // bytes per entry
	MaxPhraseWords = 6     // words per phrase entry
)

// A WordList finds the entries of a list of words and short phrases in
// comment text, seeing through the evasions textnorm undoes while keeping
// word boundaries, so an entry never matches inside a longer word ("ass" does
// not match "class", "assassin" or "Essex").
//
// Entries are written in plain form, one word or phrase each:
//
//	idiot        the word and its usual inflections: idiots, idioted,
//	             idioter(s), idioting(s), idiotin; "bitch": bitches; "hate":
//	             hates, hated, hater(s), hating; "bully": bullies, bullied;
//	             "shit" (short vowel + consonant): shitting, shitted,
//	             shitter(s), shitty; "panic": panicked, panicking
//	=cock        exactly this word, no inflections (so "cocked" passes)
//	fuck*        any word starting with "fuck" (fuckface, fuckwit), with at
//	             least three letters before the star
//	towel head   a phrase: the words in sequence (inflecting the last), and
//	             the words run together, "towelhead(s)"
//
// Entries are normalised like comment text, so "Sh1t" in a list is "shit".
// A handful of ordinary English words that an inflection would produce
// ("titter", "dicker", "cocker", "cumming") are never matched as
// inflections; list them explicitly to catch them.
//
// Matching is one hash lookup per word in the common case; masked words
// ("f**k") are compared against the entries of the same length, and words
// spelled out letter by letter ("f u c k i n g") are searched for any entry
// among their letters.
type WordList struct {
	idx *index
}

// Match is one list entry found in a text.
type Match struct {
	Word string      // the entry as written in the list
	Span parley.Span // where it was found in the original text, in code points
}

// NewWordList compiles a list of entries. It returns an *parley.Error with
// code EInvalid naming the first unusable entry. Blank entries are skipped.
func NewWordList(entries []string) (*WordList, error) {
	idx, err := compileIndex(entries, nil, "word list")
	if err != nil {
		return nil, err
	}
	return &WordList{idx: idx}, nil
}

// Len returns the number of entries in the list.
func (l *WordList) Len() int { return len(l.idx.entries) }

// Match returns the entries found in text, in order of position.
func (l *WordList) Match(text string) []Match {
	tx := textnorm.Normalize(text)
	s := getScratch()
	defer putScratch(s)
	s.toks = textnorm.AppendTokens(s.toks, tx)
	s.hits = l.idx.find(tx.Norm, s.toks, s.hits)
	var out []Match
	for _, h := range s.hits {
		a, b := tx.Orig(h.start, h.end)
		m := Match{Word: l.idx.entries[h.entry].word, Span: textnorm.RuneSpan(text, a, b)}
		if n := len(out); n > 0 && out[n-1] == m {
			continue // one word read two ways ("a*s*s" spelled out and masked)
		}
		out = append(out, m)
	}
	return out
}

// Lists held by one index: a pipeline matches its banned and suspect lists in
// one pass.
const (
	listBanned  = 0
	listSuspect = 1
	numLists    = 2
)

// entry is one compiled list entry.
type entry struct {
	word string // as written in the policy
	list uint8
}

// ids holds, per list, the entry a surface form belongs to, or -1.
type ids [numLists]int32

var noIDs = ids{-1, -1}

// form is what a normalised word leads to: entries it is a form of, and
// phrases it starts.
type form struct {
	ids     ids
	phrases []int32 // indexes into index.phrases
	wild    int32   // index in index.byLen[len(word)], -1 if not there
}

// phrase is a multi-word entry: words in sequence, the last one inflected.
type phrase struct {
	ids   ids
	words []string // all but the last
	last  []string // surface forms of the last word
}

// index is a compiled set of word lists.
type index struct {
	entries     []entry
	forms       map[string]*form
	prefixes    map[string]ids // "fuck*" entries, by prefix
	prefixLens  []int          // distinct prefix lengths, ascending
	prefixStart trigrams       // first three bytes of every prefix
	byLen       map[int][]wild // every single-word surface form, by length, for masked words
	phrases     []phrase
	maxLen      int         // longest single-word surface form, in bytes
	filter      *wordFilter // the keys of forms
}

// wild is a surface form to compare against a masked word.
type wild struct {
	text string
	ids  ids
}

// hit is one entry found: its id and its byte range in the normalised text.
type hit struct {
	entry      int32
	list       uint8
	start, end int
}

// compileIndex compiles the banned list (list 0) and the suspect list (list
// 1, may be nil). Errors name the lists as the policy's JSON does unless
// names are given.
func compileIndex(banned, suspect []string, names ...string) (*index, error) {
	x := &index{
		forms:    make(map[string]*form, 8*(len(banned)+len(suspect))),
		filter:   new(wordFilter),
		prefixes: make(map[string]ids),
		byLen:    make(map[int][]wild),
	}
	for list, entries := range [][]string{banned, suspect} {
		name := [...]string{"banned_words", "suspect_words"}[list]
		if list < len(names) {
			name = names[list]
		}
		if len(entries) > MaxListEntries {
			return nil, parley.Errorf(parley.EInvalid, "%s has %d entries; the limit is %d", name, len(entries), MaxListEntries)
		}
		for _, raw := range entries {
			if err := x.add(raw, uint8(list)); err != nil {
				return nil, parley.Errorf(parley.EInvalid, "%s: %s", name, err)
			}
		}
	}
	slices.Sort(x.prefixLens)
	x.prefixLens = slices.Compact(x.prefixLens)
	return x, nil
}

// add compiles one entry into list.
func (x *index) add(raw string, list uint8) error {
	w := strings.TrimSpace(raw)
	if w == "" {
		return nil
	}
	if len(w) > MaxEntryBytes {
		return fmt.Errorf("entry %.20q… is longer than %d bytes", w, MaxEntryBytes)
	}
	exact := strings.HasPrefix(w, "=")
	prefix := strings.HasSuffix(w, "*")
	body := strings.TrimSuffix(strings.TrimPrefix(w, "="), "*")
	if exact && prefix {
		return fmt.Errorf("entry %q: use either '=' (exact) or a trailing '*' (prefix), not both", raw)
	}
	toks := textnorm.Tokens(textnorm.Normalize(body))
	if len(toks) == 0 {
		return fmt.Errorf("entry %q has no letters or digits", raw)
	}
	if len(toks) > MaxPhraseWords {
		return fmt.Errorf("entry %q has more than %d words", raw, MaxPhraseWords)
	}
	words := make([]string, len(toks))
	for i, tk := range toks {
		if tk.Has(textnorm.Masked) {
			return fmt.Errorf("entry %q: '*' may only end an entry, as a prefix wildcard", raw)
		}
		words[i] = tk.Text
	}
	if prefix && len(words) > 1 {
		return fmt.Errorf("entry %q: a prefix wildcard needs a single word", raw)
	}
	if prefix && len(words[0]) < 3 {
		return fmt.Errorf("entry %q: a prefix wildcard needs at least three letters before '*'", raw)
	}
	id := int32(len(x.entries))
	x.entries = append(x.entries, entry{word: w, list: list})

	if prefix {
		p := words[0]
		got, ok := x.prefixes[p]
		if !ok {
			got = noIDs
		}
		if got[list] < 0 {
			got[list] = id
		}
		x.prefixes[p] = got
		x.prefixLens = append(x.prefixLens, len(p))
		x.prefixStart.add(p)
		return nil
	}
	last := words[len(words)-1]
	lastForms := []string{last}
	if !exact {
		lastForms = inflect(last)
	}
	if len(words) > 1 {
		// The words run together ("towelhead") are a single-word form.
		joined := strings.Join(words[:len(words)-1], "")
		for _, f := range lastForms {
			x.addForm(joined+f, list, id)
		}
		pi := int32(len(x.phrases))
		ph := phrase{ids: noIDs, words: words[1 : len(words)-1], last: lastForms}
		ph.ids[list] = id
		x.phrases = append(x.phrases, ph)
		f := x.formOf(words[0])
		f.phrases = append(f.phrases, pi)
		return nil
	}
	for _, f := range lastForms {
		x.addForm(f, list, id)
	}
	return nil
}

// formOf returns the form record of word w, creating it.
func (x *index) formOf(w string) *form {
	f, ok := x.forms[w]
	if !ok {
		f = &form{ids: noIDs, wild: -1}
		x.forms[w] = f
		x.filter.add(w)
	}
	return f
}

// addForm records that surface form w belongs to entry id of list. The first
// entry of a list to claim a form keeps it.
func (x *index) addForm(w string, list uint8, id int32) {
	f := x.formOf(w)
	if f.ids[list] >= 0 {
		return
	}
	f.ids[list] = id
	x.maxLen = max(x.maxLen, len(w))
	l := x.byLen[len(w)]
	if f.wild >= 0 {
		l[f.wild].ids[list] = id
		return
	}
	f.wild = int32(len(l))
	ws := wild{text: w, ids: noIDs}
	ws.ids[list] = id
	x.byLen[len(w)] = append(l, ws)
}

// notInflections are ordinary English words that inflecting a common list
// entry would produce ("butt" → "butter", "twit" → "twitter"); they are
// matched only when listed themselves.
var notInflections = map[string]bool{
	"butter": true, "butters": true, "buttered": true, "buttering": true,
	"titter": true, "titters": true, "tittered": true, "tittering": true,
	"titer": true, "titers": true, "twitter": true, "twitters": true,
	"twittering": true, "twittered": true, "dicker": true, "dickers": true,
	"dickered": true, "dickering": true, "cocker": true, "cockers": true,
	"cocked": true, "cocking": true, "cumming": true, "hoer": true,
	"pricked": true, "pricking": true, "pricker": true, "prickers": true,
	"screwed": true, "screwing": true, "balled": true, "balling": true,
	"baller": true, "ballers": true, "bummer": true, "bummers": true,
	"bummed": true, "gayer": true, "nutter": true, "nutters": true,
	"nutty": true, "chinked": true, "chinking": true, "knobby": true,
	"hookers": true, "tarter": true, "sexes": true,
}

// inflect returns w and the inflected forms an editor listing w expects to be
// caught: plural and third person (-s; -es after s, x, z, ch, sh, o; -ies),
// past (-ed, -d, -ied), agent (-er, -ers), participle (-ing, -ings, and the
// dropped g "-in" for words of four letters or more: "fuckin" but never
// "cumin"), the doubled final consonant of short words (shitting, shitty) and
// -ck- after a final c (panicked, not "spiced").
func inflect(w string) []string {
	out := []string{w}
	if !asciiLetters(w) || len(w) < 3 {
		return out // inflections are English; two-letter words are too risky
	}
	add := func(s string) {
		if !notInflections[s] && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	n := len(w)
	lastc := w[n-1]
	switch {
	case lastc == 's' || lastc == 'x' || lastc == 'z' || lastc == 'o' ||
		strings.HasSuffix(w, "ch") || strings.HasSuffix(w, "sh"):
		add(w + "es")
	case lastc == 'y' && !vowel(w[n-2]):
		add(w[:n-1] + "ies")
	default:
		add(w + "s")
	}
	stem := w
	switch {
	case lastc == 'e':
		add(w + "d")
		add(w + "r")
		add(w + "rs")
		stem = w[:n-1]
	case lastc == 'y' && !vowel(w[n-2]):
		add(w[:n-1] + "ied")
		add(w + "er")
		add(w + "ers")
	case lastc == 'c':
		stem = w + "k"
		fallthrough
	default:
		add(stem + "ed")
		add(stem + "er")
		add(stem + "ers")
	}
	add(stem + "ing")
	add(stem + "ings")
	if n >= 4 && lastc != 'e' {
		add(stem + "in") // "fuckin'"
	}
	// Short vowel + final consonant doubles: shit → shitting, shitty.
	if !vowel(lastc) && !strings.ContainsRune("wxyc", rune(lastc)) && vowel(w[n-2]) && !vowel(w[n-3]) {
		d := w + string(lastc)
		for _, suf := range []string{"ing", "ed", "er", "ers", "y"} {
			add(d + suf)
		}
	}
	return out
}

func vowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

func asciiLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// find appends every entry found in toks, the tokens of the normalised text
// norm, to hits, in order of position.
func (x *index) find(norm string, toks []textnorm.Token, hits []hit) []hit {
	for ti := range toks {
		tk := &toks[ti]
		if tk.Has(textnorm.Joined) {
			x.findJoined(tk, &hits)
			if len(x.prefixLens) > 0 {
				x.findPrefix(tk, &hits)
			}
			continue
		}
		x.findSplit(norm, toks, ti, &hits)
		f := x.lookup(tk.Text)
		if f == nil && tk.Alt != "" {
			f = x.lookup(tk.Alt)
		}
		if f == nil && tk.Has(textnorm.Stretched) {
			f = x.unstretched(tk)
		}
		if f != nil {
			x.reportIDs(f.ids, tk.Start, tk.End, &hits)
			for _, pi := range f.phrases {
				if end, ok := x.phraseAt(pi, toks, ti); ok {
					x.reportIDs(x.phrases[pi].ids, tk.Start, end, &hits)
				}
			}
		}
		if len(x.prefixLens) > 0 && (tk.Alt != "" || tk.Flags&textnorm.Stretched != 0 ||
			len(tk.Text) >= 3 && x.prefixStart.has(tk.Text)) {
			x.findPrefix(tk, &hits)
		}
		if f == nil && tk.Has(textnorm.Masked) {
			x.findMasked(tk, &hits)
		}
	}
	return hits
}

// maxSplitPieces bounds how many pieces of a split word are run together.
const maxSplitPieces = 4

// contractions are the endings an apostrophe joins to an ordinary word
// ("he'll", "we'd", "scum's", "rock'n'roll"): after an apostrophe they never
// join the word before, so "he'll" is not "hell".
var contractions = map[string]bool{
	"s": true, "t": true, "d": true, "ll": true, "re": true, "ve": true, "m": true, "n": true, "em": true,
}

// findSplit searches a word split into pieces by single hyphens, underscores
// or apostrophes ("scum-bag", "scum_bag", "scum'bag", "sc-um-bag") for
// entries: the pieces starting at token ti, run together, must be a form of
// an entry (or start with a prefix entry) as a whole. A hyphenated compound
// whose joined spelling is no entry ("scum-free", "Scunthorpe-based",
// "class-action") is left alone; the pieces themselves are matched as
// words, as always.
func (x *index) findSplit(norm string, toks []textnorm.Token, ti int, hits *[]hit) {
	var buf [2 * MaxEntryBytes]byte
	joined := append(buf[:0], toks[ti].Text...)
	for j := ti + 1; j < len(toks) && j-ti < maxSplitPieces; j++ {
		prev, tk := &toks[j-1], &toks[j]
		if tk.Start != prev.End+1 || tk.Has(textnorm.Joined) {
			return
		}
		switch norm[prev.End] {
		case '-', '_':
		case '\'':
			if contractions[tk.Text] {
				return
			}
		default:
			return
		}
		joined = append(joined, tk.Text...)
		if len(joined) > x.maxLen && len(x.prefixLens) == 0 {
			return
		}
		w := string(joined)
		if f := x.lookup(w); f != nil && f.ids != noIDs {
			x.reportIDs(f.ids, toks[ti].Start, tk.End, hits)
			return
		}
		if len(x.prefixLens) > 0 && len(w) >= 3 && x.prefixStart.has(w) {
			n := len(*hits)
			x.findPrefix(&textnorm.Token{Text: w, Start: toks[ti].Start, End: tk.End}, hits)
			if len(*hits) > n {
				return
			}
		}
	}
}

func (x *index) reportIDs(of ids, start, end int, hits *[]hit) {
	for list, id := range of {
		if id >= 0 {
			*hits = append(*hits, hit{entry: id, list: uint8(list), start: start, end: end})
		}
	}
}

// unstretched looks up the readings of a stretched word.
func (x *index) unstretched(tk *textnorm.Token) *form {
	for _, w := range textnorm.Unstretch(tk.Text) {
		if f := x.lookup(w); f != nil {
			return f
		}
	}
	return nil
}

// phraseAt reports whether phrase pi continues at the tokens after ti, and
// the end of its last word.
func (x *index) phraseAt(pi int32, toks []textnorm.Token, ti int) (int, bool) {
	p := &x.phrases[pi]
	k := ti + 1
	for _, w := range p.words {
		if k >= len(toks) || toks[k].Text != w {
			return 0, false
		}
		k++
	}
	if k >= len(toks) || !slices.Contains(p.last, toks[k].Text) {
		return 0, false
	}
	return toks[k].End, true
}

// findPrefix reports the prefix entries ("fuck*") the token starts with.
func (x *index) findPrefix(tk *textnorm.Token, hits *[]hit) {
	texts := []string{tk.Text, tk.Alt}
	if tk.Has(textnorm.Stretched) {
		texts = append(texts, textnorm.Unstretch(tk.Text)...)
	}
	for _, s := range texts {
		if len(s) < 3 || !x.prefixStart.has(s) {
			continue
		}
		for _, n := range x.prefixLens {
			if n > len(s) {
				break
			}
			if got, ok := x.prefixes[s[:n]]; ok {
				x.reportIDs(got, tk.Start, tk.End, hits)
				return
			}
		}
	}
}

// findMasked compares a masked word ("f**k", "sh*tty") with every surface
// form of the same length, '*' matching any one letter. A word that is
// mostly mask ("***", "a**" is allowed) must still show one letter.
func (x *index) findMasked(tk *textnorm.Token, hits *[]hit) {
	w := tk.Text
	letters := 0
	for i := 0; i < len(w); i++ {
		if w[i] != '*' {
			letters++
		}
	}
	if letters == 0 || len(w) < 3 {
		return
	}
	for _, cand := range x.byLen[len(w)] {
		if wildEqual(w, cand.text) {
			x.reportIDs(cand.ids, tk.Start, tk.End, hits)
			return
		}
	}
}

func wildEqual(masked, w string) bool {
	for i := 0; i < len(masked); i++ {
		if masked[i] != '*' && masked[i] != w[i] {
			return false
		}
	}
	return true
}

// findJoined searches a spelled-out word for entries: the whole word first,
// then, left to right, the longest entry starting at each letter, so that
// "a f u c k i n g" finds "fucking". Letter k of the token is at Norm byte
// Start+k*Stride.
func (x *index) findJoined(tk *textnorm.Token, hits *[]hit) {
	w := tk.Text
	for i := 0; i < len(w); {
		found := false
		for j := min(len(w), i+x.maxLen); j >= i+3; j-- {
			if f := x.lookup(w[i:j]); f != nil && f.ids != noIDs {
				x.reportIDs(f.ids, tk.Start+i*tk.Stride, tk.Start+(j-1)*tk.Stride+1, hits)
				i, found = j, true
				break
			}
		}
		if !found {
			i++
		}
	}
}

// lookup returns the form record of word w, or nil.
func (x *index) lookup(w string) *form {
	if !x.filter.has(w) {
		return nil
	}
	return x.forms[w]
}

// wordFilter is a one-hash Bloom filter over the first three bytes and the
// length of every word in index.forms. Most words of a comment are in no
// list; the filter turns them away for a few instructions instead of a map
// lookup. With 2,000 entries (some 20,000 forms) about one bit in six is set.
type wordFilter [1 << 17 / 64]uint64

func filterKey(w string) uint32 {
	var k uint32
	switch {
	case len(w) >= 3:
		k = uint32(w[0])<<16 | uint32(w[1])<<8 | uint32(w[2])
	case len(w) == 2:
		k = uint32(w[0])<<16 | uint32(w[1])<<8
	case len(w) == 1:
		k = uint32(w[0]) << 16
	}
	k ^= uint32(min(len(w), 255)) << 24
	return (k * 2654435761) >> (32 - 17)
}

func (f *wordFilter) add(w string) {
	k := filterKey(w)
	f[k/64] |= 1 << (k % 64)
}

func (f *wordFilter) has(w string) bool {
	k := filterKey(w)
	return f[k/64]&(1<<(k%64)) != 0
}

// trigrams is a set of the first three bytes of strings, hashed: a cheap
// filter before a map lookup.
type trigrams [1 << 16 / 64]uint64

func trigramKey(s string) uint32 {
	k := uint32(s[0])<<16 | uint32(s[1])<<8 | uint32(s[2])
	return (k * 2654435761) >> 16
}

func (b *trigrams) add(s string) {
	k := trigramKey(s)
	b[k/64] |= 1 << (k % 64)
}

// has reports whether a string starting like s (len(s) >= 3) was added.
func (b *trigrams) has(s string) bool {
	k := trigramKey(s)
	return b[k/64]&(1<<(k%64)) != 0
}

// scratch holds the buffers one match needs; pooled so that matching does
// not allocate them per comment.
type scratch struct {
	toks []textnorm.Token
	hits []hit
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{toks: make([]textnorm.Token, 0, 256), hits: make([]hit, 0, 16)}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.toks) > 1<<14 || cap(s.hits) > 1<<10 {
		return // do not keep buffers grown by a huge comment
	}
	// The stale tokens keep the last text alive until the buffer is
	// reused; clearing them costs more (write barriers) than it saves.
	s.toks, s.hits = s.toks[:0], s.hits[:0]
	scratchPool.Put(s)
}
