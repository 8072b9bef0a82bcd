//go:build unix

package hnsw

import (
	"fmt"
	"os"
	"syscall"

	"github.com/oxvec/oxvec/core/errs"
)

// mapping is a read-only memory map of an index file.
type mapping struct {
	data   []byte
	verify bool
}

func mapFile(path string, verify bool) (*mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return &mapping{verify: verify}, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%w: mmap %s: %v", errs.IO, path, err)
	}
	return &mapping{data: data, verify: verify}, nil
}

func (m *mapping) close() error {
	if m == nil || m.data == nil {
		return nil
	}
	err := syscall.Munmap(m.data)
	m.data = nil
	return err
}
