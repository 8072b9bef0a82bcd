package monitor

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oxvec/oxvec/core/errs"
)

func TestBuckets_CoverDurationsInOrder(t *testing.T) {
	prev := -1
	for ns := int64(1); ns < 1<<36; ns = ns*5/4 + 1 {
		b := bucketOf(ns)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d after %d: not monotonic", ns, b, prev)
		}
		lo, hi := bucketBounds(b)
		if b < nBuckets-1 && (float64(ns) < lo || float64(ns) >= hi) {
			t.Fatalf("%d ns in bucket %d = [%g, %g)", ns, b, lo, hi)
		}
		prev = b
	}
	if bucketOf(1<<40) != nBuckets-1 || bucketOf(0) != 0 || bucketOf(-5) != 0 {
		t.Fatal("values past either end must land in the end buckets")
	}
}

func TestWindow_QuantilesWithinABucket(t *testing.T) {
	base := time.Unix(1000, 0)
	w := NewWindow(13, 5*time.Second, base)
	rng := rand.New(rand.NewSource(1))
	var all []float64
	for i := 0; i < 20000; i++ {
		d := time.Duration(math.Exp(rng.NormFloat64()*1.5) * float64(100*time.Microsecond))
		all = append(all, float64(d)/1e6)
		w.Record(base.Add(time.Second), d, false)
	}
	sort.Float64s(all)
	s := w.Summarize(base.Add(2 * time.Second))
	for _, c := range []struct {
		q   float64
		got float64
	}{{0.5, s.P50}, {0.95, s.P95}, {0.99, s.P99}} {
		want := all[int(c.q*float64(len(all)))]
		if math.Abs(c.got-want)/want > 0.13 { // a bucket is 19% wide
			t.Errorf("p%v = %g ms, exact %g ms", c.q*100, c.got, want)
		}
	}
	if s.Count != 20000 || s.Total != 20000 {
		t.Fatalf("count %d total %d", s.Count, s.Total)
	}
}

func TestWindow_ForgetsWhatLeftTheWindow(t *testing.T) {
	base := time.Unix(1000, 0)
	w := NewWindow(4, time.Second, base) // spans 3-4 s
	for i := 0; i < 10; i++ {
		w.Record(base.Add(500*time.Millisecond), time.Millisecond, i < 3)
	}
	if s := w.Summarize(base.Add(time.Second)); s.Count != 10 || s.Errors != 3 {
		t.Fatalf("inside the window: %+v", s)
	}
	s := w.Summarize(base.Add(10 * time.Second))
	if s.Count != 0 || s.Errors != 0 || s.P99 != 0 {
		t.Fatalf("after the window: %+v", s)
	}
	if s.Total != 10 || s.Failed != 3 {
		t.Fatalf("totals are kept: %+v", s)
	}
	// a slot reused for a later time starts empty
	w.Record(base.Add(4500*time.Millisecond), 2*time.Millisecond, false)
	if s := w.Summarize(base.Add(4600 * time.Millisecond)); s.Count != 1 {
		t.Fatalf("rotated slot: %+v", s)
	}
}

func TestWindow_ConcurrentRecordsAllCounted(t *testing.T) {
	base := time.Now()
	w := NewWindow(13, time.Hour, base)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				w.Record(time.Now(), time.Microsecond, false)
				_ = w.Summarize(time.Now())
			}
		}()
	}
	wg.Wait()
	if s := w.Summarize(time.Now()); s.Count != 8000 || s.Total != 8000 {
		t.Fatalf("%+v", s)
	}
}

func TestMonitor_ErrorsByClass(t *testing.T) {
	m := New(Config{}, "c", func() Gauges { return Gauges{Count: 3} })
	for _, err := range []error{fmt.Errorf("%w: k", errs.InvalidArgument), errs.Closed, errors.New("plain"), fmt.Errorf("%w: x", errs.InvalidArgument)} {
		m.Done(Search, m.Start(), err)
	}
	m.Done(Search, m.Start(), nil)
	st := m.Stats()
	if st.Errors["invalid_argument"] != 2 || st.Errors["closed"] != 1 || st.Errors["other"] != 1 {
		t.Fatalf("errors %v", st.Errors)
	}
	if st.Latency["search"].Count != 5 || math.Abs(st.ErrorRate-0.8) > 1e-9 || st.Count != 3 {
		t.Fatalf("%+v", st)
	}
	if len(classes)+1 > maxClasses {
		t.Fatal("maxClasses too small")
	}
}

