//go:build !unix

package hnsw

import "os"

// mapping on platforms without mmap: the file is read into memory.
type mapping struct {
	data   []byte
	verify bool
}

func mapFile(path string, verify bool) (*mapping, error) {
	data, err := os.ReadFile(path)
	return &mapping{data: data, verify: verify}, err
}

func (m *mapping) close() error { return nil }
