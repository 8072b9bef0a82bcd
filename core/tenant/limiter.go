package tenant

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/oxvec/oxvec/core/errs"
)

// Clock tells the time; tests give a fake one (Options.Clock).
type Clock func() time.Time

// bucket is a token bucket: it holds up to burst tokens, gains rate a
// second, and a call takes one. rate <= 0 means no limit.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) *bucket {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if b < 1 {
		b = math.Max(1, math.Ceil(rate)) // default burst: a second's worth
	}
	return &bucket{rate: rate, burst: b, tokens: b}
}

// refill brings the bucket to now; the caller holds mu.
func (b *bucket) refill(now time.Time) {
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
}

// wait is how long until the bucket has a token (0: it has one now).
func (b *bucket) wait(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// admit takes a token from every bucket given (nil ones are unlimited), or
// from none: a call refused by one bucket costs nothing in the others.
func admit(now time.Time, who []string, bs ...*bucket) error {
	for _, b := range bs {
		if b != nil {
			b.mu.Lock()
			defer b.mu.Unlock()
		}
	}
	for i, b := range bs {
		if b == nil {
			continue
		}
		if w := b.wait(now); w > 0 {
			return fmt.Errorf("%w: retry_after=%.6fs: the %s allows %g calls a second, bursts of %g",
				errs.RateLimited, w.Seconds(), who[i], b.rate, b.burst)
		}
	}
	for _, b := range bs {
		if b != nil {
			b.tokens--
		}
	}
	return nil
}
