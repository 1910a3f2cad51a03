package toxicity

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/textnorm"
)

// Labelled is one moderator decision on a scored comment: the comment's text
// (and quoted parent) and whether the moderator rejected it.
type Labelled struct {
	Text     string `json:"text"`
	Quote    string `json:"quote,omitempty"`
	Rejected bool   `json:"rejected"`
}

// SiteModel adapts a base model to one site's moderators: a calibration of
// the base toxicity logit (offset B; the scale A is kept for the file format
// and is 1) plus a small weight vector over
// the same hashed features folded into 1<<siteBits buckets. It never replaces
// the base model: with no site evidence it returns the base score.
type SiteModel struct {
	Site string
	Base *Model
	A, B float64   // site logit = A·base logit + B + site features
	W    []float32 // per-site weights, 1<<siteBits
	N    int       // decisions tuned on
	// Threshold is the hold threshold that maximised F1 of the moderators'
	// rejections on the tuning decisions: the site model's scores are
	// calibrated to the site's reject rate, so the base threshold no longer
	// applies. An editor may pick another from Thresholds.
	Threshold float64
	// OOF holds, for each tuning decision in order, its score by a site
	// model tuned on the other four fifths: honest evidence for choosing
	// a threshold. Not saved.
	OOF []float64
}

// siteBits is the size of the per-site weight vector: small, so that a few
// hundred decisions cannot memorise comments.
const siteBits = 16

// siteL2 is the L2 penalty on the per-site weights, per update.
const siteL2 = 3e-3

// Site training: passes, AdaGrad rates of the weights and of the offset.
const (
	siteEpochs  = 5
	siteRate    = 0.3
	siteCalRate = 0.02
)

// Score returns the base model's scores with Toxicity adapted to the site.
// Evidence is the base model's.
func (s *SiteModel) Score(text, quote string) parley.Scores {
	sc := s.Base.Score(text, quote)
	sc.Toxicity = s.adjust(text, quote, sc.Toxicity)
	return sc
}

// ScoreFast is Score without the evidence.
func (s *SiteModel) ScoreFast(text, quote string) parley.Scores {
	sc := s.Base.ScoreFast(text, quote)
	sc.Toxicity = s.adjust(text, quote, sc.Toxicity)
	return sc
}

func (s *SiteModel) adjust(text, quote string, base float64) float64 {
	feats := siteFeatures(text, quote)
	return sigmoid(s.logit(clampLogit(base), feats))
}

func (s *SiteModel) logit(baseLogit float64, feats []uint32) float64 {
	var sum float32
	mask := uint32(len(s.W) - 1)
	for _, f := range feats {
		sum += s.W[f&mask]
	}
	return s.A*baseLogit + s.B + float64(FeatureScale(len(feats))*sum)
}

func clampLogit(p float64) float64 {
	p = min(max(p, 1e-6), 1-1e-6)
	return math.Log(p / (1 - p))
}

// siteFeatures are the normalised word unigrams and bigrams of the author's
// own words: coarser than the base model's features, so that a few hundred
// decisions teach the site's topics and phrasings, not its comments by heart.
func siteFeatures(text, quote string) []uint32 {
	sc := &scratch{}
	own := maskQuotes(text, quote, &sc.text)
	sc.toks = words(textnorm.Normalize(own), sc.toks, &sc.ntoks)
	var out []uint32
	for i, tk := range sc.toks {
		out = append(out, finalize(fnv32(kindWord, tk.text)))
		if i+1 < len(sc.toks) {
			out = append(out, finalize(fnv32(kindBigram, tk.text+" "+sc.toks[i+1].text)))
		}
	}
	return out
}

// siteRow is one decision prepared for tuning.
type siteRow struct {
	z     float64 // base toxicity logit
	feats []uint32
	y     float64
}

// siteFolds is the number of folds of the out-of-fold scores.
const siteFolds = 5

// Tune fits a site model to moderators' decisions on comments the base model
// scored. It also scores every decision with a model tuned without the fifth
// it belongs to (OOF), so that the precision and recall it reports — and the
// threshold it picks — are measured on decisions the site model did not see.
// Deterministic: decisions are visited in a fixed shuffled order.
func Tune(base *Model, decisions []Labelled) *SiteModel {
	rows := make([]siteRow, len(decisions))
	var pos int
	for i, d := range decisions {
		rows[i] = siteRow{z: clampLogit(base.ScoreFast(d.Text, d.Quote).Toxicity), feats: siteFeatures(d.Text, d.Quote)}
		if d.Rejected {
			rows[i].y = 1
			pos++
		}
	}
	s := fitSite(base, rows, nil)
	s.N = len(decisions)
	s.OOF = make([]float64, len(rows))
	for i, r := range rows {
		s.OOF[i] = sigmoid(r.z)
	}
	if pos == 0 || pos == len(rows) {
		return s // one class only: nothing to learn beyond the base
	}
	for k := 0; k < siteFolds; k++ {
		f := fitSite(base, rows, func(i int) bool { return i%siteFolds != k })
		for i := k; i < len(rows); i += siteFolds {
			s.OOF[i] = sigmoid(f.logit(rows[i].z, rows[i].feats))
		}
	}
	xs := make([]Scored, len(rows))
	for i, r := range rows {
		xs[i] = Scored{Score: s.OOF[i], Label: r.y == 1}
	}
	best := -1.0
	for t := 0.05; t < 0.96; t += 0.01 {
		if f := At(xs, t).F1(); f > best {
			best, s.Threshold = f, math.Round(t*100)/100
		}
	}
	return s
}

