package store

import "hash/fnv"

// TextHash is the FNV-1a hash of a comment's text, never 0, which a backend
// keeps beside the text so that the duplicate search of Activity finds a
// poster's equal text by an index seek; 0 marks rows stored before the
// backend kept hashes, which it compares by text. The hash is stable across
// processes and versions: rows written by one instance are found by another.
func TextHash(text string) int64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	if v := int64(h.Sum64()); v != 0 {
		return v
	}
	return 1
}
