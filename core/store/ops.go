package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/progress"
)

// Batch is the input of a write: one key per record; Vectors (len(Keys)*dim
// values, read during the call only), Docs and Metas are optional (nil: not
// given; a nil element: no document / no metadata for that record).
type Batch struct {
	Keys    []string
	Vectors []float32
	Docs    []*string
	Metas   []Meta
}

// Add inserts new records; a key that exists is an error (nothing is added).
func (s *Store) Add(ctx context.Context, b Batch) error { return s.write(ctx, opAdd, b) }

// Upsert inserts new records and replaces existing ones entirely.
func (s *Store) Upsert(ctx context.Context, b Batch) error { return s.write(ctx, opUpsert, b) }

// Update changes existing records: given vectors, documents and metadata
// replace the old ones, absent ones stay. Every key must exist.
func (s *Store) Update(ctx context.Context, b Batch) error { return s.write(ctx, opUpdate, b) }

// Delete removes records by key (unknown keys are ignored) and, when where
// or whereDoc is given, every record they match; it returns how many went.
func (s *Store) Delete(ctx context.Context, keys []string, where, whereDoc any) (int, error) {
	t0 := s.mon.Start()
	n, err := s.delete(ctx, keys, where, whereDoc)
	s.mon.Done(monitor.Delete, t0, err)
	return n, err
}

func (s *Store) delete(ctx context.Context, keys []string, where, whereDoc any) (int, error) {
	s.mu.Lock()
	unlocked := false
	defer func() {
		if !unlocked {
			s.mu.Unlock()
		}
	}()
	if err := s.writable(); err != nil {
		return 0, err
	}
	var doomed []string
	seen := map[string]bool{}
	for _, k := range keys {
		if _, ok := s.tab.byKey[k]; ok && !seen[k] {
			seen[k] = true
			doomed = append(doomed, k)
		}
	}
	if where != nil || whereDoc != nil {
		ids, err := s.matchingLocked(where, whereDoc)
		if err != nil {
			return 0, err
		}
		for _, id := range ids {
			if k := s.tab.keys[id]; !seen[k] {
				seen[k] = true
				doomed = append(doomed, k)
			}
		}
	}
	if len(doomed) == 0 {
		return 0, nil
	}
	seq, err := s.logAndApply(ctx, &change{op: opDelete, keys: doomed})
	s.mu.Unlock()
	unlocked = true
	if err != nil {
		return 0, err
	}
	return len(doomed), s.durable(seq)
}

func (s *Store) write(ctx context.Context, op opKind, b Batch) error {
	t0 := s.mon.Start()
	err := s.writeBatch(ctx, op, b)
	s.mon.Done(monitor.Add, t0, err)
	return err
}

func (s *Store) writeBatch(ctx context.Context, op opKind, b Batch) error {
	c, err := s.validate(op, b)
	if err != nil {
		return err
	}
	if len(c.keys) == 0 {
		return nil
	}
	seq, err := s.checkLogApply(ctx, op, c)
	if err != nil {
		return err
	}
	return s.durable(seq)
}

// checkLogApply checks a change against the current records, logs it and
// applies it, under the write lock.
func (s *Store) checkLogApply(ctx context.Context, op opKind, c *change) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return 0, err
	}
	for _, k := range c.keys {
		_, exists := s.tab.byKey[k]
		if op == opAdd && exists {
			return 0, fmt.Errorf("%w: id %q already exists; use upsert to replace it", errs.DuplicateID, k)
		}
		if op == opUpdate && !exists {
			return 0, fmt.Errorf("%w: id %q does not exist; use upsert to create it", errs.NotFound, k)
		}
	}
	return s.logAndApply(ctx, c)
}

// validate checks a batch completely before anything is logged, so that
// applying a logged change cannot fail.
func (s *Store) validate(op opKind, b Batch) (*change, error) {
	n, d := len(b.Keys), s.cfg.Dim
	bad := func(format string, a ...any) (*change, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{errs.InvalidArgument}, a...)...)
	}
	seen := make(map[string]bool, n)
	for i, k := range b.Keys {
		if k == "" {
			return bad("ids[%d] is empty; ids must be non-empty strings", i)
		}
		if seen[k] {
			return nil, fmt.Errorf("%w: id %q appears twice in the batch", errs.DuplicateID, k)
		}
		seen[k] = true
	}
	if b.Vectors == nil && op != opUpdate {
		return bad("vectors are required (or give documents to a store with an embedder)")
	}
	if b.Vectors != nil {
		if len(b.Vectors) != n*d {
			return nil, fmt.Errorf("%w: %d values for %d vectors of dim %d", errs.Dimension, len(b.Vectors), n, d)
		}
		if err := index.CheckFinite(b.Vectors, d, "vectors"); err != nil {
			return nil, err
		}
		if _, err := s.m.PrepareCopy(b.Vectors, "vectors"); err != nil { // the metric's domain
			return nil, err
		}
	}
	if b.Docs != nil && len(b.Docs) != n {
		return bad("%d documents for %d ids", len(b.Docs), n)
	}
	if b.Metas != nil && len(b.Metas) != n {
		return bad("%d metadatas for %d ids", len(b.Metas), n)
	}
	var vecs []float32
	if b.Vectors != nil {
		vecs = append([]float32(nil), b.Vectors...) // the caller's buffer is not kept
	}
	return &change{op: op, keys: append([]string(nil), b.Keys...), vecs: vecs, docs: b.Docs, metas: b.Metas}, nil
}