// fitSite fits the offset and site weights on the rows keep accepts (all
// when keep is nil).
func fitSite(base *Model, rows []siteRow, keep func(int) bool) *SiteModel {
	s := &SiteModel{Base: base, A: 1, W: make([]float32, 1<<siteBits), Threshold: base.Threshold}
	var order []int
	var pos int
	for i, r := range rows {
		if keep == nil || keep(i) {
			order = append(order, i)
			pos += int(r.y)
		}
	}
	if pos == 0 || pos == len(order) {
		return s
	}
	rng := rand.New(rand.NewPCG(1, 2))
	g2 := make([]float32, len(s.W))
	var gB float64
	mask := uint32(len(s.W) - 1)
	for epoch := 0; epoch < siteEpochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			r := rows[i]
			g := sigmoid(s.logit(r.z, r.feats)) - r.y
			// Calibration: AdaGrad on the offset B, slowly. The scale A
			// stays 1: a new kind the base model scores near zero would
			// otherwise flatten the base model's scores for everything else.
			gB += g * g
			s.B -= siteCalRate * g / math.Sqrt(gB+1e-8)
			gs := float32(g) * FeatureScale(len(r.feats))
			for _, f := range r.feats {
				j := f & mask
				gj := gs + siteL2*s.W[j]
				g2[j] += gj * gj
				s.W[j] -= siteRate * gj / float32(math.Sqrt(float64(g2[j])+1e-8))
			}
		}
	}
	return s
}

// ThresholdRow is precision and recall of rejections at one threshold.
type ThresholdRow struct {
	Threshold         float64
	Precision, Recall float64
	Held              int // decisions at or above the threshold
}

// Thresholds scores decisions with score and reports precision and recall
// of the moderators' rejections at each candidate threshold.
func Thresholds(score func(text, quote string) float64, decisions []Labelled, candidates []float64) []ThresholdRow {
	xs := make([]Scored, len(decisions))
	for i, d := range decisions {
		xs[i] = Scored{Score: score(d.Text, d.Quote), Label: d.Rejected}
	}
	sort.Float64s(candidates)
	out := make([]ThresholdRow, 0, len(candidates))
	for _, t := range candidates {
		c := At(xs, t)
		out = append(out, ThresholdRow{Threshold: t, Precision: c.Precision(), Recall: c.Recall(), Held: c.TP + c.FP})
	}
	return out
}

// TuneRow compares the base model and a site model at one threshold on the
// decisions the site model was tuned on: the site model by its
// out-of-fold scores (SiteModel.OOF), so both columns are honest.
type TuneRow struct {
	Threshold  float64
	Base, Site Confusion
}

// Compare returns a TuneRow per threshold for the decisions s was tuned on
// (in the order Tune saw them), for an editor choosing a hold threshold.
func (s *SiteModel) Compare(decisions []Labelled, thresholds []float64) []TuneRow {
	base := make([]Scored, len(decisions))
	site := make([]Scored, len(decisions))
	for i, d := range decisions {
		base[i] = Scored{Score: s.Base.ScoreFast(d.Text, d.Quote).Toxicity, Label: d.Rejected}
		site[i] = Scored{Score: s.OOF[i], Label: d.Rejected}
	}
	out := make([]TuneRow, len(thresholds))
	for i, t := range thresholds {
		out[i] = TuneRow{Threshold: t, Base: At(base, t), Site: At(site, t)}
	}
	return out
}

// The site model file: "PARLEYSITE1\n", uint32 header length, JSON header,
// then the weights as float32 little-endian. The base model is not included.
const siteMagic = "PARLEYSITE1\n"

type siteHeader struct {
	Site      string  `json:"site"`
	Threshold float64 `json:"threshold"`
	A         float64 `json:"a"`
	B         float64 `json:"b"`
	Bits      int     `json:"bits"`
	N         int     `json:"n"`
}

// Save writes the site model (without its base model) to w.
func (s *SiteModel) Save(w io.Writer) error {
	hdr, _ := json.Marshal(siteHeader{Site: s.Site, Threshold: s.Threshold, A: s.A, B: s.B, Bits: siteBits, N: s.N})
	var buf bytes.Buffer
	buf.WriteString(siteMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	binary.Write(&buf, binary.LittleEndian, s.W)
	_, err := w.Write(buf.Bytes())
	return err
}

// LoadSite reads a site model written by Save on top of base.
func LoadSite(r io.Reader, base *Model) (*SiteModel, error) {
	magic := make([]byte, len(siteMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != siteMagic {
		return nil, errors.New("read site model: not a parley site model file")
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n > 1<<20 {
		return nil, errors.New("read site model: bad header")
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("read site model: %w", err)
	}
	var h siteHeader
	if err := json.Unmarshal(hdr, &h); err != nil || h.Bits != siteBits {
		return nil, fmt.Errorf("read site model: bad header")
	}
	s := &SiteModel{Site: h.Site, Threshold: h.Threshold, Base: base, A: h.A, B: h.B, N: h.N, W: make([]float32, 1<<siteBits)}
	if err := binary.Read(r, binary.LittleEndian, s.W); err != nil {
		return nil, fmt.Errorf("read site model weights: %w", err)
	}
	return s, nil
}
