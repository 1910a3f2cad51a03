package lab

import (
	"math"
	"testing"

	"github.com/parleyhq/parley/internal/toxicity"
)

func scored(scores []float64, labels []int) []toxicity.Scored {
	xs := make([]toxicity.Scored, len(scores))
	for i := range scores {
		xs[i] = toxicity.Scored{Score: scores[i], Label: labels[i] == 1}
	}
	return xs
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 || (math.IsNaN(a) && math.IsNaN(b)) }

func TestROCAUC(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		labels []int
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []int{0, 0, 1, 1}, 1},
		{"inverted", []float64{0.9, 0.8, 0.2, 0.1}, []int{0, 0, 1, 1}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []int{0, 1, 0, 1}, 0.5},
		// sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
		{"sklearn example", []float64{0.1, 0.4, 0.35, 0.8}, []int{0, 0, 1, 1}, 0.75},
		// one tie between a positive and a negative counts one half: 3.5/4
		{"tie across classes", []float64{0.1, 0.5, 0.5, 0.9}, []int{0, 0, 1, 1}, 0.875},
		{"one class", []float64{0.1, 0.2}, []int{1, 1}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ROCAUC(scored(tt.scores, tt.labels)); !near(got, tt.want) {
				t.Errorf("ROCAUC = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPRAUC(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		labels []int
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []int{0, 0, 1, 1}, 1},
		// sklearn.metrics.average_precision_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.8333…
		{"sklearn example", []float64{0.1, 0.4, 0.35, 0.8}, []int{0, 0, 1, 1}, (1 + 2.0/3) / 2},
		{"no positives", []float64{0.1, 0.2}, []int{0, 0}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PRAUC(scored(tt.scores, tt.labels)); !near(got, tt.want) {
				t.Errorf("PRAUC = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfusion(t *testing.T) {
	xs := scored([]float64{0.9, 0.8, 0.7, 0.3, 0.2, 0.6}, []int{1, 1, 0, 1, 0, 0})
	c := toxicity.At(xs, 0.65)
	if c != (toxicity.Confusion{TP: 2, FP: 1, TN: 2, FN: 1}) {
		t.Fatalf("At(0.65) = %+v", c)
	}
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"precision", c.Precision(), 2.0 / 3},
		{"recall", c.Recall(), 2.0 / 3},
		{"F1", c.F1(), 2.0 / 3},
		{"FPR", c.FPR(), 1.0 / 3},
	} {
		if !near(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got := toxicity.At(xs, 0.7).FP; got != 1 {
		t.Errorf("a score equal to the threshold is held: FP = %d, want 1", got)
	}
}

func TestPowerMean(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"equal values", []float64{0.8, 0.8, 0.8}, -5, 0.8},
		// (0.5^-5 + 1^-5)/2 = 16.5; 16.5^(-1/5)
		{"pulled to the minimum", []float64{0.5, 1}, -5, math.Pow(16.5, -0.2)},
		{"arithmetic", []float64{0.5, 1}, 1, 0.75},
		{"NaN ignored", []float64{0.5, math.NaN(), 1}, 1, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PowerMean(tt.xs, tt.p); !near(got, tt.want) {
				t.Errorf("PowerMean = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBias(t *testing.T) {
	// Group "g": its non-toxic mention scores 0.6, above a background toxic
	// example at 0.5, so BPSN falls below 1 while the subgroup AUC is 1.
	xs := []BiasExample{
		{toxicity.Scored{Score: 0.6, Label: false}, []string{"g"}},
		{toxicity.Scored{Score: 0.9, Label: true}, []string{"g"}},
		{toxicity.Scored{Score: 0.1, Label: false}, nil},
		{toxicity.Scored{Score: 0.5, Label: true}, nil},
		{toxicity.Scored{Score: 0.95, Label: true}, nil},
	}
	rep := Bias(xs, []string{"g", "absent"})
	if len(rep.Rows) != 1 {
		t.Fatalf("rows = %d, want 1 (groups without examples are skipped)", len(rep.Rows))
	}
	r := rep.Rows[0]
	// BPSN: positives {0.5, 0.95} (background) vs negatives {0.6} (subgroup): 1 of 2 pairs.
	// BNSP: positives {0.9} (subgroup) vs negatives {0.1} (background): 1.
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"subgroup", r.Subgroup, 1},
		{"BPSN", r.BPSN, 0.5},
		{"BNSP", r.BNSP, 1},
		{"max neutral", r.MaxNeutral, 0.6},
		{"final", rep.Final, 0.25*rep.Overall + 0.25*1 + 0.25*0.5 + 0.25*1},
	} {
		if !near(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestSpanF1(t *testing.T) {
	set := func(ks ...int) map[int]bool {
		m := map[int]bool{}
		for _, k := range ks {
			m[k] = true
		}
		return m
	}
	tests := []struct {
		name       string
		pred, gold map[int]bool
		want       float64
	}{
		{"both empty", set(), set(), 1},
		{"prediction only", set(1), set(), 0},
		{"gold only", set(), set(1), 0},
		{"exact", set(1, 2, 3), set(1, 2, 3), 1},
		{"half overlap", set(1, 2), set(2, 3), 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SpanF1(tt.pred, tt.gold); !near(got, tt.want) {
				t.Errorf("SpanF1 = %v, want %v", got, tt.want)
			}
		})
	}
}
