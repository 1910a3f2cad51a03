package lab

import (
	"context"
	"fmt"
	"math"

	"github.com/parleyhq/parley/internal/toxicity"
)

// ReportOptions configure Report: what `parley model eval` measures.
type ReportOptions struct {
	Seed     int64 // seed of the models Report trains (baseline, leave-one-source-out)
	Baseline bool  // also train the plain baseline (and the fourth recipe for a newer model) beside
	LOSO     bool  // leave-one-source-out (trains one model per source)
	Bias     bool  // the Wikipedia identity-sentence check as well
	// Throughput is how many comments to time scoring on; 0 skips it.
	Throughput int
	// Vectors are the word vectors a RecipeVectors model's
	// leave-one-source-out runs train from.
	Vectors *Vectors
}

// Column is the evaluation of one model: the model under test or the
// baseline trained beside it.
type Column struct {
	Name      string
	Model     *toxicity.Model
	Sources   []SourceResult // per source with rows, in EvalSources order
	News      NewsCheck      // at the model's hold threshold
	Spans     *SpanReport    // explanations against human spans; nil for the baseline
	Suite     SuiteReport
	HeldOut   SuiteReport // the held-out functional cases, never tuned on
	Templates TemplateReport
	Wiki      *WikiIdentity // with ReportOptions.Bias
	// MustHold are the must-hold cases the model lets through, with their
	// scores; MustHoldLowest is the lowest score of all the cases.
	MustHold       []MustHoldCase
	MustHoldScores []float64
	MustHoldLowest float64
}

// LOSOColumn is one recipe's leave-one-source-out table.
type LOSOColumn struct {
	Name string
	Rows []LOSOResult
}

// Evaluation is everything `parley model eval` prints.
type Evaluation struct {
	Columns []Column
	LOSO    []LOSOColumn
	// Fast and Explain are comments/s on one core without and with the
	// explanation (ReportOptions.Throughput).
	Fast, Explain float64
}

// Report evaluates m on d: per source, the news check, the explanations,
// the functional suite, the identity templates and, with opt, the baseline
// beside it, leave-one-source-out tables of m's recipe (the fourth and the
// baseline's too with opt.Baseline) and throughput.
func Report(ctx context.Context, d *Dataset, m *toxicity.Model, opt ReportOptions) (*Evaluation, error) {
	ev := &Evaluation{}
	models := []Column{{Name: "model", Model: m}}
	if opt.Baseline {
		b, err := Train(d, TrainOptions{Seed: opt.Seed, Baseline: true})
		if err != nil {
			return nil, err
		}
		models = append(models, Column{Name: "baseline", Model: b})
	}
	for _, c := range models {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, s := range EvalSources {
			if r := EvaluateSource(c.Model, d, s); r.N > 0 {
				c.Sources = append(c.Sources, r)
			}
		}
		c.News = CheckNews(c.Model, d, c.Model.Threshold)
		if !c.Model.Info.Baseline {
			sp := EvaluateSpans(c.Model, d)
			c.Spans = &sp
		}
		c.Suite = RunSuite(c.Model, Suite())
		c.HeldOut = RunSuite(c.Model, HeldOutSuite())
		c.Templates = EvaluateTemplates(c.Model)
		c.MustHold, c.MustHoldScores, c.MustHoldLowest = MustHoldMisses(c.Model)
		if opt.Bias {
			w := EvaluateWikiIdentity(c.Model, d)
			c.Wiki = &w
		}
		ev.Columns = append(ev.Columns, c)
	}
	if opt.LOSO {
		recipe := m.Info.Recipe
		if recipe == 0 {
			recipe = RecipeFourth
		}
		runs := []LOSOColumn{{Name: fmt.Sprintf("recipe %d", recipe)}}
		opts := []TrainOptions{{Seed: opt.Seed, Recipe: recipe, Vectors: opt.Vectors}}
		if opt.Baseline && recipe != RecipeFourth {
			runs = append(runs, LOSOColumn{Name: "recipe 4"})
			opts = append(opts, TrainOptions{Seed: opt.Seed, Recipe: RecipeFourth})
		}
		if opt.Baseline {
			runs = append(runs, LOSOColumn{Name: "baseline"})
			opts = append(opts, TrainOptions{Seed: opt.Seed, Baseline: true})
		}
		for i := range runs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			rs, err := LeaveOneOut(d, opts[i])
			if err != nil {
				return nil, err
			}
			runs[i].Rows = rs
		}
		ev.LOSO = runs
	}
	if opt.Throughput > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev.Fast, ev.Explain = Throughput(m, d, opt.Throughput)
	}
	return ev, nil
}

// Category returns the result of category cat in rep, or nil.
func (rep SuiteReport) Category(cat string) *CategoryResult {
	for i := range rep.Categories {
		if rep.Categories[i].Category == cat {
			return &rep.Categories[i]
		}
	}
	return nil
}

// Worst returns the identity with the lowest BPSN AUC and that AUC.
func (b BiasReport) Worst() (group string, bpsn float64) {
	bpsn = math.Inf(1)
	for _, r := range b.Rows {
		if r.BPSN < bpsn {
			bpsn, group = r.BPSN, r.Group
		}
	}
	return group, bpsn
}
