package tenant

import (
	"fmt"
	"sync"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/store"
)

// Quota bounds a tenant. Zero values mean no bound. MaxQPS and Burst are
// the tenant's token bucket (limiter.go), shared by all its keys.
type Quota struct {
	MaxVectors      int64   `json:"max_vectors,omitempty"`
	MaxStorageBytes int64   `json:"max_storage_bytes,omitempty"`
	MaxIndexBytes   int64   `json:"max_index_bytes,omitempty"`
	MaxQPS          float64 `json:"max_qps,omitempty"`
	Burst           int     `json:"burst,omitempty"`
}

func (q Quota) check() error {
	if q.MaxVectors < 0 || q.MaxStorageBytes < 0 || q.MaxIndexBytes < 0 || q.MaxQPS < 0 || q.Burst < 0 {
		return fmt.Errorf("%w: quota limits must be >= 0 (0: no limit)", errs.InvalidArgument)
	}
	return nil
}

// Usage is what a tenant holds, measured from its stores.
type Usage struct {
	Vectors      int64 `json:"vectors"`
	StorageBytes int64 `json:"storage_bytes"`
	IndexBytes   int64 `json:"index_bytes"`
}

func (u *Usage) plus(v Usage) {
	u.Vectors += v.Vectors
	u.StorageBytes += v.StorageBytes
	u.IndexBytes += v.IndexBytes
}

// meter keeps a tenant's usage: the last measurement of each collection
// and what writes in flight have reserved. A write reserves its worst case
// under mu, checked against the limits together with every other
// reservation, so concurrent writers cannot overshoot; when it is done it
// gives the reservation back and the collection is measured again.
type meter struct {
	mu       sync.Mutex
	measured map[string]Usage // collection id -> last measurement
	reserved Usage
}

func newMeter() *meter { return &meter{measured: map[string]Usage{}} }

func (m *meter) total() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.totalLocked()
}

func (m *meter) totalLocked() Usage {
	var u Usage
	for _, v := range m.measured {
		u.plus(v)
	}
	return u
}

// reserve books room for a write, or says which limit it would pass.
func (m *meter) reserve(q Quota, need Usage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	use := m.totalLocked()
	use.plus(m.reserved)
	for _, l := range []struct {
		name      string
		use, need int64
		limit     int64
	}{
		{"max_vectors", use.Vectors, need.Vectors, q.MaxVectors},
		{"max_storage_bytes", use.StorageBytes, need.StorageBytes, q.MaxStorageBytes},
		{"max_index_bytes", use.IndexBytes, need.IndexBytes, q.MaxIndexBytes},
	} {
		if l.limit > 0 && l.need > 0 && l.use+l.need > l.limit {
			return fmt.Errorf("%w: limit=%s use=%d limit_value=%d: the write needs %d more", errs.QuotaExceeded, l.name, l.use, l.limit, l.need)
		}
	}
	m.reserved.plus(need)
	return nil
}

// settle gives a reservation back and records the collection's new size.
// The store is measured under mu: a measurement taken outside it could be
// installed after a newer one and forget a write whose reservation is
// already given back.
func (m *meter) settle(need Usage, coll string, st *store.Store) {
	m.mu.Lock()
	m.reserved.plus(Usage{-need.Vectors, -need.StorageBytes, -need.IndexBytes})
	m.measured[coll] = measure(st)
	m.mu.Unlock()
}

func (m *meter) set(coll string, st *store.Store) {
	m.mu.Lock()
	m.measured[coll] = measure(st)
	m.mu.Unlock()
}

func (m *meter) drop(coll string) {
	m.mu.Lock()
	delete(m.measured, coll)
	m.mu.Unlock()
}

func measure(st *store.Store) Usage {
	u := st.Usage()
	return Usage{Vectors: u.Vectors, StorageBytes: u.DiskBytes, IndexBytes: u.IndexBytes}
}

// writeNeed is a write's worst case: every id new, its vectors and their
// records on disk and in the index.
func writeNeed(b store.Batch, dim int, op string) Usage {
	n := int64(len(b.Keys))
	if op == "update" {
		n = 0
	}
	var disk int64
	for _, k := range b.Keys {
		disk += int64(len(k)) + 16
	}
	for _, d := range b.Docs {
		if d != nil {
			disk += int64(len(*d))
		}
	}
	disk += int64(len(b.Vectors)) * 4
	return Usage{Vectors: n, StorageBytes: disk, IndexBytes: n * int64(dim) * 4}
}
