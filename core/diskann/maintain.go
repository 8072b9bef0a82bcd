package diskann

import (
	"context"
	"encoding/json"
)

// Consolidate drops the removed disk nodes: it writes the next image
// (see plan) with their neighbours' lists repaired and every node
// renumbered, replaces the file atomically (a crash leaves the old one)
// and opens it. The delta stays in memory. Searches wait for it.
func (x *DiskANN) Consolidate(ctx context.Context) error {
	return x.rewrite(ctx, false)
}

// Merge is Consolidate that also writes the delta into the disk graph,
// which leaves the delta empty.
func (x *DiskANN) Merge(ctx context.Context) error {
	return x.rewrite(ctx, true)
}

// Compact implements index.Compacter: Merge.
func (x *DiskANN) Compact() error { return x.Merge(context.Background()) }

func (x *DiskANN) rewrite(ctx context.Context, mergeDelta bool) error {
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	if (x.img == nil || x.img.ndel == 0) && (!mergeDelta || x.delta.n() == 0) {
		return nil // nothing to write
	}
	c, src, err := x.plan(ctx, mergeDelta)
	if err != nil {
		return err
	}
	if err := x.install(ctx, c, src); err != nil {
		return err
	}
	if mergeDelta {
		x.delta = newDelta(x.Dim())
	}
	return nil
}

// Stats are the I/O figures of the searches since the last ResetStats,
// and what the index holds where.
type Stats struct {
	Queries       int64  `json:"queries"`
	BlocksRead    int64  `json:"blocks_read"`    // preads of a node block
	CacheHits     int64  `json:"cache_hits"`     // expansions served by the node cache
	NodesExpanded int64  `json:"nodes_expanded"` // records ranked exactly
	DiskNodes     int    `json:"disk_nodes"`     // nodes in the file, removed ones included
	Deleted       int    `json:"deleted"`        // removed, not yet consolidated
	DeltaNodes    int    `json:"delta_nodes"`    // live vectors added since the disk graph was written
	CachedNodes   int    `json:"cached_nodes"`
	BlockBytes    int    `json:"block_bytes"`
	NodesPerBlock int    `json:"nodes_per_block"`
	Path          string `json:"path"`
}

// Stats returns the counters and sizes.
func (x *DiskANN) Stats() Stats {
	x.RLock()
	defer x.RUnlock()
	s := Stats{Queries: x.stats.queries.Load(), BlocksRead: x.stats.blocks.Load(), CacheHits: x.stats.cacheHits.Load(),
		NodesExpanded: x.stats.expanded.Load(), DeltaNodes: x.delta.live(), Path: x.path}
	if m := x.img; m != nil {
		s.DiskNodes, s.Deleted, s.CachedNodes, s.BlockBytes, s.NodesPerBlock = m.n, m.ndel, len(m.cache), m.geo.blockSize, m.geo.perBlock
	}
	return s
}

// StatsJSON is Stats for the C ABI.
func (x *DiskANN) StatsJSON() ([]byte, error) { return json.Marshal(x.Stats()) }

// ResetStats zeroes the search counters.
func (x *DiskANN) ResetStats() {
	x.stats.queries.Store(0)
	x.stats.blocks.Store(0)
	x.stats.cacheHits.Store(0)
	x.stats.expanded.Store(0)
}
