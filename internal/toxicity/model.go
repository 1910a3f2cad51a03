package toxicity

import (
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/textnorm"
)

// Heads of the model, in the order of its weight vector.
const (
	HeadToxicity = iota
	HeadIdentity
	HeadSpam
	// HeadThreat is learned from the threats the Civil Comments raters
	// marked (and Jigsaw's threat label), over the word-class features
	// only; a model with Info.ThreatHead blends it into toxicity, so a
	// threat without abusive words can be held. It is not a score of its
	// own.
	HeadThreat
	// NumHeads is the number of heads: the stride of Model.W.
	NumHeads
)

// headNames name the heads in files and reports.
var headNames = [NumHeads]string{"toxicity", "identity_attack", "spam", "threat"}

// DefaultHoldThreshold is the toxicity score at or above which the moderation
// pipeline holds a comment for review by default (moderation.Policy's
// ToxicityHold). Training calibrates the model so that this threshold holds
// DefaultHoldRate of ordinary news comments.
const DefaultHoldThreshold = 0.8

// maxEvidence is how many words an explanation lists at most, and
// minEvidence the smallest contribution to the logit it lists.
const (
	maxEvidence = 8
	minEvidence = 0.05
)

// Model is a linear model over hashed n-gram features with one output per
// head (toxicity, identity attack, spam). It is safe for concurrent use; a
// loaded model is never modified.
type Model struct {
	Bits      uint      // 1<<Bits hash buckets
	W         []float32 // weights, bucket-major: W[bucket*NumHeads+head]
	Bias      [NumHeads]float32
	Threshold float64 // the default hold threshold on Toxicity
	Info      Info    // how the model was trained
	// Vec, if set, adds the word-vector branch to the toxicity logit.
	Vec *VectorBranch
}

// Info describes a model's training, for the model card and `parley model eval`.
type Info struct {
	Version  int               `json:"version"`
	Command  string            `json:"command,omitempty"`  // the command line that trained it
	Seed     int64             `json:"seed"`               // random seed of the training run
	Sources  map[string]int    `json:"sources,omitempty"`  // training examples per source
	Licences map[string]string `json:"licences,omitempty"` // restricted sources trained on, with their licence
	Baseline bool              `json:"baseline,omitempty"` // the plain logistic-regression baseline
	// RawFeatures: word 1–2-grams and character 2–5-grams over the raw
	// lowercased text (the baseline's features).
	RawFeatures bool `json:"raw_features,omitempty"`

	// SentenceMax scores toxicity as the larger of the whole text's logit
	// and its most toxic sentence's.
	SentenceMax bool `json:"sentence_max,omitempty"`
	// WordClasses adds the word-class features of classes.go.
	WordClasses bool `json:"word_classes,omitempty"`
	// ClassRepeat is how many times each word-class feature is counted
	// (0 means once): a larger value lets a handful of class features weigh
	// against the many n-grams of a sentence.
	ClassRepeat int `json:"class_repeat,omitempty"`
	// MaskIdentity hashes every identity term as one token per grammatical
	// class ("_group", "_groups"), so no group's name carries weight of its
	// own (identity.go).
	MaskIdentity bool `json:"mask_identity,omitempty"`
	// ClassSets adds the addressee word class and the class-set features
	// (classes.go).
	ClassSets bool `json:"class_sets,omitempty"`
	// ThreatHead scores toxicity as the larger of the toxicity logit and the
	// threat branch's, ThreatMix·threat + (1−ThreatMix)·toxicity, where the
	// threat head sees the word-class features only.
	ThreatHead bool    `json:"threat_head,omitempty"`
	ThreatMix  float64 `json:"threat_mix,omitempty"`
	// Validate: trained without the validation fifth of the Civil Comments
	// posts (TrainOptions.Validate), for choosing a recipe.
	Validate bool `json:"validate,omitempty"`
	// Recipe is the training recipe's generation (TrainOptions.Recipe); 0
	// in files written before the second generation (recipe 4 and older).
	Recipe int `json:"recipe,omitempty"`
	// GroupList is the identity-term list masking uses: 0 the original
	// one, 2 the extended list of the second generation (identity.go).
	// From list 2 on, explanations show group tokens that raised the score.
	GroupList int `json:"group_list,omitempty"`
	// GroupPairs adds, for each word near a group token in its sentence,
	// a feature pairing the word with the group's side (before or after
	// it): what is said of a group ("_groups … vermin") weighs apart from
	// what is said elsewhere, and the group token itself still carries
	// nothing of its own (pairs.go).
	GroupPairs bool `json:"group_pairs,omitempty"`
	// IdentityBranch scores toxicity as the larger of the toxicity logit
	// (after the threat branch) and the identity branch's,
	// IdentityMix·(identity + IdentityShift) + (1−IdentityMix)·toxicity:
	// an attack on a group is held on the identity-attack head's evidence
	// even where the toxicity head, calibrated on news comments, is unsure.
	// IdentityShift is set by calibration; the reported identity-attack
	// score does not include it.
	IdentityBranch bool    `json:"identity_branch,omitempty"`
	IdentityMix    float64 `json:"identity_mix,omitempty"`
	IdentityShift  float64 `json:"identity_shift,omitempty"`
	// WordIdentity: the identity-attack head sees the word-level features
	// only (unigrams, bigrams, group pairs, word classes; no character
	// n-grams), so a phrase ("go back to") is not diluted by the spelling
	// features of every word.
	WordIdentity bool `json:"word_identity,omitempty"`
	// Vectors names the word vectors the vector branch was trained from
	// (Model.Vec); the file keeps only their projections.
	Vectors string `json:"vectors,omitempty"`
	// Calibration says how Threshold was chosen.
	Calibration string `json:"calibration,omitempty"`
}

