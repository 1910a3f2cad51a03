package toxicity

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
)

// The model file is gzip-compressed:
//
//	"PARLEYTOX1\n"
//	uint32 length of the JSON header, the header (fileHeader)
//	the weights, int16 little-endian, bucket-major, head h scaled by Scale[h]
//
// Weights are quantised to 16 bits per head (max |w| ↦ 32767): the scores
// of a loaded model differ from the trained one by less than 1e-3.
const fileMagic = "PARLEYTOX1\n"

type fileHeader struct {
	Bits      uint               `json:"bits"`
	Heads     []string           `json:"heads"`
	Bias      [NumHeads]float32  `json:"bias"`
	Scale     [NumHeads]float64  `json:"scale"`
	Threshold float64            `json:"threshold"`
	Info      Info               `json:"info"`
	Extra     map[string]float64 `json:"extra,omitempty"`
}

// Save writes the model to w in the model file format.
func (m *Model) Save(w io.Writer) error {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	bw := bufio.NewWriter(gz)
	h := fileHeader{Bits: m.Bits, Heads: headNames[:], Bias: m.Bias, Threshold: m.Threshold, Info: m.Info, Scale: m.scales()}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	bw.WriteString(fileMagic)
	binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
	bw.Write(hdr)
	var b [2]byte
	for i, v := range m.W {
		q := math.Round(float64(v) / h.Scale[i%NumHeads])
		binary.LittleEndian.PutUint16(b[:], uint16(int16(q)))
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	return nil
}

// scales returns the per-head quantisation steps of the file format: the
// largest |weight| of a head maps to 32767.
func (m *Model) scales() [NumHeads]float64 {
	var maxAbs, sc [NumHeads]float64
	for i, v := range m.W {
		maxAbs[i%NumHeads] = max(maxAbs[i%NumHeads], math.Abs(float64(v)))
	}
	for k := range sc {
		sc[k] = maxAbs[k] / 32767
		if sc[k] == 0 {
			sc[k] = 1
		}
	}
	return sc
}

// Quantize rounds the weights as Save stores them, so a model calibrated
// after Quantize scores exactly as its file will: the hold threshold then
// holds the same comments before and after a save and load. Quantising
// twice changes nothing.
func (m *Model) Quantize() {
	sc := m.scales()
	for i, v := range m.W {
		q := math.Round(float64(v) / sc[i%NumHeads])
		m.W[i] = float32(float64(int16(q)) * sc[i%NumHeads])
	}
}

// SaveFile writes the model to path.
func (m *Model) SaveFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := m.Save(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Load reads a model written by Save.
func Load(r io.Reader) (*Model, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	br := bufio.NewReaderSize(gz, 1<<16)
	magic := make([]byte, len(fileMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != fileMagic {
		return nil, errors.New("read model: not a parley toxicity model file")
	}
	var n uint32
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil || n > 1<<24 {
		return nil, errors.New("read model: bad header")
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("read model header: %w", err)
	}
	var h fileHeader
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, fmt.Errorf("read model header: %w", err)
	}
	// Files written before the threat head have its first three heads only;
	// the missing head's weights stay zero.
	nh := len(h.Heads)
	if h.Bits < 8 || h.Bits > 26 || nh < HeadThreat || nh > NumHeads {
		return nil, fmt.Errorf("read model: unsupported shape (bits %d, %d heads)", h.Bits, nh)
	}
	m := NewModel(h.Bits)
	m.Bias, m.Threshold, m.Info = h.Bias, h.Threshold, h.Info
	raw := make([]byte, 2*nh<<h.Bits)
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, fmt.Errorf("read model weights: %w", err)
	}
	for b := 0; b < 1<<h.Bits; b++ {
		for k := 0; k < nh; k++ {
			q := int16(binary.LittleEndian.Uint16(raw[2*(b*nh+k):]))
			m.W[b*NumHeads+k] = float32(float64(q) * h.Scale[k])
		}
	}
	return m, nil
}

// LoadFile reads a model file written by Save.
func LoadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

//go:embed model/default.ptox
var defaultModel []byte

var (
	defaultOnce sync.Once
	defaultM    *Model
	defaultErr  error
)

// Default returns the model embedded in the binary, trained on the
// permissively licensed sources only (see docs/model-card.md). It is loaded
// once and shared.
func Default() (*Model, error) {
	defaultOnce.Do(func() {
		defaultM, defaultErr = Load(bytes.NewReader(defaultModel))
	})
	return defaultM, defaultErr
}

// EmbeddedSize is the size in bytes of the embedded default model file.
func EmbeddedSize() int { return len(defaultModel) }
