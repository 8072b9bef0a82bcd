package monitor

import (
	"sort"
	"sync"
)

// The registry lists the monitors of the open stores, for one rendering
// of them all (Prometheus scrapes one endpoint per process).
var registry struct {
	mu  sync.Mutex
	all map[*Monitor]struct{}
}

// Register lists m until Unregister.
func Register(m *Monitor) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.all == nil {
		registry.all = map[*Monitor]struct{}{}
	}
	registry.all[m] = struct{}{}
}

// Unregister drops m from the list (a closed store).
func Unregister(m *Monitor) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	delete(registry.all, m)
}

// Registered are the listed monitors, by name.
func Registered() []*Monitor {
	registry.mu.Lock()
	out := make([]*Monitor, 0, len(registry.all))
	for m := range registry.all {
		out = append(out, m)
	}
	registry.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}
