package store

import (
	"path/filepath"
	"time"

	"github.com/oxvec/oxvec/core/monitor"
)

// Monitoring: every store owns a monitor (core/monitor) from Open to
// Close, registered for oxv_metrics_text under its name (Options.Name, or
// its directory's base name). Searches, writes and deletes are timed by
// thin wrappers around the calls that do the work, so that every way out
// of them - an error included - is counted once.

func (s *Store) startMonitor() {
	name := s.opts.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(s.dir))
	}
	s.mon = monitor.New(s.opts.Monitor, name, s.gauges)
	s.startRecall()
	monitor.Register(s.mon)
}

func (s *Store) stopMonitor() {
	monitor.Unregister(s.mon)
	s.stopRecall()
}

// Monitor is the store's monitor.
func (s *Store) Monitor() *monitor.Monitor { return s.mon }

// Stats reads the store's monitor (VectorStore.stats()).
func (s *Store) Stats() monitor.Stats { return s.mon.Stats() }

// SetName renames the store in statistics and metrics.
func (s *Store) SetName(name string) { s.mon.SetName(name) }

// gauges measures the store for its monitor, under the read lock. The
// records' bytes are estimated: vectors as allocated, strings by length,
// and a fixed cost per map entry.
func (s *Store) gauges() monitor.Gauges {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var g monitor.Gauges
	if s.tab == nil {
		return g
	}
	g.Count = s.tab.live()
	if s.idx != nil && !s.closed {
		g.IndexBytes = s.idx.Info().MemoryBytes
	}
	g.RecordsBytes = s.tab.memoryBytes()
	g.CacheOn, g.CacheBytes, g.CacheEntries = s.cache.usage()
	g.Plans = s.plans.snapshot()
	return g
}

// mapEntryBytes is about what one entry of a Go map of strings costs.
const mapEntryBytes = 48

func (t *table) memoryBytes() int64 {
	n := int64(cap(t.vecs))*4 + int64(cap(t.keys))*16 + int64(cap(t.docs))*16 + int64(cap(t.metas))*8 + int64(cap(t.hasDoc))
	for i, k := range t.keys {
		if k == "" {
			continue
		}
		n += int64(len(k))*2 + mapEntryBytes // the key and its byKey entry
		n += int64(len(t.docs[i]))
		for f, v := range t.metas[i] {
			n += int64(len(f)) + mapEntryBytes
			if sv, ok := v.(string); ok {
				n += int64(len(sv))
			}
		}
	}
	return n
}

// timed runs a call under the monitor.
func timed[T any](s *Store, op monitor.Op, call func() (T, error)) (T, error) {
	t0 := s.mon.Start()
	v, err := call()
	s.mon.Done(op, t0, err)
	return v, err
}

// monitorNow is the time recall sampling reads; a variable for tests.
var monitorNow = time.Now
