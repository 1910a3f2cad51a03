package toxicity

import (
	"strings"
	"testing"
)

// benchText is a ~500-character news comment.
var benchText = strings.Repeat("The council voted again to delay the transit plan, and frankly the mayor's excuses are getting old. ", 5)

func benchModel(b *testing.B) *Model {
	m, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkScore measures scoring without the explanation, one core:
// comments/s = 1e9 / ns/op.
func BenchmarkScore(b *testing.B) {
	m := benchModel(b)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		m.ScoreFast(benchText, "")
	}
}

// BenchmarkScoreExplain measures scoring with the evidence spans.
func BenchmarkScoreExplain(b *testing.B) {
	m := benchModel(b)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		m.Score(benchText, "")
	}
}
