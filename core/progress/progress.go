// Package progress lets a long engine call report how far it got. The C ABI
// attaches a Counter to the context of a call that has a cancel flag; the
// caller reads it from another thread (oxv_progress) while it waits. Nothing
// calls back up across the ABI. On a context without a counter every
// function here is a no-op.
//
// Cost: From is one context lookup, Add and Expect one atomic add each, so
// report per batch, chunk, tile or iteration, never per vector in a hot
// loop that costs less than a microsecond.
package progress

import (
	"context"
	"sync/atomic"
)

// Counter is a call's progress: done units of total. Both only grow.
type Counter struct {
	done, total atomic.Int64
}

// Read returns (done, total); done never exceeds total.
func (c *Counter) Read() (done, total int64) {
	if c == nil {
		return 0, 0
	}
	t := c.total.Load()
	d := c.done.Load()
	return min(d, t), t
}

// Expect adds n units to the total: a call may run several phases (k-means
// for each sub-quantizer), each adding what it will do.
func (c *Counter) Expect(n int64) {
	if c != nil && n > 0 {
		c.total.Add(n)
	}
}

// Add records n more units done.
func (c *Counter) Add(n int64) {
	if c != nil && n > 0 {
		c.done.Add(n)
	}
}

type key struct{}

// With returns a context that carries c.
func With(ctx context.Context, c *Counter) context.Context {
	return context.WithValue(ctx, key{}, c)
}

// From returns ctx's counter, nil (whose methods do nothing) without one.
func From(ctx context.Context) *Counter {
	c, _ := ctx.Value(key{}).(*Counter)
	return c
}

// Only returns a context that carries ctx's counter and nothing else: for
// work that must not stop when the caller cancels (a store applying a
// change it has logged) but should still report how far it got.
func Only(ctx context.Context) context.Context {
	return With(context.Background(), From(ctx))
}

// Expect adds n to the total of ctx's counter, if any.
func Expect(ctx context.Context, n int64) { From(ctx).Expect(n) }

// Add records n units done on ctx's counter, if any.
func Add(ctx context.Context, n int64) { From(ctx).Add(n) }
