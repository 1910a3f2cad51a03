package lab

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/toxicity"
)

// SourceResult is the toxicity evaluation of one source.
type SourceResult struct {
	Source    string
	N, Pos    int
	AUC       float64 // ROC-AUC, NaN when the source has one class
	PRAUC     float64
	At        toxicity.Confusion // at the model's hold threshold
	MeanScore float64
}

// evalRows returns the rows of a source the model may be evaluated on: the
// held-out fifth of a source it was trained on, every row of one it was not.
func evalRows(m *toxicity.Model, d *Dataset, source string) []Example {
	trained := m.Info.Sources[source] > 0
	return d.Filter(func(e *Example) bool {
		return e.Source == source && e.Toxicity != Unknown && (e.Test || !trained)
	})
}

// ScoreAll scores texts on every core with ScoreFast, in order.
func ScoreAll(m *toxicity.Model, exs []Example) []float64 {
	out := make([]float64, len(exs))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(exs); i += workers {
				out[i] = m.ScoreFast(exs[i].Text, "").Toxicity
			}
		}()
	}
	wg.Wait()
	return out
}

// scoredOf pairs scores with the examples' labels (soft labels at 0.5).
func scoredOf(exs []Example, scores []float64) []toxicity.Scored {
	xs := make([]toxicity.Scored, len(exs))
	for i, e := range exs {
		xs[i] = toxicity.Scored{Score: scores[i], Label: e.Toxicity >= 0.5}
	}
	return xs
}

// EvalSources lists the sources `parley model eval` reports, in order.
var EvalSources = []string{
	SourceCivil, SourceCivilSentences, SourceGlobeAndMail, SourceOLID, SourceStormfront,
	SourceToxiGen, SourceToxiGenSeeds, SourceWikiTalk, SourceWikiDebias, SourceJigsaw, SourcePerspective,
}

// EvaluateSource scores one source's evaluation rows.
func EvaluateSource(m *toxicity.Model, d *Dataset, source string) SourceResult {
	exs := evalRows(m, d, source)
	scores := ScoreAll(m, exs)
	return resultOf(source, exs, scores, m.Threshold)
}

func resultOf(source string, exs []Example, scores []float64, t float64) SourceResult {
	xs := scoredOf(exs, scores)
	r := SourceResult{Source: source, N: len(xs), AUC: ROCAUC(xs), PRAUC: PRAUC(xs), At: toxicity.At(xs, t)}
	for _, x := range xs {
		if x.Label {
			r.Pos++
		}
		r.MeanScore += x.Score
	}
	if r.N > 0 {
		r.MeanScore /= float64(r.N)
	}
	return r
}

// NewsCheck is the Done-when check on news comments: the share of non-toxic
// Globe and Mail comments held and of held-out Civil Comments toxic posts
// caught at the model's hold threshold.
type NewsCheck struct {
	Threshold  float64
	GlobeFPR   float64 // non-toxic Globe and Mail comments held
	GlobeN     int
	CivilRecal float64 // held-out Civil Comments toxic posts held
	CivilN     int
}

// CheckNews computes the news check at threshold t (the model's own when t
// is NaN).
func CheckNews(m *toxicity.Model, d *Dataset, t float64) NewsCheck {
	return checkNews(m, d, t, func(e *Example) bool { return e.Test })
}

// CheckValidation is CheckNews on the validation fifth of the Civil
// Comments posts in place of the held-out fifth: the figure a recipe is
// chosen on (train with TrainOptions.Validate).
func CheckValidation(m *toxicity.Model, d *Dataset, t float64) NewsCheck {
	return checkNews(m, d, t, func(e *Example) bool { return e.Valid })
}

// checkNews is the news check on the Civil Comments posts for which fifth
// returns true.
func checkNews(m *toxicity.Model, d *Dataset, t float64, fifth func(*Example) bool) NewsCheck {
	if math.IsNaN(t) {
		t = m.Threshold
	}
	gs := evalRows(m, d, SourceGlobeAndMail)
	g := resultOf(SourceGlobeAndMail, gs, ScoreAll(m, gs), t)
	c := d.Filter(func(e *Example) bool { return e.Source == SourceCivil && fifth(e) })
	cr := resultOf(SourceCivil, c, ScoreAll(m, c), t)
	return NewsCheck{Threshold: t, GlobeFPR: g.At.FPR(), GlobeN: g.At.FP + g.At.TN, CivilRecal: cr.At.Recall(), CivilN: cr.N}
}

// SpanReport is the agreement of the explanations with the human toxic spans
// of the held-out Civil Comments posts.
type SpanReport struct {
	Posts int
	F1    float64 // mean SemEval span F1
}

