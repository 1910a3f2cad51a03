package toxicity

import (
	"math"

	"github.com/parleyhq/parley/internal/textnorm"
)

// VectorBranch is a second branch of the toxicity logit over pretrained
// word vectors (GloVe, see docs/model-card.md): each known word w has
// hidden units h(w) = ReLU(A·E[w] + b), and
//
//	logit += Mean · mean over the words of h(w) + Max · max over the words of h(w)
//
// The file stores h(w) itself, Dims() values of 8 bits per word of a
// trimmed vocabulary, never the vectors E. Words the vocabulary lacks are
// skipped. The branch reads the model's words after identity masking, so a
// group term is the group token, whose h is that of "person" or "people"
// (Info.MaskIdentity): naming a group moves the branch exactly as naming
// people does.
type VectorBranch struct {
	Words []string  // the vocabulary
	P     []uint8   // h, word-major: P[i*Dims()+k]·Scale[k]
	Scale []float32 // per hidden unit
	Mean  []float32 // output weights of the mean-pooled units
	Max   []float32 // output weights of the max-pooled units
	index map[string]int32
}

// maxVectorDims bounds Dims(), so scoring needs no allocation.
const maxVectorDims = 64

// NewVectorBranch quantises the hidden units h (len(words)·len(mean),
// word-major, all ≥ 0) to 8 bits per value, as the model file stores them.
func NewVectorBranch(words []string, h, mean, mx []float32) *VectorBranch {
	d := len(mean)
	v := &VectorBranch{Words: words, P: make([]uint8, len(h)), Scale: make([]float32, d), Mean: mean, Max: mx}
	for i, x := range h {
		v.Scale[i%d] = max(v.Scale[i%d], x)
	}
	for k := range v.Scale {
		v.Scale[k] /= 255
		if v.Scale[k] == 0 {
			v.Scale[k] = 1
		}
	}
	for i, x := range h {
		v.P[i] = uint8(math.Round(float64(max(x, 0) / v.Scale[i%d])))
	}
	v.init()
	return v
}

func (v *VectorBranch) init() {
	v.index = make(map[string]int32, len(v.Words))
	for i, w := range v.Words {
		v.index[w] = int32(i)
	}
}

// Dims is the number of hidden units.
func (v *VectorBranch) Dims() int { return len(v.Mean) }

// pool returns the sums and maxima of the hidden units over toks' known
// words, and how many there are.
func (v *VectorBranch) pool(toks []token) (sum [maxVectorDims]int32, mx [maxVectorDims]uint8, n int) {
	d := len(v.Mean)
	for _, t := range toks {
		i, ok := v.index[t.text]
		if !ok {
			continue
		}
		for k, x := range v.P[int(i)*d : int(i)*d+d] {
			sum[k] += int32(x)
			mx[k] = max(mx[k], x)
		}
		n++
	}
	return sum, mx, n
}

// logit is the branch's addition to the toxicity logit.
func (v *VectorBranch) logit(toks []token) float64 {
	sum, mx, n := v.pool(toks)
	if n == 0 {
		return 0
	}
	inv := 1 / float32(n)
	s := float32(0)
	for k, sc := range v.Scale {
		s += sc * (v.Mean[k]*float32(sum[k])*inv + v.Max[k]*float32(mx[k]))
	}
	return float64(s)
}

// VectorLogit is the vector branch's addition to the toxicity logit of
// text (no quote masking), for training and tests.
func (m *Model) VectorLogit(text string) float64 {
	if m.Vec == nil {
		return 0
	}
	sc := &scratch{}
	featurize(sc, textnorm.Normalize(text), m.Info.features())
	return m.Vec.logit(sc.toks)
}

// addEvidence adds each word's share of the branch's logit to contrib: its
// part of the mean, and each maximum it holds (the first word holding it):
// the shares sum to the logit.
func (v *VectorBranch) addEvidence(toks []token, contrib []float32) {
	_, mx, n := v.pool(toks)
	if n == 0 {
		return
	}
	d := len(v.Mean)
	var taken [maxVectorDims]bool
	for j, t := range toks {
		i, ok := v.index[t.text]
		if !ok {
			continue
		}
		s := float32(0)
		for k, x := range v.P[int(i)*d : int(i)*d+d] {
			s += v.Scale[k] * v.Mean[k] * float32(x) / float32(n)
			if x == mx[k] && !taken[k] {
				taken[k] = true
				s += v.Scale[k] * v.Max[k] * float32(x)
			}
		}
		contrib[j] += s
	}
}

// Words returns the words of text as a model trained with Info i reads
// them (identity terms masked when i.MaskIdentity; no quote masking): the
// vector branch's input, for training.
func (i Info) Words(text string) []string {
	sc := &scratch{}
	featurize(sc, textnorm.Normalize(text), i.features())
	out := make([]string, len(sc.toks))
	for k, t := range sc.toks {
		out[k] = t.text
	}
	return out
}

// LogitOf is the branch's logit over words (as Info.Words returns them),
// for training.
func (v *VectorBranch) LogitOf(words []string) float64 {
	toks := make([]token, len(words))
	for i, w := range words {
		toks[i].text = w
	}
	return v.logit(toks)
}
