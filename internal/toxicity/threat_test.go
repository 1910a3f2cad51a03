package toxicity

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/parleyhq/parley/internal/textnorm"
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
		sc := &scratch{}
		featurize(sc, textnorm.Normalize(text), m.Info.features())
		l, _ := m.logitsWhich(sc)
		m.Info.ThreatHead = false
		plain := m.logits(sc)
		m.Info.ThreatHead = true
		if want := max(plain[HeadToxicity], l[HeadThreat]); l[HeadToxicity] != want {
			t.Errorf("%q: toxicity logit %.3f, want the larger of the toxicity %.3f and the threat branch %.3f", text, l[HeadToxicity], plain[HeadToxicity], l[HeadThreat])
		}
		return (l[HeadThreat] - (1-m.Info.ThreatMix)*plain[HeadToxicity]) / m.Info.ThreatMix, l[HeadToxicity]
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

// TestLoadThreeHeadFile: a model file written before the threat head (three
// heads) still loads and scores as it did.
func TestLoadThreeHeadFile(t *testing.T) {
	m, err := Train(tinyData(), TrainOptions{Seed: 7, Bits: 16, NoThreatHead: true, NoClassSets: true})
	if err != nil {
		t.Fatal(err)
	}
	// The old format: three heads, int16 weights with stride three.
	const nh = 3
	h := map[string]any{"bits": m.Bits, "heads": headNames[:nh], "bias": m.Bias[:nh], "threshold": m.Threshold, "info": m.Info}
	var scale [nh]float64
	for i, v := range m.W {
		if k := i % numHeads; k < nh {
			scale[k] = max(scale[k], math.Abs(float64(v))/32767)
		}
	}
	h["scale"] = scale
	hdr, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write([]byte(fileMagic))
	binary.Write(gz, binary.LittleEndian, uint32(len(hdr)))
	gz.Write(hdr)
	for i, v := range m.W {
		if k := i % numHeads; k < nh {
			binary.Write(gz, binary.LittleEndian, int16(math.Round(float64(v)/scale[k])))
		}
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	old, err := Load(&buf)
	if err != nil {
		t.Fatalf("loading a three-head file: %v", err)
	}
	for _, tx := range []string{"you are a stupid idiot", "thanks for the helpful edit", "check out my channel"} {
		x, y := m.Score(tx, ""), old.Score(tx, "")
		if math.Abs(x.Toxicity-y.Toxicity) > 1e-3 || math.Abs(x.Spam-y.Spam) > 1e-3 || math.Abs(x.IdentityAttack-y.IdentityAttack) > 1e-3 {
			t.Errorf("%q: three-head file scores %+v, the model %+v", tx, y, x)
		}
	}
}