// spanMinShare is the share of the strongest word's contribution a word
// needs to be highlighted in the span evaluation.
const spanMinShare = 0.5

// EvaluateSpans compares the evidence of the held-out Civil Comments posts
// whose raters agreed on the spans with the human spans.
func EvaluateSpans(m *toxicity.Model, d *Dataset) SpanReport {
	exs := d.Filter(func(e *Example) bool { return e.Source == SourceCivil && e.Test && e.HasSpans })
	var rep SpanReport
	for _, e := range exs {
		s := m.Score(e.Text, "")
		pred := map[int]bool{}
		for _, ev := range s.Evidence {
			if ev.Weight < spanMinShare*s.Evidence[0].Weight {
				break
			}
			for k := ev.Start; k < ev.End; k++ {
				pred[k] = true
			}
		}
		gold := map[int]bool{}
		for _, sp := range e.Spans {
			for k := sp.Start; k < sp.End; k++ {
				gold[k] = true
			}
		}
		rep.F1 += SpanF1(pred, gold)
		rep.Posts++
	}
	if rep.Posts > 0 {
		rep.F1 /= float64(rep.Posts)
	}
	return rep
}

// LOSOGroup is one unit of the leave-one-source-out evaluation: the files
// of one origin, left out of training together (ToxiGen's statements were
// generated from its seeds, so leaving out one file alone would leave its
// paraphrases in), and the files scored. A check (Exclude empty) is a source
// no recipe trains on, scored by the model trained on everything.
type LOSOGroup struct {
	Name    string
	Exclude []string
	Score   []string
}

// LOSOGroups are the leave-one-source-out units: every source with both
// labels, then the never-trained checks. The civil unit is scored on the
// Civil Comments sentences, which carry both labels; wikipedia_talk on the
// Wikipedia talk comments with human labels.
var LOSOGroups = []LOSOGroup{
	{Name: SourceCivil, Exclude: []string{SourceCivil, SourceCivilSentences, SourceCivilExtra}, Score: []string{SourceCivilSentences}},
	{Name: SourceStormfront, Exclude: []string{SourceStormfront}, Score: []string{SourceStormfront}},
	{Name: SourceToxiGen, Exclude: []string{SourceToxiGen, SourceToxiGenSeeds}, Score: []string{SourceToxiGen, SourceToxiGenSeeds}},
	{Name: "wikipedia_talk", Exclude: []string{SourceWikiTalk, SourcePerspective, SourceJigsaw}, Score: []string{SourceWikiTalk, SourceJigsaw}},
	{Name: SourceParaDetox, Exclude: []string{SourceParaDetox, SourceParaDetoxCannot}, Score: []string{SourceParaDetox, SourceParaDetoxCannot}},
	{Name: SourceSBIC, Exclude: []string{SourceSBIC}, Score: []string{SourceSBIC}},
	{Name: SourceHateXplain, Exclude: []string{SourceHateXplain}, Score: []string{SourceHateXplain}},
	{Name: SourceConvAbuse, Exclude: []string{SourceConvAbuse}, Score: []string{SourceConvAbuse}},
	{Name: SourceGlobeAndMail, Score: []string{SourceGlobeAndMail}},
	{Name: SourceOLID, Score: []string{SourceOLID}},
	{Name: SourceOpenAI, Score: []string{SourceOpenAI}},
}

// IsCheck reports whether the unit is a never-trained check.
func (g LOSOGroup) IsCheck() bool { return len(g.Exclude) == 0 }

// LOSOResult is one leave-one-source-out row.
type LOSOResult struct {
	Source string
	Check  bool // a never-trained source, scored by the full model
	// Seen: the recipe trains on this source when it is not left out (a
	// recipe that never uses it scores it with its full model).
	Seen   bool
	N, Pos int
	AUC    float64
	PRAUC  float64
	Recall float64 // toxic rows caught at the model's hold threshold
	Held   float64 // non-toxic rows held at the model's hold threshold
	// FPR80 is the share of non-toxic rows held at the threshold that
	// catches 80% of the source's toxic rows.
	FPR80 float64
}

