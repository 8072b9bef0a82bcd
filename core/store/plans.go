package store

import "sync/atomic"

// planCounts counts searches by the plan that ran them (planner.go).
type planCounts [nPlans]atomic.Uint64

func (p *planCounts) snapshot() map[string]uint64 {
	out := map[string]uint64{}
	for i := range p {
		if n := p[i].Load(); n > 0 {
			out[planNames[i]] = n
		}
	}
	return out
}
