package store

import (
	"io/fs"
	"path/filepath"
)

// Usage is what a store holds, as quotas count it (core/tenant).
type Usage struct {
	Vectors    int64 // live records
	DiskBytes  int64 // bytes of the store's files
	IndexBytes int64 // memory of the vector index
}

// Usage measures the store: the record count and index memory under the
// read lock, the files' sizes by a walk of its directory.
func (s *Store) Usage() Usage {
	s.mu.RLock()
	u := Usage{Vectors: int64(s.tab.live())}
	if s.idx != nil {
		u.IndexBytes = s.idx.Info().MemoryBytes
	}
	s.mu.RUnlock()
	u.DiskBytes = DirBytes(s.dir)
	return u
}

// DirBytes is the total size of the regular files under dir.
func DirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