func TestMonitor_DisabledRecordsNothing(t *testing.T) {
	m := New(Config{Disabled: true}, "c", func() Gauges { return Gauges{} })
	m.Done(Search, m.Start(), errs.Closed)
	if st := m.Stats(); st.Latency["search"].Total != 0 || len(st.Errors) != 0 || m.SampleRecall(time.Now()) {
		t.Fatalf("%+v", st)
	}
}

func TestMonitor_SampleRecallIsRateLimited(t *testing.T) {
	m := New(Config{RecallPerSecond: 10}, "c", func() Gauges { return Gauges{} })
	now := time.Unix(5000, 0)
	n := 0
	for i := 0; i < 1000; i++ { // one second, in ms steps
		if m.SampleRecall(now.Add(time.Duration(i) * time.Millisecond)) {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("%d samples in a second at 10/s", n)
	}
}

func TestWilson_KnownValues(t *testing.T) {
	lo, hi := Wilson(0.5, 100, z95)
	if math.Abs(lo-0.4038) > 1e-3 || math.Abs(hi-0.5962) > 1e-3 {
		t.Fatalf("Wilson(0.5, 100) = %v %v", lo, hi)
	}
	lo, hi = Wilson(1, 10, z95)
	if math.Abs(hi-1) > 1e-12 || math.Abs(lo-0.7225) > 1e-3 {
		t.Fatalf("Wilson(1, 10) = %v %v", lo, hi)
	}
}

func TestRecallWindow_KeepsTheLastSamples(t *testing.T) {
	r := NewRecallWindow(4)
	if r.Estimate() != nil {
		t.Fatal("an estimate before any sample")
	}
	for i := 0; i < 10; i++ {
		r.Add(0, 10)
	}
	for i := 0; i < 4; i++ {
		r.Add(9, 10)
	}
	e := r.Estimate()
	if e.N != 4 || math.Abs(e.Value-0.9) > 1e-9 || e.Sampled != 14 || !(e.Low < 0.9 && e.High > 0.9) {
		t.Fatalf("%+v", e)
	}
}

func TestHealth_ReasonsPerThreshold(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	st := Stats{WindowSec: 60, Latency: map[string]Summary{"search": {Count: 5, P99: 12}}, ErrorRate: 0.2,
		Memory: Memory{Total: 50, Limit: 100, Percent: 50}, Recall: &Estimate{Value: 0.5, Low: 0.4, High: 0.6, N: 100}}
	h, err := Thresholds{MaxLatencyMS: f(10), MaxMemoryPercent: f(40), MinRecall: f(0.9), MaxErrorRate: f(0.1)}.Check(st)
	if err != nil || h.Status != "degraded" || len(h.Reasons) != 4 {
		t.Fatalf("%+v %v", h, err)
	}
	h, _ = Thresholds{MaxLatencyMS: f(20), MaxMemoryPercent: f(60), MinRecall: f(0.55), MaxErrorRate: f(0.3)}.Check(st)
	if h.Status != "ok" || len(h.Reasons) != 0 {
		t.Fatalf("%+v", h)
	}
	if _, err := (Thresholds{MinRecall: f(-1)}).Check(st); err == nil {
		t.Fatal("a negative threshold must be refused")
	}
}

func TestPrometheus_EveryFamilyOnceWithHelpAndType(t *testing.T) {
	a := New(Config{}, `we"ird\name`, func() Gauges { return Gauges{Count: 7, Plans: map[string]uint64{"exact": 2}} })
	b := New(Config{}, "plain", func() Gauges { return Gauges{Count: 1} })
	a.Done(Search, a.Start(), errs.Closed)
	a.Recall().Add(9, 10)
	Register(a)
	Register(b)
	defer Unregister(a)
	defer Unregister(b)
	text := string(Prometheus())
	seen := map[string]bool{}
	current := ""
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "# HELP ") {
			name := strings.Fields(line)[2]
			if seen[name] {
				t.Fatalf("family %s twice", name)
			}
			seen[name], current = true, name
			continue
		}
		if strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		if !strings.HasPrefix(line, current) || !strings.HasPrefix(line, "oxvec_") {
			t.Fatalf("sample %q outside its family %s", line, current)
		}
	}
	for _, want := range []string{
		`oxvec_records{collection="we\"ird\\name"} 7`,
		`oxvec_records{collection="plain"} 1`,
		`oxvec_errors_total{collection="we\"ird\\name",class="closed"} 1`,
		`oxvec_recall_estimate{collection="we\"ird\\name"} 0.9`,
		`oxvec_plans_total{collection="we\"ird\\name",plan="exact"} 2`,
		`oxvec_operation_duration_seconds_count{collection="we\"ird\\name",op="search"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s in\n%s", want, text)
		}
	}
}
