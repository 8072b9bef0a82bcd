package monitor

import "time"

// Stats is everything a monitor reports at one moment (the JSON of
// VectorStore.stats()).
type Stats struct {
	Collection string             `json:"collection"`
	Count      int                `json:"count"`
	Monitoring bool               `json:"monitoring"`
	WindowSec  float64            `json:"window_s"`
	UptimeSec  float64            `json:"uptime_s"`
	Latency    map[string]Summary `json:"latency"`
	QPS        float64            `json:"qps"`        // searches per second over the window
	ErrorRate  float64            `json:"error_rate"` // failed / all operations in the window
	Errors     map[string]uint64  `json:"errors"`     // by class, since the store opened
	Memory     Memory             `json:"memory"`
	Cache      map[string]Level   `json:"cache"`
	Recall     *Estimate          `json:"recall_estimate"`
	Plans      map[string]uint64  `json:"plans,omitempty"`
}

// Memory is what the collection holds in memory, in bytes, and the share
// of the process' limit (Go's memory limit if set, else physical memory)
// it takes.
type Memory struct {
	Index   int64   `json:"index_bytes"`
	Records int64   `json:"records_bytes"`
	Cache   int64   `json:"cache_bytes"`
	Total   int64   `json:"total_bytes"`
	Limit   int64   `json:"limit_bytes"`
	Percent float64 `json:"percent"`
}

// Level is one cache level's counts.
type Level struct {
	Enabled bool   `json:"enabled"`
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	Entries int    `json:"entries"`
}

// Stats reads the monitor and its collection's sizes now.
func (m *Monitor) Stats() Stats {
	now := time.Now()
	g := m.source()
	st := Stats{Collection: m.Name(), Count: g.Count, Monitoring: m.Enabled(), WindowSec: m.cfg.WindowSeconds,
		UptimeSec: now.Sub(m.started).Seconds(), Latency: map[string]Summary{}, Errors: m.errors.snapshot(),
		Plans: g.Plans}
	var n, failed uint64
	for op, w := range m.ops {
		s := w.Summarize(now)
		st.Latency[OpNames[op]] = s
		n += s.Count
		failed += s.Errors
	}
	st.QPS = st.Latency["search"].PerSec
	if n > 0 {
		st.ErrorRate = float64(failed) / float64(n)
	}
	st.Cache = map[string]Level{"results": {Enabled: g.CacheOn, Hits: m.CacheHits.Load(), Misses: m.CacheMisses.Load(), Entries: g.CacheEntries}}
	cacheBytes := g.CacheBytes + m.externalLevels(st.Cache)
	st.Memory = Memory{Index: g.IndexBytes, Records: g.RecordsBytes, Cache: cacheBytes}
	st.Memory.Total = g.IndexBytes + g.RecordsBytes + cacheBytes
	st.Memory.Limit = MemoryLimit()
	if st.Memory.Limit > 0 {
		st.Memory.Percent = 100 * float64(st.Memory.Total) / float64(st.Memory.Limit)
	}
	st.Recall = m.recall.Estimate()
	return st
}
