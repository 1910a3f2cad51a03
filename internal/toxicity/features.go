package toxicity

import "strings"

// The model sees a comment as hashed features of its normalised words:
//
//   - word unigrams and bigrams;
//   - character 3–5-grams inside each word, with the word's boundaries marked,
//     so "idiots", "idiotic" and "1d1ot" share evidence after normalisation.
//
// Character n-grams never span two words, punctuation or formatting, and
// numbers and links collapse to one token each: the model cannot learn a
// source's typography (double spaces, "==" headings, @USER, ellipses) or its
// length, only its words. That is what lets a model trained on toxic news
// comments and non-toxic text from elsewhere score ordinary news comments low.

// Feature kinds, mixed into the hash so a word and a character n-gram with the
// same bytes do not collide by construction.
const (
	kindWord   = 0x9e3779b1
	kindBigram = 0x85ebca77
	kindChar   = 0xc2b2ae3d
)

const (
	minChar     = 3
	maxChar     = 5
	maxCharWord = 24 // bytes of a word that char n-grams look at
)

// token is one normalised word and its byte range in the normalised text.
type token struct {
	text       string
	start, end int
	sentEnd    bool // the word ends a sentence (. ! ? or a line break follows)
}

// fnv32 hashes b with FNV-1a, starting from seed.
func fnv32(seed uint32, b string) uint32 {
	h := seed ^ 2166136261
	for i := 0; i < len(b); i++ {
		h ^= uint32(b[i])
		h *= 16777619
	}
	return h
}

// finalize mixes the bits of h (murmur3 finaliser) so the low bits used as the
// bucket index depend on every byte.
func finalize(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// appendWordFeatures appends the hashed features of token i (its unigram,
// its char n-grams and the bigram it starts) to dst.
func appendWordFeatures(dst []uint32, toks []token, i int) []uint32 {
	return appendCharFeatures(appendWordGrams(dst, toks, i), toks, i)
}

// appendWordGrams appends the unigram of token i and the bigram it starts.
func appendWordGrams(dst []uint32, toks []token, i int) []uint32 {
	w := toks[i].text
	dst = append(dst, finalize(fnv32(kindWord, w)))
	if i+1 < len(toks) {
		h := fnv32(kindBigram, w)
		h ^= ' '
		h *= 16777619
		for j := 0; j < len(toks[i+1].text); j++ {
			h ^= uint32(toks[i+1].text[j])
			h *= 16777619
		}
		dst = append(dst, finalize(h))
	}
	return dst
}

// appendCharFeatures appends the character n-grams of token i.
func appendCharFeatures(dst []uint32, toks []token, i int) []uint32 {
	w := toks[i].text
	if len(w) > 1 && w[0] != '_' {
		cw := w
		if len(cw) > maxCharWord {
			cw = cw[:maxCharWord]
		}
		// The padded word ' ' + cw + ' ', in a stack buffer.
		var buf [maxCharWord + 2]byte
		buf[0] = ' '
		copy(buf[1:], cw)
		l := len(cw) + 2
		buf[l-1] = ' '
		p := buf[:l]
		for n := minChar; n <= maxChar; n++ {
			if n >= l { // the whole padded word: the unigram covers it
				break
			}
			seed := uint32(kindChar+n) ^ 2166136261
			for s := 0; s+n <= l; s++ {
				h := seed
				for _, c := range p[s : s+n] {
					h ^= uint32(c)
					h *= 16777619
				}
				dst = append(dst, finalize(h))
			}
		}
	}
	return dst
}

// appendRawFeatures appends the features of the plain baseline: word 1–2-grams
// over whitespace-separated lowercased words and character 2–5-grams over the
// whole lowercased text, punctuation and spacing included. It is kept to
// measure the gain of the real features against it.
func appendRawFeatures(dst []uint32, lower string) []uint32 {
	if len(lower) > 4000 {
		lower = lower[:4000]
	}
	words := strings.Fields(lower)
	for i, w := range words {
		dst = append(dst, finalize(fnv32(kindWord, w)))
		if i+1 < len(words) {
			dst = append(dst, finalize(fnv32(kindBigram, w+" "+words[i+1])))
		}
	}
	for n := 2; n <= 5; n++ {
		for s := 0; s+n <= len(lower); s++ {
			dst = append(dst, finalize(fnv32(kindChar+uint32(n), lower[s:s+n])))
		}
	}
	return dst
}
