package progress

import (
	"context"
	"sync"
	"testing"
)

func TestNoCounterIsNoOp(t *testing.T) {
	ctx := context.Background()
	Expect(ctx, 10)
	Add(ctx, 3)
	if c := From(ctx); c != nil {
		t.Fatalf("From without counter = %v", c)
	}
	if d, tot := From(ctx).Read(); d != 0 || tot != 0 {
		t.Fatalf("nil Read = %d, %d", d, tot)
	}
}

func TestCounterConcurrent(t *testing.T) {
	c := &Counter{}
	ctx := With(context.Background(), c)
	Expect(ctx, 1000)
	Expect(ctx, 0)
	Expect(ctx, -5) // ignored
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var last int64
	wg.Add(1)
	go func() { // a reader sees done grow and never pass total
		defer wg.Done()
		for {
			d, tot := c.Read()
			if d < last || d > tot || tot != 1000 {
				t.Errorf("read %d of %d after %d", d, tot, last)
				return
			}
			last = d
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var writers sync.WaitGroup
	for w := 0; w < 4; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; i < 250; i++ {
				Add(ctx, 1)
			}
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if d, tot := c.Read(); d != 1000 || tot != 1000 {
		t.Fatalf("final %d of %d", d, tot)
	}
	Add(ctx, 5) // more than expected: Read caps done at total
	if d, tot := c.Read(); d != 1000 || tot != 1000 {
		t.Fatalf("capped %d of %d", d, tot)
	}
}