// NewModel returns a zero model with 1<<bits buckets, for training.
func NewModel(bits uint) *Model {
	return &Model{Bits: bits, W: make([]float32, (1<<bits)*NumHeads), Threshold: DefaultHoldThreshold}
}

// scratch is the per-call working memory of Score, pooled.
type scratch struct {
	ntoks []textnorm.Token
	toks  []token
	feats []uint32
	ends  []int32 // ends[i] is the end of token i's features in feats
	// cls[i] is the start of token i's word-class features in feats (they
	// end at ends[i]): the threat head sees those only.
	cls []int32
	// chr[i] is the start of token i's character n-grams in feats (they end
	// at cls[i]): a word-level head (Info.WordIdentity) skips them.
	chr  []int32
	text []byte
	// vidx and vpos are the vector branch's known words: their positions
	// in its vocabulary and among toks.
	vidx, vpos []int32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// featureSet says which features a model computes; it is read from the
// model's Info, so a model file always scores with the features it was
// trained on.
type featureSet struct {
	raw          bool // the baseline's raw n-grams
	classes      bool // word-class features (classes.go)
	classRepeat  int  // times each class feature counts; 0 means 1
	maskIdentity bool // identity terms hashed as one token (identity.go)
	classSets    bool // the addressee class and class-set features (classes.go)
	groupList    int  // which identity-term list masking uses (Info.GroupList)
	groupPairs   bool // group × word pair features (Info.GroupPairs)
}

func (i Info) features() featureSet {
	return featureSet{raw: i.RawFeatures, classes: i.WordClasses, classRepeat: i.ClassRepeat, maskIdentity: i.MaskIdentity,
		classSets: i.ClassSets, groupList: i.GroupList, groupPairs: i.GroupPairs && i.MaskIdentity}
}

// featurize fills sc with the words and hashed features of t.
// With fs.classes, each word also adds its word-class features
// (classes.go).
func featurize(sc *scratch, t textnorm.Text, fs featureSet) {
	sc.toks = words(t, sc.toks[:0], &sc.ntoks)
	if fs.maskIdentity {
		sc.toks = maskIdentities(sc.toks, fs.groupList)
	}
	sc.feats = sc.feats[:0]
	sc.ends = sc.ends[:0]
	sc.cls = sc.cls[:0]
	sc.chr = sc.chr[:0]
	repeat := max(fs.classRepeat, 1)
	var seen uint8
	for i := range sc.toks {
		sc.feats = appendWordGrams(sc.feats, sc.toks, i)
		if fs.groupPairs {
			sc.feats = appendGroupPairs(sc.feats, sc.toks, i)
		}
		sc.chr = append(sc.chr, int32(len(sc.feats)))
		sc.feats = appendCharFeatures(sc.feats, sc.toks, i)
		sc.cls = append(sc.cls, int32(len(sc.feats)))
		if fs.classes {
			sc.feats, seen = appendClassFeatures(sc.feats, sc.toks[i].text, seen, repeat, fs.classSets)
			if sc.toks[i].sentEnd {
				seen = 0
			}
		}
		sc.ends = append(sc.ends, int32(len(sc.feats)))
	}
}

// Features returns the hashed features of text as a model trained with
// Info i sees them (no quote masking), and its word-class features, the
// threat head's input (nil for raw features): the training rows of such a
// model.
func (i Info) Features(text string) (all, cls []uint32) {
	fs := i.features()
	if fs.raw {
		return appendRawFeatures(nil, strings.ToLower(text)), nil
	}
	sc := &scratch{}
	featurize(sc, textnorm.Normalize(text), fs)
	for k, end := range sc.ends {
		cls = append(cls, sc.feats[sc.cls[k]:end]...)
	}
	return sc.feats, cls
}

// WordFeatures returns the features of text without its character
// n-grams: the input of a word-level identity head (Info.WordIdentity).
func (i Info) WordFeatures(text string) []uint32 {
	fs := i.features()
	if fs.raw {
		return nil
	}
	sc := &scratch{}
	featurize(sc, textnorm.Normalize(text), fs)
	var out []uint32
	start := int32(0)
	for k, end := range sc.ends {
		out = append(out, sc.feats[start:sc.chr[k]]...)
		out = append(out, sc.feats[sc.cls[k]:end]...)
		start = end
	}
	return out
}

// Logits returns the per-head logits of text as it is (no quote masking),
// as Score computes them; the threat head's is the threat branch's blend
// when Info.ThreatHead is set. For calibration and tests.
func (m *Model) Logits(text string) [NumHeads]float64 {
	sc := &scratch{}
	featurize(sc, textnorm.Normalize(text), m.Info.features())
	l, _ := m.logitsWhich(sc)
	return l
}

// FeatureScale is the factor applied to every feature of a text with n
// features: the feature vector has unit L2 norm, so a long comment does not
// score higher for being long.
func FeatureScale(n int) float32 {
	if n == 0 {
		return 0
	}
	return float32(1 / math.Sqrt(float64(n)))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Score returns the toxicity, identity-attack and spam scores of text, with
// the evidence for the toxicity score. quote is the text the author quotes
// from an earlier comment: it is not the author's own words, so it is left
// out of the scoring wherever it occurs in text, as are markdown block
// quotes ("> " lines).
func (m *Model) Score(text, quote string) parley.Scores {
	return m.score(text, quote, true)
}

// ScoreFast is Score without the evidence: the same scores, faster.
func (m *Model) ScoreFast(text, quote string) parley.Scores {
	return m.score(text, quote, false)
}

func (m *Model) score(text, quote string, explain bool) parley.Scores {
	sc := scratchPool.Get().(*scratch)
	defer func() {
		if cap(sc.feats) <= 1<<16 { // a huge comment's buffers are not kept
			scratchPool.Put(sc)
		}
	}()
	own := maskQuotes(text, quote, &sc.text)
	nt := textnorm.Normalize(own)
	if m.Info.RawFeatures {
		sc.toks, sc.ends = sc.toks[:0], sc.ends[:0]
		sc.feats = appendRawFeatures(sc.feats[:0], strings.ToLower(own))
		explain = false
	} else {
		featurize(sc, nt, m.Info.features())
	}
	logits, head := m.logitsWhich(sc)
	s := parley.Scores{
		Toxicity:       sigmoid(logits[HeadToxicity]),
		IdentityAttack: sigmoid(logits[HeadIdentity]),
		Spam:           sigmoid(logits[HeadSpam]),
	}
	if explain {
		s.Evidence = m.evidence(sc, nt, text, head)
	}
	return s
}

// logits returns the per-head logits of the features in sc. The toxicity
// logit is the larger of the whole text's and its most toxic sentence's: one
// abusive sentence in a long, otherwise civil comment is not diluted away.
func (m *Model) logits(sc *scratch) [NumHeads]float64 {
	out, _ := m.logitsWhich(sc)
	return out
}

// logitsWhich is logits, also returning the head whose weights the toxicity
// score comes from (HeadThreat when the threat branch is the larger). The
// threat head's logit is over the word-class features of the whole text or
// of its most threatening sentence, scaled by their own count.
func (m *Model) logitsWhich(sc *scratch) ([NumHeads]float64, int) {
	mask := uint32(1)<<m.Bits - 1
	var sum [NumHeads]float32
	w := m.W
	feats := sc.feats
	best, bestT := float32(math.Inf(-1)), float32(math.Inf(-1))
	var sent, sentT float32
	sentStart, nT, sentT0 := 0, 0, 0
	k := 0
	wordID := m.Info.WordIdentity
	var sumI float32
	nI := 0
	for i, end := range sc.ends {
		if wordID {
			// The identity head skips the character n-grams.
			c0, c1 := int(sc.chr[i]), int(sc.cls[i])
			nI += c0 - k + int(end) - c1
			for ; k < c0; k++ {
				j := int(feats[k]&mask) * NumHeads
				sum[0] += w[j]
				sumI += w[j+1]
				sum[2] += w[j+2]
				sent += w[j]
			}
			for ; k < c1; k++ {
				j := int(feats[k]&mask) * NumHeads
				sum[0] += w[j]
				sum[2] += w[j+2]
				sent += w[j]
			}
			for ; k < int(end); k++ {
				j := int(feats[k]&mask) * NumHeads
				sum[0] += w[j]
				sumI += w[j+1]
				sum[2] += w[j+2]
				sent += w[j]
			}
		}
		for ; k < int(end); k++ {
			j := int(feats[k]&mask) * NumHeads
			sum[0] += w[j]
			sum[1] += w[j+1]
			sum[2] += w[j+2]
			sent += w[j]
		}
		if c := int(sc.cls[i]); c < int(end) {
			for _, f := range feats[c:end] {
				sentT += w[int(f&mask)*NumHeads+HeadThreat]
			}
			nT += int(end) - c
		}
		if m.Info.SentenceMax && (sc.toks[i].sentEnd || i == len(sc.ends)-1) {
			best = max(best, sent*FeatureScale(k-sentStart))
			if nT > sentT0 {
				bestT = max(bestT, sentT*FeatureScale(nT-sentT0))
			}
			sum[HeadThreat] += sentT
			sent, sentT, sentStart, sentT0 = 0, 0, k, nT
		}
	}
	sum[HeadThreat] += sentT
	if k < len(feats) { // raw baseline features carry no token structure
		for ; k < len(feats); k++ {
			j := int(feats[k]&mask) * NumHeads
			sum[0] += w[j]
			sum[1] += w[j+1]
			sum[2] += w[j+2]
		}
	}
	scale := FeatureScale(len(feats))
	var out [NumHeads]float64
	for h := range HeadThreat {
		out[h] = float64(m.Bias[h] + scale*sum[h])
	}
	if wordID {
		out[HeadIdentity] = float64(m.Bias[HeadIdentity] + FeatureScale(nI)*sumI)
	}
	if whole := scale * sum[0]; best > whole {
		out[HeadToxicity] = float64(m.Bias[HeadToxicity] + best)
	}
	if m.Vec != nil {
		out[HeadToxicity] += m.Vec.logit(sc)
	}
	out[HeadThreat] = math.Inf(-1) // no word-class feature, no threat evidence
	if nT > 0 {
		out[HeadThreat] = float64(m.Bias[HeadThreat] + max(FeatureScale(nT)*sum[HeadThreat], bestT))
	}
	head := HeadToxicity
	tox := out[HeadToxicity]
	if m.Info.ThreatHead {
		mix := m.Info.ThreatMix
		out[HeadThreat] = mix*out[HeadThreat] + (1-mix)*tox
		if out[HeadThreat] > out[HeadToxicity] {
			out[HeadToxicity], head = out[HeadThreat], HeadThreat
		}
	}
	if m.Info.IdentityBranch {
		mix := m.Info.IdentityMix
		if b := mix*(out[HeadIdentity]+m.Info.IdentityShift) + (1-mix)*tox; b > out[HeadToxicity] {
			out[HeadToxicity], head = b, HeadIdentity
		}
	}
	return out, head
}

// evidence attributes the toxicity logit to words, by the weights of head
// (the toxicity or the threat head): each word gets the weights of its
// unigram, character n-grams and class features and half of each bigram it
// is part of. The words that raise the score most, strongest first, are located
// in the original text.
func (m *Model) evidence(sc *scratch, nt textnorm.Text, orig string, head int) []parley.Evidence {
	if len(sc.toks) == 0 {
		return nil
	}
	mask := uint32(1)<<m.Bits - 1
	scale := FeatureScale(len(sc.feats))
	// A word-level identity head (Info.WordIdentity) saw no character
	// n-grams: they are skipped, and the scale is of the features it saw.
	wordID := head == HeadIdentity && m.Info.WordIdentity
	if wordID {
		n, start := 0, int32(0)
		for i, end := range sc.ends {
			n += int(sc.chr[i]-start) + int(end-sc.cls[i])
			start = end
		}
		scale = FeatureScale(n)
	}
	contrib := make([]float32, len(sc.toks))
	start := int32(0)
	for i, end := range sc.ends {
		for k := start; k < end; k++ {
			if wordID && k >= sc.chr[i] && k < sc.cls[i] {
				continue
			}
			f := sc.feats[k]
			w := m.W[int(f&mask)*NumHeads+head] * scale
			if k == start+1 && i+1 < len(sc.toks) { // the bigram this word starts
				contrib[i] += w / 2
				contrib[i+1] += w / 2
				continue
			}
			contrib[i] += w
		}
		start = end
	}
	if m.Vec != nil && head == HeadToxicity {
		m.Vec.addEvidence(sc, contrib)
	}
	idx := make([]int, 0, len(contrib))
	for i, c := range contrib {
		if c > 0 && (m.Info.GroupList >= 2 || !isIdentityToken(sc.toks[i].text)) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return contrib[idx[a]] > contrib[idx[b]] })
	if len(idx) > maxEvidence {
		idx = idx[:maxEvidence]
	}
	// Only words that matter: a fifth of the strongest word's weight.
	for k, i := range idx {
		if contrib[i] < max(minEvidence, contrib[idx[0]]/5) {
			idx = idx[:k]
			break
		}
	}
	out := make([]parley.Evidence, 0, len(idx))
	for _, i := range idx {
		t := sc.toks[i]
		bs, be := nt.Orig(t.start, t.end)
		out = append(out, parley.Evidence{Span: textnorm.RuneSpan(orig, bs, be), Feature: t.text, Weight: float64(contrib[i])})
	}
	return out
}

// maskQuotes returns text with the quoted parts blanked: every occurrence of
// quote (and of each of its lines of eight bytes or more, since a quote is
// often re-wrapped) and every markdown block-quote line. Blanking keeps byte
// offsets, so evidence found in the result is located in text. buf is reused
// memory.
func maskQuotes(text, quote string, buf *[]byte) string {
	quote = strings.TrimSpace(quote)
	if quote == "" && !strings.Contains(text, ">") {
		return text
	}
	b := append((*buf)[:0], text...)
	*buf = b
	blank := func(i, j int) {
		for k := i; k < j; k++ {
			if b[k] != '\n' {
				b[k] = ' '
			}
		}
	}
	// Block quotes: lines whose first non-blank byte is '>'.
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] != '\n' {
			j++
		}
		line := strings.TrimLeft(string(b[i:j]), " \t")
		if strings.HasPrefix(line, ">") || strings.HasPrefix(line, "&gt;") {
			blank(i, j)
		}
		i = j + 1
	}
	if quote != "" {
		pieces := []string{quote}
		for _, l := range strings.Split(quote, "\n") {
			l = strings.TrimSpace(strings.TrimLeft(l, "> "))
			if len(l) >= 8 && l != quote {
				pieces = append(pieces, l)
			}
		}
		for _, p := range pieces {
			for off := 0; ; {
				k := strings.Index(text[off:], p)
				if k < 0 {
					break
				}
				blank(off+k, off+k+len(p))
				off += k + len(p)
			}
		}
	}
	return string(b)
}
