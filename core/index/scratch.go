package index

import "sync"

// Pool keeps search scratch (tables, score buffers, heaps' storage) for
// reuse across calls and tasks. Allocating it per task cost more than the
// search itself at small nprobe with two threads: fresh memory means page
// faults and madvise calls that serialise on the process's memory map
// (measured on IVF-PQ, bigann-10k, nprobe 1: 2 threads ran at 0.4x of 1
// thread). Each index keeps its own pool, so buffers fit its shapes.
type Pool[T any] struct{ p sync.Pool }

// Get returns a scratch value, new (zero) or used.
func (p *Pool[T]) Get() *T {
	if v, ok := p.p.Get().(*T); ok {
		return v
	}
	return new(T)
}

// Put returns v to the pool.
func (p *Pool[T]) Put(v *T) { p.p.Put(v) }
