package toxicity

import "math"

// Scored is one example's score and binary label, the unit of the metrics.
type Scored struct {
	Score float64
	Label bool
}

// Confusion counts outcomes at a threshold: a score at or above it is a
// positive prediction.
type Confusion struct {
	TP, FP, TN, FN int
}

// At returns the confusion counts of xs at threshold t.
func At(xs []Scored, t float64) Confusion {
	var c Confusion
	for _, x := range xs {
		switch pred := x.Score >= t; {
		case pred && x.Label:
			c.TP++
		case pred:
			c.FP++
		case x.Label:
			c.FN++
		default:
			c.TN++
		}
	}
	return c
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Precision is TP / (TP + FP).
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP / (TP + FN).
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// FPR is the false-positive rate, FP / (FP + TN): the share of non-toxic
// comments held.
func (c Confusion) FPR() float64 { return ratio(c.FP, c.FP+c.TN) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
