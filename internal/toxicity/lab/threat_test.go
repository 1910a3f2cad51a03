package lab

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/internal/toxicity"
)

// threatData is tinyData with Civil Comments posts whose raters marked a
// threat ("I will stab you …") among others they called toxic for insults.
func threatData(threats int) *Dataset {
	d := tinyData()
	for i := 0; i < threats; i++ {
		d.Examples = append(d.Examples,
			Example{Source: SourceCivil, ID: fmt.Sprint("c", i), Text: fmt.Sprintf("I will stab you and you will die, number %d", i), Toxicity: 1, Identity: 0, Spam: 0, ThreatShare: 1},
			Example{Source: SourceCivil, ID: fmt.Sprint("i", i), Text: fmt.Sprintf("what a stupid idiot, number %d", i), Toxicity: 1, Identity: 0, Spam: 0},
		)
	}
	return d
}

// TestThreatHead: with threats in the data the model learns a threat head
// that tells a threat from an insult and blends it into toxicity; with too
// few threats, or with NoThreatHead, there is none.
func TestThreatHead(t *testing.T) {
	opt := TrainOptions{Seed: 3, Bits: 16}
	m, err := Train(threatData(200), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Info.ThreatHead || m.Info.ThreatMix != threatMix || !m.Info.ClassSets {
		t.Fatalf("trained with 200 threats: threat head %v, mix %v, class sets %v", m.Info.ThreatHead, m.Info.ThreatMix, m.Info.ClassSets)
	}
	// The threat head's own logit, and the toxicity logit the blend gives.
	threatLogit := func(text string) (threat, tox float64) {
		l := m.Logits(text)
		m.Info.ThreatHead = false
		plain := m.Logits(text)
		m.Info.ThreatHead = true
		if want := max(plain[toxicity.HeadToxicity], l[toxicity.HeadThreat]); l[toxicity.HeadToxicity] != want {
			t.Errorf("%q: toxicity logit %.3f, want the larger of the toxicity %.3f and the threat branch %.3f", text, l[toxicity.HeadToxicity], plain[toxicity.HeadToxicity], l[toxicity.HeadThreat])
		}
		return (l[toxicity.HeadThreat] - (1-m.Info.ThreatMix)*plain[toxicity.HeadToxicity]) / m.Info.ThreatMix, l[toxicity.HeadToxicity]
	}
	threat, _ := threatLogit("we will shoot you and you will be dead")
	insult, _ := threatLogit("you stupid idiot")
	if !(threat > insult+1) {
		t.Errorf("threat head: %.2f for a threat, %.2f for an insult", threat, insult)
	}
	opt.NoThreatHead = true
	if without, err := Train(threatData(200), opt); err != nil || without.Info.ThreatHead {
		t.Fatalf("NoThreatHead: threat head %v, err %v", without != nil && without.Info.ThreatHead, err)
	}
	few, err := Train(threatData(minThreatPositives/2), TrainOptions{Seed: 3, Bits: 16})
	if err != nil {
		t.Fatal(err)
	}
	if few.Info.ThreatHead {
		t.Errorf("trained a threat head on %d threats (minimum %d)", minThreatPositives/2, minThreatPositives)
	}
}