// FPRAtRecall returns the false-positive rate at the highest threshold
// whose recall is at least r.
func FPRAtRecall(xs []toxicity.Scored, r float64) float64 {
	var pos, neg []float64
	for _, x := range xs {
		if x.Label {
			pos = append(pos, x.Score)
		} else {
			neg = append(neg, x.Score)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	slices.Sort(pos)
	slices.Reverse(pos)
	k := int(math.Ceil(r*float64(len(pos)))) - 1 // pos[k] is the lowest score caught
	t := pos[max(k, 0)]
	held := 0
	for _, s := range neg {
		if s >= t {
			held++
		}
	}
	return float64(held) / float64(len(neg))
}

// LeaveOneOut trains without each LOSO group in turn (with opt otherwise)
// and evaluates it on the group; the checks are scored by the model trained
// on every source. Models whose training data would be the same (a group
// the recipe never trains on) are trained once.
func LeaveOneOut(d *Dataset, opt TrainOptions) ([]LOSOResult, error) {
	srcs := map[string]bool{}
	if opt.Baseline {
		for _, s := range sourcesOf(opt.recipe()) {
			srcs[s] = s != SourceCivilSentences && s != SourcePerspective
		}
	} else {
		for _, s := range sourcesOf(opt.recipe()) {
			srcs[s] = true
		}
	}
	cache := map[string]*toxicity.Model{}
	var out []LOSOResult
	for _, g := range LOSOGroups {
		var ex []string
		seen := false
		for _, s := range g.Exclude {
			if srcs[s] {
				ex = append(ex, s)
				seen = true
			}
		}
		key := strings.Join(ex, ",")
		m := cache[key]
		if m == nil {
			o := opt
			o.Exclude = append(append([]string(nil), opt.Exclude...), ex...)
			var err error
			if m, err = Train(d, o); err != nil {
				return nil, err
			}
			cache[key] = m
		}
		exs := d.Filter(func(e *Example) bool {
			return e.Toxicity != Unknown && slices.Contains(g.Score, e.Source)
		})
		xs := scoredOf(exs, ScoreAll(m, exs))
		r := LOSOResult{Source: g.Name, Check: g.IsCheck(), Seen: seen, N: len(xs), AUC: ROCAUC(xs), PRAUC: PRAUC(xs), FPR80: FPRAtRecall(xs, 0.8)}
		c := toxicity.At(xs, m.Threshold)
		r.Pos, r.Recall, r.Held = c.TP+c.FN, c.Recall(), c.FPR()
		out = append(out, r)
	}
	return out, nil
}

// MeanAUC is the mean ROC-AUC of the leave-one-out rows (checks apart).
func MeanAUC(rs []LOSOResult, checks bool) float64 {
	sum, n := 0.0, 0
	for _, r := range rs {
		if r.Check == checks && !math.IsNaN(r.AUC) {
			sum += r.AUC
			n++
		}
	}
	return sum / float64(max(n, 1))
}

// WikiIdentity compares the scores of the non-toxic Wikipedia sentences that
// name an identity with random ones: a gap means identity words alone raise
// the score.
type WikiIdentity struct {
	IdentityMean, RandomMean float64
	IdentityHeld, RandomHeld float64 // share at or above the hold threshold
}

// EvaluateWikiIdentity scores the held-out (or, if not trained on, all)
// wiki_debias sentences by kind.
func EvaluateWikiIdentity(m *toxicity.Model, d *Dataset) WikiIdentity {
	exs := evalRows(m, d, SourceWikiDebias)
	scores := ScoreAll(m, exs)
	var w WikiIdentity
	var ni, nr float64
	for i, e := range exs {
		held := 0.0
		if scores[i] >= m.Threshold {
			held = 1
		}
		if e.Group == "identity" {
			w.IdentityMean += scores[i]
			w.IdentityHeld += held
			ni++
		} else {
			w.RandomMean += scores[i]
			w.RandomHeld += held
			nr++
		}
	}
	if ni > 0 {
		w.IdentityMean /= ni
		w.IdentityHeld /= ni
	}
	if nr > 0 {
		w.RandomMean /= nr
		w.RandomHeld /= nr
	}
	return w
}

// Throughput measures comments scored per second on one goroutine, without
// and with the explanation, over n comments of about 500 characters built
// from the Globe and Mail and Civil Comments texts in d.
func Throughput(m *toxicity.Model, d *Dataset, n int) (fast, explain float64) {
	var texts []string
	var cur strings.Builder
	for _, e := range d.Examples {
		if e.Source != SourceGlobeAndMail && e.Source != SourceCivil {
			continue
		}
		if cur.Len()+len(e.Text) > 600 && cur.Len() >= 300 {
			texts = append(texts, cur.String())
			cur.Reset()
		}
		if len(e.Text) > 600 {
			continue
		}
		cur.WriteString(e.Text)
		cur.WriteByte(' ')
		if len(texts) == n {
			break
		}
	}
	if len(texts) == 0 {
		return math.NaN(), math.NaN()
	}
	// The best of three passes: the machine may be shared.
	rate := func(score func(string, string) parley.Scores) float64 {
		best := 0.0
		for pass := 0; pass < 3; pass++ {
			start := time.Now()
			for _, t := range texts {
				score(t, "")
			}
			best = max(best, float64(len(texts))/time.Since(start).Seconds())
		}
		return best
	}
	return rate(m.ScoreFast), rate(m.Score)
}
