package calls

import (
	"sync"
	"testing"
)

func TestCalls_CountWhatRunsAndWhatStarted(t *testing.T) {
	base, started := InFlight(), Started()
	var wg sync.WaitGroup
	hold := make(chan struct{})
	in := make(chan struct{}, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Start()
			defer Done()
			in <- struct{}{}
			<-hold
		}()
	}
	for i := 0; i < 8; i++ {
		<-in
	}
	if got := InFlight() - base; got != 8 {
		t.Fatalf("%d calls in flight, want 8", got)
	}
	close(hold)
	wg.Wait()
	if InFlight() != base || Started()-started != 8 {
		t.Fatalf("after: %d in flight (want %d), %d started (want 8)", InFlight(), base, Started()-started)
	}
}
