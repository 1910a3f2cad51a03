package toxicity

import (
	"math"

	"github.com/parleyhq/parley/internal/textnorm"
)

// VectorBranch is a second branch of the toxicity logit over pretrained
// word vectors (GloVe, see docs/model-card.md): a narrow convolution. The
// known words of a text (words the vocabulary lacks are skipped) are read
// in windows of Width words starting at each one; window t has hidden units
//
//	h(t) = ReLU(Bias + Σ_o P[o][w(t+o)]),  P[o][w] = A_o·E[w]
//
// and the branch adds Mean · mean_t h(t) + Max · max_t h(t) to the toxicity
// logit. The file stores the projections P, Dims() values of 8 bits per word
// and offset for a trimmed vocabulary, never the vectors E. The branch
// reads the model's words after identity masking, so a group term is the
// group token, whose projections are those of "person" or "people"
// (Info.MaskIdentity): naming a group moves the branch exactly as naming
// people does.
type VectorBranch struct {
	Words []string // the vocabulary
	Width int      // words per window
	// P are the projections: word i's part of unit k at offset o of a
	// window is P[(i*Width+o)*Dims()+k]·Scale[k].
	P     []int8
	Scale []float32 // per hidden unit
	Bias  []float32 // the hidden units' biases
	Mean  []float32 // output weights of the mean-pooled units
	Max   []float32 // output weights of the max-pooled units
	index map[string]int32
	// h1 are the hidden units of each word's one-word window, computed
	// at load when Width is 1: scoring then adds and compares them only.
	h1 []float32
}

// maxVectorDims bounds Dims(), so scoring needs no allocation.
const maxVectorDims = 64

// NewVectorBranch quantises the projections p (len(words)·width·len(bias),
// laid out as VectorBranch.P) to 8 bits per value, as the model file
// stores them.
func NewVectorBranch(words []string, width int, p, bias, mean, mx []float32) *VectorBranch {
	d := len(bias)
	v := &VectorBranch{Words: words, Width: width, P: make([]int8, len(p)), Scale: make([]float32, d), Bias: bias, Mean: mean, Max: mx}
	for i, x := range p {
		v.Scale[i%d] = max(v.Scale[i%d], float32(math.Abs(float64(x))))
	}
	for k := range v.Scale {
		v.Scale[k] /= 127
		if v.Scale[k] == 0 {
			v.Scale[k] = 1
		}
	}
	for i, x := range p {
		v.P[i] = int8(math.Round(float64(x / v.Scale[i%d])))
	}
	v.init()
	return v
}

func (v *VectorBranch) init() {
	v.index = make(map[string]int32, len(v.Words))
	for i, w := range v.Words {
		v.index[w] = int32(i)
	}
	if v.Width == 1 {
		d := len(v.Bias)
		v.h1 = make([]float32, len(v.P))
		for i, x := range v.P {
			v.h1[i] = max(0, v.Bias[i%d]+v.Scale[i%d]*float32(x))
		}
	}
}

// Dims is the number of hidden units.
func (v *VectorBranch) Dims() int { return len(v.Bias) }

// known fills sc.vidx with the vocabulary positions of sc.toks' known
// words and sc.vpos with their token positions.
func (v *VectorBranch) known(sc *scratch) {
	sc.vidx, sc.vpos = sc.vidx[:0], sc.vpos[:0]
	for j, t := range sc.toks {
		if i, ok := v.index[t.text]; ok {
			sc.vidx = append(sc.vidx, i)
			sc.vpos = append(sc.vpos, int32(j))
		}
	}
}

// window returns the hidden units of window t of sc.vidx.
func (v *VectorBranch) window(sc *scratch, t int) (h [maxVectorDims]float32) {
	d, n := len(v.Bias), len(sc.vidx)
	if v.h1 != nil {
		copy(h[:d], v.h1[int(sc.vidx[t])*d:])
		return h
	}
	var acc [maxVectorDims]int32
	for o := 0; o < v.Width && t+o < n; o++ {
		at := (int(sc.vidx[t+o])*v.Width + o) * d
		for k, x := range v.P[at : at+d] {
			acc[k] += int32(x)
		}
	}
	for k := range d {
		h[k] = max(0, v.Bias[k]+v.Scale[k]*float32(acc[k]))
	}
	return h
}

// pool returns the sums and maxima of the windows' hidden units.
func (v *VectorBranch) pool(sc *scratch) (sum, mx [maxVectorDims]float32) {
	if v.h1 != nil {
		d := len(v.Bias)
		for _, i := range sc.vidx {
			h := v.h1[int(i)*d : int(i)*d+d]
			for k, x := range h {
				sum[k] += x
				mx[k] = max(mx[k], x)
			}
		}
		return sum, mx
	}
	for t := range sc.vidx {
		h := v.window(sc, t)
		for k := range v.Bias {
			sum[k] += h[k]
			mx[k] = max(mx[k], h[k])
		}
	}
	return sum, mx
}

// logit is the branch's addition to the toxicity logit of the words in sc.
func (v *VectorBranch) logit(sc *scratch) float64 {
	v.known(sc)
	n := len(sc.vidx)
	if n == 0 {
		return 0
	}
	sum, mx := v.pool(sc)
	s := float32(0)
	for k := range v.Bias {
		s += v.Mean[k]*sum[k]/float32(n) + v.Max[k]*mx[k]
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
	return m.Vec.logit(sc)
}

// addEvidence adds each word's share of the branch's logit to contrib:
// each active unit of each window weighs its part of the mean (and its
// maximum, for the first window holding it), shared among the window's
// words by their parts of the unit (the bias evenly), so the shares sum to
// the logit.
func (v *VectorBranch) addEvidence(sc *scratch, contrib []float32) {
	v.known(sc)
	n := len(sc.vidx)
	if n == 0 {
		return
	}
	_, mx := v.pool(sc)
	d := len(v.Bias)
	var taken [maxVectorDims]bool
	for t := range n {
		h := v.window(sc, t)
		m := min(v.Width, n-t)
		for k := range d {
			if h[k] <= 0 {
				continue
			}
			w := v.Mean[k] / float32(n)
			if h[k] == mx[k] && !taken[k] {
				taken[k] = true
				w += v.Max[k]
			}
			for o := range m {
				x := v.P[(int(sc.vidx[t+o])*v.Width+o)*d+k]
				contrib[sc.vpos[t+o]] += w * (v.Scale[k]*float32(x) + v.Bias[k]/float32(m))
			}
		}
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
	sc := &scratch{toks: make([]token, len(words))}
	for i, w := range words {
		sc.toks[i].text = w
	}
	return v.logit(sc)
}
