package toxicity

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestLoadThreeHeadFile: a model file written before the threat head (three
// heads) still loads and scores as it did.
func TestLoadThreeHeadFile(t *testing.T) {
	// A three-head model: word classes without class sets or threat head,
	// weights from a fixed generator.
	m := NewModel(16)
	m.Info = Info{Version: 1, SentenceMax: true, WordClasses: true, ClassRepeat: 3, MaskIdentity: true}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range m.W {
		if i%NumHeads != HeadThreat {
			m.W[i] = float32(rng.NormFloat64())
		}
	}
	m.Bias = [NumHeads]float32{-1, -2, -3, 0}
	// The old format: three heads, int16 weights with stride three.
	const nh = 3
	h := map[string]any{"bits": m.Bits, "heads": headNames[:nh], "bias": m.Bias[:nh], "threshold": m.Threshold, "info": m.Info}
	var scale [nh]float64
	for i, v := range m.W {
		if k := i % NumHeads; k < nh {
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
		if k := i % NumHeads; k < nh {
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
