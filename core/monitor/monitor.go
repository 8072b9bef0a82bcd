package monitor

import (
	"sync/atomic"
	"time"
)

// Op is a kind of operation a monitor times.
type Op int

// The operations: writes of every kind (add, upsert, update) count as Add.
const (
	Search Op = iota
	Add
	Delete
	nOps
)

// OpNames are the operations' names in statistics and metrics.
var OpNames = [nOps]string{"search", "add", "delete"}

// Config tunes a monitor; the zero value is the default.
type Config struct {
	// Disabled turns timing, error counts and recall sampling off (a
	// disabled monitor still reports sizes and memory).
	Disabled bool `json:"disabled"`
	// WindowSeconds is the span of the latency window (default 60).
	WindowSeconds float64 `json:"window_s"`
	// RecallPerSecond bounds the searches re-run exactly to estimate
	// recall (default 1; negative: never).
	RecallPerSecond float64 `json:"recall_per_s"`
	// RecallSamples is how many recent samples the estimate keeps
	// (default 1000).
	RecallSamples int `json:"recall_samples"`
}

// slotsPerWindow: a window moves in steps of a twelfth of its span.
const slotsPerWindow = 12

// Monitor is one collection's measurements. Its methods are safe for
// concurrent use; a nil *Monitor records nothing.
type Monitor struct {
	cfg     Config
	started time.Time
	ops     [nOps]*Window
	errors  errorCounts
	recall  *RecallWindow
	every   int64        // ns between recall samples; 0: never
	nextRun atomic.Int64 // unix ns before which no sample is taken

	// level 1 (results) cache counters, kept here for stats and metrics
	CacheHits, CacheMisses atomic.Uint64

	ext    external // levels reported from outside (levels.go)
	name   atomic.Pointer[string]
	source func() Gauges
}

// New makes a monitor; source reports the collection's sizes when asked.
func New(cfg Config, name string, source func() Gauges) *Monitor {
	if cfg.WindowSeconds <= 0 {
		cfg.WindowSeconds = 60
	}
	if cfg.RecallSamples <= 0 {
		cfg.RecallSamples = 1000
	}
	if cfg.RecallPerSecond == 0 {
		cfg.RecallPerSecond = 1
	}
	m := &Monitor{cfg: cfg, started: time.Now(), recall: NewRecallWindow(cfg.RecallSamples), source: source}
	slotLen := time.Duration(cfg.WindowSeconds / slotsPerWindow * float64(time.Second))
	for i := range m.ops {
		m.ops[i] = NewWindow(slotsPerWindow+1, slotLen, m.started)
	}
	if cfg.RecallPerSecond > 0 && !cfg.Disabled {
		m.every = max(int64(float64(time.Second)/cfg.RecallPerSecond), 1)
	}
	m.SetName(name)
	return m
}

// Enabled says whether the monitor times operations.
func (m *Monitor) Enabled() bool { return m != nil && !m.cfg.Disabled }

// Name is the collection's name in metrics.
func (m *Monitor) Name() string { return *m.name.Load() }

// SetName renames the collection (a tenant's store takes its
// collection's name).
func (m *Monitor) SetName(name string) { m.name.Store(&name) }

// Start is the time an operation begins (the zero time when disabled).
func (m *Monitor) Start() time.Time {
	if !m.Enabled() {
		return time.Time{}
	}
	return time.Now()
}

// Done records an operation begun at t0 (from Start) that returned err.
func (m *Monitor) Done(op Op, t0 time.Time, err error) {
	if t0.IsZero() || m == nil {
		return
	}
	end := time.Now()
	m.ops[op].Record(end, end.Sub(t0), err != nil)
	if err != nil {
		m.errors.add(err)
	}
}

// Failed counts an error of a call refused before the store ran it (a
// tenant's permission or rate limit): an error, with no latency.
func (m *Monitor) Failed(op Op, err error) {
	if !m.Enabled() || err == nil {
		return
	}
	m.ops[op].addTotals(0, true)
	m.errors.add(err)
}

// SampleRecall says whether a search ending at now should be re-run
// exactly: at most one per configured interval, and never when disabled.
func (m *Monitor) SampleRecall(now time.Time) bool {
	if m == nil || m.every == 0 {
		return false
	}
	t, next := now.UnixNano(), m.nextRun.Load()
	return t >= next && m.nextRun.CompareAndSwap(next, t+m.every)
}

// Recall is where exact re-runs report what they found.
func (m *Monitor) Recall() *RecallWindow { return m.recall }

// Gauges are the sizes a collection reports when asked.
type Gauges struct {
	Count        int
	IndexBytes   int64
	RecordsBytes int64
	CacheBytes   int64
	CacheEntries int
	CacheOn      bool
	Plans        map[string]uint64 // searches by plan (planner.go of core/store)
}
