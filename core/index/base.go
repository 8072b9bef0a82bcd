package index

import (
	"sync"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
)

// Base is what every index type holds the same way: its dimension, its
// bound metric, the lock over its data and whether it is closed. A type
// embeds it by value (`index.Base`, made by NewBase), which gives it Dim and
// Metric of the Index interface and the guards below.
//
// The lock is the type's own: searches take it shared, mutations
// exclusively, as each type documents (HNSW also inserts under the shared
// lock, with per-node locks of its own). The guards take it and refuse a
// closed index in one call, so a method reads
//
//	if err := x.RLockOpen(); err != nil {
//		return err
//	}
//	defer x.RUnlock()
//
// They allocate nothing; no caller outside the index's own package takes
// the lock.
type Base struct {
	mu     sync.RWMutex
	dim    int
	metric *metric.Metric
	closed bool
}

// NewBase returns the base of an index of dimension dim ranking by m (bound
// to dim).
func NewBase(dim int, m *metric.Metric) Base { return Base{dim: dim, metric: m} }

// Dim implements Index.
func (b *Base) Dim() int { return b.dim }

// Metric implements Index.
func (b *Base) Metric() metric.Kind { return b.metric.Kind }

// Bound is the metric bound to the index's dimension and parameters: it
// prepares vectors and turns kernel values into distances.
func (b *Base) Bound() *metric.Metric { return b.metric }

// RLockOpen takes the lock shared, or returns errs.Closed (holding nothing)
// when the index is closed.
func (b *Base) RLockOpen() error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errs.Closed
	}
	return nil
}

// LockOpen takes the lock exclusively, or returns errs.Closed (holding
// nothing) when the index is closed.
func (b *Base) LockOpen() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errs.Closed
	}
	return nil
}

// RLock takes the lock shared, closed or not (Len, Info, ...).
func (b *Base) RLock() { b.mu.RLock() }

// RUnlock releases the shared lock.
func (b *Base) RUnlock() { b.mu.RUnlock() }

// Lock takes the lock exclusively, closed or not.
func (b *Base) Lock() { b.mu.Lock() }

// Unlock releases the exclusive lock.
func (b *Base) Unlock() { b.mu.Unlock() }

// Closed reports whether the index is closed; the caller holds the lock.
func (b *Base) Closed() bool { return b.closed }

// CloseWith is the body of every Close: under the exclusive lock it marks
// the index closed and runs release, which drops the type's data; closing
// a closed index does nothing and returns nil.
func (b *Base) CloseWith(release func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	return release()
}
