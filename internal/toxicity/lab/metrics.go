package lab

import (
	"math"
	"sort"

	"github.com/parleyhq/parley/internal/toxicity"
)

// ROCAUC returns the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting one half. It is NaN
// when either class is absent.
func ROCAUC(xs []toxicity.Scored) float64 {
	s := append([]toxicity.Scored(nil), xs...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Score < s[j].Score })
	var pos, neg float64
	for _, x := range s {
		if x.Label {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	// Sum of the (average, for ties) ranks of the positives.
	var rankSum float64
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j].Score == s[i].Score {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 … j
		for k := i; k < j; k++ {
			if s[k].Label {
				rankSum += avg
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// PRAUC returns the area under the precision-recall curve as average
// precision: the mean of the precision at the rank of each positive, tied
// scores taken as one step. NaN without positives.
func PRAUC(xs []toxicity.Scored) float64 {
	s := append([]toxicity.Scored(nil), xs...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Score > s[j].Score })
	var pos float64
	for _, x := range s {
		if x.Label {
			pos++
		}
	}
	if pos == 0 {
		return math.NaN()
	}
	var tp, seen, ap float64
	for i := 0; i < len(s); {
		j := i
		stepTP := 0.0
		for j < len(s) && s[j].Score == s[i].Score {
			if s[j].Label {
				stepTP++
			}
			j++
		}
		tp += stepTP
		seen = float64(j)
		ap += stepTP * tp / seen
		i = j
	}
	return ap / pos
}

// BiasExample is a scored example tagged with the identities it mentions.
type BiasExample struct {
	toxicity.Scored
	Groups []string
}

// BiasRow is the bias metrics of one identity (Borkan et al., 2019): the AUC
// within the subgroup, BPSN (background positives vs subgroup negatives: low
// means non-toxic mentions of the group score like toxic comments) and BNSP
// (background negatives vs subgroup positives: low means toxic comments about
// the group score like non-toxic ones).
type BiasRow struct {
	Group      string
	N          int
	Subgroup   float64
	BPSN       float64
	BNSP       float64
	MaxNeutral float64 // highest score of a non-toxic example mentioning the group
}

// BiasReport is the per-identity table and the Jigsaw Unintended Bias final
// score.
type BiasReport struct {
	Overall float64 // ROC-AUC over every example
	Rows    []BiasRow
	Final   float64 // 0.25 overall + 0.25 × power mean (p = −5) of each metric
}

// Bias computes the bias report over xs for the given groups.
func Bias(xs []BiasExample, groups []string) BiasReport {
	all := make([]toxicity.Scored, len(xs))
	for i, x := range xs {
		all[i] = x.Scored
	}
	rep := BiasReport{Overall: ROCAUC(all)}
	var sub, bpsn, bnsp []float64
	for _, g := range groups {
		var in, bp, bn []toxicity.Scored
		row := BiasRow{Group: g}
		for _, x := range xs {
			mentions := false
			for _, xg := range x.Groups {
				if xg == g {
					mentions = true
				}
			}
			switch {
			case mentions:
				in = append(in, x.Scored)
				if !x.Label {
					bp = append(bp, x.Scored)
					row.MaxNeutral = max(row.MaxNeutral, x.Score)
				} else {
					bn = append(bn, x.Scored)
				}
			case x.Label:
				bp = append(bp, x.Scored)
			default:
				bn = append(bn, x.Scored)
			}
		}
		if len(in) == 0 {
			continue
		}
		row.N = len(in)
		row.Subgroup = ROCAUC(in)
		row.BPSN = ROCAUC(bp)
		row.BNSP = ROCAUC(bn)
		rep.Rows = append(rep.Rows, row)
		sub = append(sub, row.Subgroup)
		bpsn = append(bpsn, row.BPSN)
		bnsp = append(bnsp, row.BNSP)
	}
	rep.Final = 0.25*rep.Overall + 0.25*PowerMean(sub, -5) + 0.25*PowerMean(bpsn, -5) + 0.25*PowerMean(bnsp, -5)
	return rep
}

// PowerMean returns (mean of x^p)^(1/p), ignoring NaNs.
func PowerMean(xs []float64, p float64) float64 {
	var s float64
	n := 0
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		s += math.Pow(x, p)
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Pow(s/float64(n), 1/p)
}

// SpanF1 is the SemEval-2021 toxic-span metric for one text: the F1 of the
// predicted and gold sets of character offsets, 1 when both are empty and 0
// when only one is.
func SpanF1(pred, gold map[int]bool) float64 {
	if len(pred) == 0 && len(gold) == 0 {
		return 1
	}
	if len(pred) == 0 || len(gold) == 0 {
		return 0
	}
	inter := 0
	for k := range pred {
		if gold[k] {
			inter++
		}
	}
	p := float64(inter) / float64(len(pred))
	r := float64(inter) / float64(len(gold))
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