// logAndApply appends a validated change to the WAL and applies it. The
// caller holds mu exclusively; it then releases mu and waits in durable, so
// that writers arriving meanwhile share the fsync (group commit). Readers
// may see the change before it is durable.
func (s *Store) logAndApply(ctx context.Context, c *change) (uint64, error) {
	c.time = time.Now().UnixNano()
	payload := c.encode(s.cfg.Dim)
	seq, err := s.wal.append(payload)
	if err != nil {
		if errors.Is(err, errs.IO) {
			s.failed = err // the log may end in part of a record
		}
		return 0, err
	}
	crashPoint("commit:appended")
	if err := s.apply(ctx, c); err != nil {
		// validation makes this unreachable; if it happens the log and the
		// memory disagree, and only a reopen (replay) can tell which is right
		s.failed = fmt.Errorf("%w: applying logged change %d failed (%v)", errs.Internal, seq, err)
		return 0, fmt.Errorf("%w; the store takes no more writes: close and reopen it", s.failed)
	}
	s.lastSeq, s.lastTime = seq, c.time
	s.walSize += int64(walHeader + len(payload))
	return seq, nil
}

// durable waits until change seq is as durable as the mode promises, then
// takes a snapshot if the WAL has grown enough. Called without mu.
func (s *Store) durable(seq uint64) error {
	if err := s.wal.commit(seq); err != nil {
		// the change is applied in memory but may not be on disk: the
		// store cannot tell what a reopen will find, so it stops here
		s.mu.Lock()
		s.failed = err
		s.mu.Unlock()
		return fmt.Errorf("%w; the store takes no more writes: close and reopen it to see what is durable", err)
	}
	crashPoint("commit:durable")
	if s.opts.SnapshotEvery <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.walSize < s.opts.SnapshotEvery {
		return nil
	}
	return s.snapshotLocked()
}

// apply changes the index and the table, then trains the index when the
// change completes its exact phase (training.go); used live and by replay.
func (s *Store) apply(ctx context.Context, c *change) error {
	if err := s.applyChange(ctx, c); err != nil {
		return err
	}
	s.maybeTrain()
	return nil
}

func (s *Store) applyChange(ctx context.Context, c *change) error {
	d := s.cfg.Dim
	switch c.op {
	case opDelete:
		ids := make([]int64, 0, len(c.keys))
		for _, k := range c.keys {
			if id, ok := s.tab.byKey[k]; ok {
				ids = append(ids, id)
			}
		}
		if _, err := s.idx.Remove(ctx, ids); err != nil {
			return err
		}
		for _, id := range ids {
			s.tab.drop(id)
		}
		return nil
	case opUpdate:
		var stale []int64
		var ids []int64
		for i, k := range c.keys {
			id, ok := s.tab.byKey[k]
			if !ok {
				return fmt.Errorf("%w: id %q does not exist", errs.NotFound, k)
			}
			var vec []float32
			if c.vecs != nil {
				vec = c.vecs[i*d : (i+1)*d]
				stale = append(stale, id)
			}
			s.tab.set(id, k, vec, docAt(c.docs, i), metaAt(c.metas, i), true)
			ids = append(ids, id)
		}
		if c.vecs == nil {
			return nil
		}
		if _, err := s.idx.Remove(ctx, stale); err != nil {
			return err
		}
		return s.idx.Add(progress.Only(ctx), c.vecs, ids, nil)
	}
	// add and upsert
	var stale []int64
	ids := make([]int64, len(c.keys))
	for i, k := range c.keys {
		id, exists := s.tab.byKey[k]
		if exists {
			stale = append(stale, id)
		} else {
			id = s.tab.alloc()
		}
		var doc *string
		if c.docs != nil {
			doc = c.docs[i]
		}
		var meta Meta
		if c.metas != nil {
			meta = c.metas[i]
		}
		s.tab.set(id, k, c.vecs[i*d:(i+1)*d], doc, meta, false)
		ids[i] = id
	}
	if len(stale) > 0 {
		if _, err := s.idx.Remove(ctx, stale); err != nil {
			return err
		}
	}
	// an interrupted add would leave table and index apart: finish it
	return s.idx.Add(progress.Only(ctx), c.vecs, ids, nil)
}

func docAt(docs []*string, i int) *string {
	if docs == nil {
		return nil
	}
	return docs[i]
}

func metaAt(metas []Meta, i int) Meta {
	if metas == nil {
		return nil
	}
	return metas[i]
}

// matchingLocked lists the ids (ascending) whose metadata and document
// match; the caller holds mu.
func (s *Store) matchingLocked(where, whereDoc any) ([]int64, error) {
	p, dp, err := parseFilters(where, whereDoc)
	if err != nil {
		return nil, err
	}
	return s.matchingPreds(p, dp), nil
}

func parseFilters(where, whereDoc any) (pred, docPred, error) {
	p, err := parseWhere(where)
	if err != nil {
		return nil, nil, err
	}
	dp, err := parseWhereDocument(whereDoc)
	if err != nil {
		return nil, nil, err
	}
	return p, dp, nil
}

// admits says whether the live record id passes p and dp.
func (s *Store) admits(id int64, p pred, dp docPred) bool {
	if s.tab.keys[id] == "" {
		return false
	}
	if p != nil && !p.match(s.tab.metas[id]) {
		return false
	}
	return dp == nil || dp.matchDoc(s.tab.docs[id], s.tab.hasDoc[id])
}

// matchingPreds lists the ids (ascending) that pass p and dp (both nil:
// every live record).
func (s *Store) matchingPreds(p pred, dp docPred) []int64 {
	out := []int64{}
	if cands, ok := s.tab.eq.candidates(p); ok {
		for id := range cands {
			if s.admits(id, p, dp) {
				out = append(out, id)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	for id := range s.tab.keys {
		if s.admits(int64(id), p, dp) {
			out = append(out, int64(id))
		}
	}
	return out
}

// Count is the number of records.
func (s *Store) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tab.live()
}
