// Package parallel runs the engine's data-parallel loops on a bounded number
// of goroutines. It is the only place the engine starts worker goroutines, so
// it is also the place that turns a panic inside a worker into an error: a
// panic on a goroutine other than the caller's cannot be recovered by the C
// ABI's deferred recover and would otherwise end the host process.
package parallel

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/errs"
)

// workers is read on every search, so it is an atomic rather than a call
// to runtime.GOMAXPROCS, which takes a lock.
var workers atomic.Int32

func init() { SetWorkers(0) }

// SetWorkers bounds the goroutines one loop uses; n <= 0 restores the
// default, GOMAXPROCS at the time of the call.
func SetWorkers(n int) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	workers.Store(int32(n))
}

// Workers is the number of goroutines a loop may use.
func Workers() int { return int(workers.Load()) }

// For calls fn on consecutive chunks [lo, hi) covering [0, n), at most grain
// items each, from up to Workers() goroutines. It stops handing out chunks
// after the first error or when ctx is canceled, and returns that error
// (errs.Canceled for a canceled context). A panic in fn is returned as an
// errs.Internal error carrying the stack.
func For(ctx context.Context, n, grain int, fn func(lo, hi int) error) error {
	if n <= 0 {
		return nil
	}
	if grain < 1 {
		grain = 1
	}
	chunks := (n + grain - 1) / grain
	w := min(Workers(), chunks)
	if w <= 1 || ctx.Value(serialKey{}) != nil {
		return serial(ctx, n, grain, fn)
	}
	var (
		next    atomic.Int64
		errOnce sync.Once
		first   error
		failed  atomic.Bool
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		failed.Store(true)
	}
	work := func() {
		defer wg.Done()
		defer func() {
			if r := recover(); r != nil {
				fail(PanicError(r))
			}
		}()
		for !failed.Load() {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			if err := Check(ctx); err != nil {
				fail(err)
				return
			}
			lo := c * grain
			if err := fn(lo, min(lo+grain, n)); err != nil {
				fail(err)
				return
			}
		}
	}
	wg.Add(w)
	for i := 1; i < w; i++ {
		go work()
	}
	work() // the caller's goroutine works too
	wg.Wait()
	return first
}

type serialKey struct{}

// Serial returns a context under which For runs on the calling goroutine:
// for a loop called from inside another loop's chunk, whose workers
// already use every core. An inverted-file search runs the coarse search
// of each chunk of queries this way, then scans that chunk's lists, so one
// worker's arithmetic overlaps another's memory reads.
func Serial(ctx context.Context) context.Context {
	return context.WithValue(ctx, serialKey{}, true)
}

func serial(ctx context.Context, n, grain int, fn func(lo, hi int) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = PanicError(r)
		}
	}()
	for lo := 0; lo < n; lo += grain {
		if err := Check(ctx); err != nil {
			return err
		}
		if err := fn(lo, min(lo+grain, n)); err != nil {
			return err
		}
	}
	return nil
}

// Check returns errs.Canceled (wrapping the context's reason) once ctx is
// done, and nil before.
func Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %v", errs.Canceled, err)
	}
	return nil
}

// PanicError turns a recovered panic value into an errs.Internal error that
// carries the stack of the panicking goroutine.
func PanicError(r any) error {
	return fmt.Errorf("%w: panic: %v\n%s", errs.Internal, r, debug.Stack())
}

// Go runs fn on a goroutine of its own, for the engine's few long-lived
// background tasks (a store's recall sampler); a panic in fn is handed to
// onPanic as an errs.Internal error instead of ending the process.
func Go(fn func(), onPanic func(error)) {
	go func() {
		defer func() {
			if r := recover(); r != nil && onPanic != nil {
				onPanic(PanicError(r))
			}
		}()
		fn()
	}()
}
