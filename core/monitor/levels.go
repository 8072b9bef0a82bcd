package monitor

import (
	"sort"
	"sync"
)

// Cache levels kept outside the engine (the Python package's cache of
// query embeddings) report their counts here, so that stats and metrics
// show every level in one place.
type external struct {
	mu     sync.Mutex
	levels map[string]ExternalLevel
}

// ExternalLevel is what a cache level outside the engine reports: its
// counts since it was made and what it holds now.
type ExternalLevel struct {
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

// ReportLevel sets the latest counts of the level named name.
func (m *Monitor) ReportLevel(name string, l ExternalLevel) {
	m.ext.mu.Lock()
	defer m.ext.mu.Unlock()
	if m.ext.levels == nil {
		m.ext.levels = map[string]ExternalLevel{}
	}
	m.ext.levels[name] = l
}

// externalLevels adds the reported levels to a stats' cache map and
// returns the bytes they hold.
func (m *Monitor) externalLevels(into map[string]Level) int64 {
	m.ext.mu.Lock()
	defer m.ext.mu.Unlock()
	names := make([]string, 0, len(m.ext.levels))
	for n := range m.ext.levels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b int64
	for _, n := range names {
		l := m.ext.levels[n]
		into[n] = Level{Enabled: true, Hits: l.Hits, Misses: l.Misses, Entries: l.Entries}
		b += l.Bytes
	}
	return b
}
