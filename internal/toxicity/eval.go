package toxicity

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// SourceResult is the toxicity evaluation of one source.
type SourceResult struct {
	Source    string
	N, Pos    int
	AUC       float64 // ROC-AUC, NaN when the source has one class
	PRAUC     float64
	At        Confusion // at the model's hold threshold
	MeanScore float64
}

// evalRows returns the rows of a source the model may be evaluated on: the
// held-out fifth of a source it was trained on, every row of one it was not.
func evalRows(m *Model, d *Dataset, source string) []Example {
	trained := m.Info.Sources[source] > 0
	return d.Filter(func(e *Example) bool {
		return e.Source == source && e.Toxicity != Unknown && (e.Test || !trained)
	})
}

// ScoreAll scores texts on every core with ScoreFast, in order.
func (m *Model) ScoreAll(exs []Example) []float64 {
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
func scoredOf(exs []Example, scores []float64) []Scored {
	xs := make([]Scored, len(exs))
	for i, e := range exs {
		xs[i] = Scored{Score: scores[i], Label: e.Toxicity >= 0.5}
	}
	return xs
}

// EvalSources lists the sources `parley model eval` reports, in order.
var EvalSources = []string{
	SourceCivil, SourceCivilSentences, SourceGlobeAndMail, SourceOLID, SourceStormfront,
	SourceToxiGen, SourceToxiGenSeeds, SourceWikiTalk, SourceWikiDebias, SourceJigsaw, SourcePerspective,
}

// EvaluateSource scores one source's evaluation rows.
func EvaluateSource(m *Model, d *Dataset, source string) SourceResult {
	exs := evalRows(m, d, source)
	scores := m.ScoreAll(exs)
	return resultOf(source, exs, scores, m.Threshold)
}

func resultOf(source string, exs []Example, scores []float64, t float64) SourceResult {
	xs := scoredOf(exs, scores)
	r := SourceResult{Source: source, N: len(xs), AUC: ROCAUC(xs), PRAUC: PRAUC(xs), At: At(xs, t)}
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
func CheckNews(m *Model, d *Dataset, t float64) NewsCheck {
	return checkNews(m, d, t, func(e *Example) bool { return e.Test })
}

// CheckValidation is CheckNews on the validation fifth of the Civil
// Comments posts in place of the held-out fifth: the figure a recipe is
// chosen on (train with TrainOptions.Validate).
func CheckValidation(m *Model, d *Dataset, t float64) NewsCheck {
	return checkNews(m, d, t, func(e *Example) bool { return e.Valid })
}

// checkNews is the news check on the Civil Comments posts for which fifth
// returns true.
func checkNews(m *Model, d *Dataset, t float64, fifth func(*Example) bool) NewsCheck {
	if math.IsNaN(t) {
		t = m.Threshold
	}
	gs := evalRows(m, d, SourceGlobeAndMail)
	g := resultOf(SourceGlobeAndMail, gs, m.ScoreAll(gs), t)
	c := d.Filter(func(e *Example) bool { return e.Source == SourceCivil && fifth(e) })
	cr := resultOf(SourceCivil, c, m.ScoreAll(c), t)
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
func EvaluateSpans(m *Model, d *Dataset) SpanReport {
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
// paraphrases in), and the files scored.
type LOSOGroup struct {
	Name    string
	Exclude []string
	Score   []string
}

// LOSOGroups are the leave-one-source-out units. The civil unit is scored on
// the Civil Comments sentences, which carry both labels; wikipedia_talk on
// the Wikipedia talk comments with human labels.
var LOSOGroups = []LOSOGroup{
	{Name: SourceCivil, Exclude: []string{SourceCivil, SourceCivilSentences}, Score: []string{SourceCivilSentences}},
	{Name: SourceStormfront, Exclude: []string{SourceStormfront}, Score: []string{SourceStormfront}},
	{Name: SourceToxiGen, Exclude: []string{SourceToxiGen, SourceToxiGenSeeds}, Score: []string{SourceToxiGen, SourceToxiGenSeeds}},
	{Name: "wikipedia_talk", Exclude: []string{SourceWikiTalk, SourcePerspective, SourceJigsaw}, Score: []string{SourceWikiTalk, SourceJigsaw}},
}

// LOSOResult is one leave-one-source-out figure.
type LOSOResult struct {
	Source string
	AUC    float64
	N      int
}

// LeaveOneOut trains without each LOSO group in turn (with opt otherwise)
// and returns the ROC-AUC on it.
func LeaveOneOut(d *Dataset, opt TrainOptions) ([]LOSOResult, error) {
	var out []LOSOResult
	for _, g := range LOSOGroups {
		o := opt
		o.Exclude = append(append([]string(nil), opt.Exclude...), g.Exclude...)
		m, err := Train(d, o)
		if err != nil {
			return nil, err
		}
		exs := d.Filter(func(e *Example) bool {
			return e.Toxicity != Unknown && slices.Contains(g.Score, e.Source)
		})
		xs := scoredOf(exs, m.ScoreAll(exs))
		out = append(out, LOSOResult{Source: g.Name, AUC: ROCAUC(xs), N: len(xs)})
	}
	return out, nil
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
func EvaluateWikiIdentity(m *Model, d *Dataset) WikiIdentity {
	exs := evalRows(m, d, SourceWikiDebias)
	scores := m.ScoreAll(exs)
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
func Throughput(m *Model, d *Dataset, n int) (fast, explain float64) {
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
