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
	"strings"
	"sync"
)

// The model file is gzip-compressed:
//
//	"PARLEYTOX1\n"
//	uint32 length of the JSON header, the header (fileHeader)
//	the weights, int16 little-endian, bucket-major, head h scaled by Scale[h]
//	with a vector branch (header "vectors"): uint32 length of the
//	vocabulary, the words joined by "\n", then the int8 projections,
//	word-major
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
	Vectors   *vectorHeader      `json:"vectors,omitempty"`
}

// vectorHeader describes a model's VectorBranch in the file header.
type vectorHeader struct {
	Words int       `json:"words"`
	Width int       `json:"width"`
	Scale []float32 `json:"scale"`
	Bias  []float32 `json:"bias"`
	Mean  []float32 `json:"mean"`
	Max   []float32 `json:"max"`
}

// Save writes the model to w in the model file format.
func (m *Model) Save(w io.Writer) error {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	bw := bufio.NewWriter(gz)
	h := fileHeader{Bits: m.Bits, Heads: headNames[:], Bias: m.Bias, Threshold: m.Threshold, Info: m.Info, Scale: m.scales()}
	if v := m.Vec; v != nil {
		h.Vectors = &vectorHeader{Words: len(v.Words), Width: v.Width, Scale: v.Scale, Bias: v.Bias, Mean: v.Mean, Max: v.Max}
	}
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
	if v := m.Vec; v != nil {
		vocab := strings.Join(v.Words, "\n")
		binary.Write(bw, binary.LittleEndian, uint32(len(vocab)))
		bw.WriteString(vocab)
		for _, x := range v.P {
			bw.WriteByte(byte(x))
		}
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
	if vh := h.Vectors; vh != nil {
		if m.Vec, err = readVectors(br, vh); err != nil {
			return nil, fmt.Errorf("read model vectors: %w", err)
		}
	}
	return m, nil
}

// readVectors reads the vector branch that follows the weights.
func readVectors(br io.Reader, vh *vectorHeader) (*VectorBranch, error) {
	dims := len(vh.Bias)
	if dims == 0 || dims > maxVectorDims || len(vh.Scale) != dims || len(vh.Mean) != dims || len(vh.Max) != dims || vh.Width < 1 || vh.Width > 4 || vh.Words <= 0 || vh.Words > 1<<22 {
		return nil, errors.New("unsupported shape")
	}
	var n uint32
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil || n > 1<<26 {
		return nil, errors.New("bad vocabulary length")
	}
	vocab := make([]byte, n)
	if _, err := io.ReadFull(br, vocab); err != nil {
		return nil, err
	}
	v := &VectorBranch{Words: strings.Split(string(vocab), "\n"), Width: vh.Width, Scale: vh.Scale, Bias: vh.Bias, Mean: vh.Mean, Max: vh.Max}
	if len(v.Words) != vh.Words {
		return nil, fmt.Errorf("%d words, header says %d", len(v.Words), vh.Words)
	}
	raw := make([]byte, vh.Words*vh.Width*dims)
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, err
	}
	v.P = make([]int8, len(raw))
	for i, x := range raw {
		v.P[i] = int8(x)
	}
	v.init()
	return v, nil
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
