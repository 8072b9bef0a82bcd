package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// Adopt creates a store in dir around an index built elsewhere (a migrated
// faiss or hnswlib file), keeping its structure: the index is what the
// store's first snapshot saves and what every open loads, never rebuilt.
//
// A store's index knows records by their slot in the table (records.go),
// so the index's ids must be slots: slots lists them (one per vector idx
// holds, each once; a gap is a free slot), and b gives the record of each
// slot: b.Keys[i], b.Docs[i], b.Metas[i] belong to slots[i]. b.Vectors must
// be nil: the table takes the vectors from the index (index.Reconstructor),
// as stored - the metric's prepared form, or the decoded codes of a
// quantizing type. spec is the index spec without dim and metric (e.g.
// {"type":"hnsw","m":16}); it must name idx's type, and it is what the
// store reports and checks on later opens.
//
// The snapshot is written and made durable before Adopt returns, so no WAL
// replay of a large add stands behind the store. Adopt owns idx from the
// call on. dir must not hold a store; on failure Adopt removes what it made
// there. The store returned is open (opened again from that snapshot).
func Adopt(dir string, opts Options, idx index.Index, spec json.RawMessage, slots []int64, b Batch) (st *Store, err error) {
	owned := true
	defer func() {
		if owned {
			idx.Close()
		}
	}()
	if opts.ReadOnly || opts.Until != nil {
		return nil, fmt.Errorf("%w: a store is adopted for writing (no read_only, no until)", errs.InvalidArgument)
	}
	dim := idx.Dim()
	vecs, err := adoptedVectors(idx, slots, b)
	if err != nil {
		return nil, err
	}
	if b.Metas != nil {
		metas := make([]Meta, len(b.Metas))
		for i, m := range b.Metas {
			if metas[i], err = normalize(m, fmt.Sprintf("metadatas[%d]", i)); err != nil {
				return nil, err
			}
		}
		b.Metas = metas
	}
	cfg := Config{Dim: dim, Metric: idx.Metric().String(), Index: spec}
	var typ struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(spec, &typ); err != nil || typ.Type != idx.Info().Type {
		return nil, fmt.Errorf("%w: spec %s does not name the index's type %s", errs.InvalidArgument, spec, idx.Info().Type)
	}
	made, err := freshDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			made.undo()
		}
	}()
	opts.Create = &cfg
	s, err := Open(dir, opts)
	if err != nil {
		return nil, err
	}
	if err = s.adopt(idx, slots, vecs, b); err != nil {
		s.mu.RLock()
		owned = s.idx != idx // swapped in before the snapshot failed: Close closes it
		s.mu.RUnlock()
		s.Close()
		return nil, err
	}
	owned = false // the store closes it now
	if err = s.Close(); err != nil {
		return nil, err
	}
	return Open(dir, opts)
}

// adoptedVectors checks slots and the batch against idx and returns the
// vectors of the slots, by the slots' order.
func adoptedVectors(idx index.Index, slots []int64, b Batch) ([]float32, error) {
	n, dim := idx.Len(), idx.Dim()
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errs.InvalidArgument}, a...)...)
	}
	switch {
	case len(slots) != n:
		return nil, bad("%d slots for an index of %d vectors", len(slots), n)
	case len(b.Keys) != n:
		return nil, bad("%d ids for an index of %d vectors; give one per vector", len(b.Keys), n)
	case b.Docs != nil && len(b.Docs) != n:
		return nil, bad("%d documents for an index of %d vectors; give one per vector", len(b.Docs), n)
	case b.Metas != nil && len(b.Metas) != n:
		return nil, bad("%d metadatas for an index of %d vectors; give one per vector", len(b.Metas), n)
	case b.Vectors != nil:
		return nil, bad("the vectors come from the index; give none")
	}
	seenKey := make(map[string]struct{}, n)
	for i, k := range b.Keys {
		if k == "" {
			return nil, bad("ids[%d] is empty; ids must be non-empty strings", i)
		}
		if _, dup := seenKey[k]; dup {
			return nil, fmt.Errorf("%w: id %q appears twice", errs.DuplicateID, k)
		}
		seenKey[k] = struct{}{}
	}
	top := int64(-1)
	seen := make(map[int64]struct{}, n)
	for _, id := range slots {
		if _, dup := seen[id]; dup || id < 0 || id >= 1<<32 {
			return nil, bad("slot %d is negative, too large or given twice", id)
		}
		seen[id] = struct{}{}
		top = max(top, id)
	}
	// the table holds a row per slot up to the largest
	if err := index.CheckMemory((top + 1 + int64(n)) * int64(dim) * 4); err != nil {
		return nil, err
	}
	rec, ok := idx.(index.Reconstructor)
	if !ok {
		return nil, fmt.Errorf("%w: a %s index cannot give its vectors back, which a store keeps", errs.Unsupported, idx.Info().Type)
	}
	vecs := make([]float32, n*dim)
	if err := rec.Vectors(slots, vecs); err != nil {
		if errors.Is(err, errs.NotFound) {
			return nil, bad("the slots are not the index's ids: %v", err)
		}
		return nil, err
	}
	return vecs, nil
}

// adopt puts idx and the records in place of the new store's empty index
// and table, and writes the first snapshot.
func (s *Store) adopt(idx index.Index, slots []int64, vecs []float32, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	t := newTable(s.cfg.Dim)
	for _, id := range slots {
		for int64(len(t.keys)) <= id {
			t.alloc()
		}
	}
	for i, id := range slots {
		t.set(id, b.Keys[i], vecs[i*s.cfg.Dim:(i+1)*s.cfg.Dim], docAt(b.Docs, i), metaAt(b.Metas, i), false)
	}
	// unused slots are free, the lowest reused first (alloc takes the last)
	for id := len(t.keys) - 1; id >= 0; id-- {
		if t.keys[id] == "" {
			t.free = append(t.free, int64(id))
		}
	}
	if s.idx != nil {
		s.idx.Close()
	}
	s.idx, s.tab, s.train = idx, t, training{}
	// the snapshot must differ from "none yet": snapshotLocked skips only
	// when the manifest names one at this seq
	return s.snapshotLocked()
}

// createdDir is what Adopt made in a directory, to remove on failure.
type createdDir struct {
	dir   string
	whole bool            // the directory itself
	had   map[string]bool // the entries it held before
}

// freshDir makes dir if needed and refuses one that holds a store.
func freshDir(dir string) (createdDir, error) {
	c := createdDir{dir: dir, had: map[string]bool{}}
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return c, fmt.Errorf("%w: %v", errs.IO, err)
		}
		c.whole = true
		return c, nil
	case err != nil:
		return c, fmt.Errorf("%w: %v", errs.IO, err)
	}
	for _, e := range ents {
		c.had[e.Name()] = true
	}
	if c.had[manifestName] || storeFiles(dir) != "" {
		return c, fmt.Errorf("%w: %s holds a store already; adopt an index into a new directory", errs.InvalidArgument, dir)
	}
	return c, nil
}

func (c createdDir) undo() {
	if c.whole {
		os.RemoveAll(c.dir)
		return
	}
	ents, _ := os.ReadDir(c.dir)
	for _, e := range ents {
		if !c.had[e.Name()] {
			os.RemoveAll(filepath.Join(c.dir, e.Name()))
		}
	}
}

// DecodeAdoptRecords reads the records of an Adopt call:
// {"ids": [...], "documents": [...], "metadatas": [...]}, each part
// optional (Keys stays nil without ids: the caller's defaults apply).
func DecodeAdoptRecords(b []byte) (Batch, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Batch{}, nil
	}
	var r struct {
		IDs   []string         `json:"ids"`
		Docs  []*string        `json:"documents"`
		Metas []map[string]any `json:"metadatas"`
	}
	if err := decodeStrict(b, &r, "records"); err != nil {
		return Batch{}, err
	}
	bt := Batch{Keys: r.IDs, Docs: r.Docs}
	if r.Metas != nil {
		bt.Metas = make([]Meta, len(r.Metas))
		for i, m := range r.Metas {
			bt.Metas[i] = m // normalized by Adopt
		}
	}
	return bt, nil
}

// CreateWith creates a store in dir (opts.Create says how) holding the
// records of b, added as one batch, and writes its first snapshot before
// it returns: the way in for a file whose structure is not kept (Annoy's
// forest), whose vectors the configured index indexes anew. dir must not
// hold a store; on failure Adopt's cleanup applies.
func CreateWith(dir string, opts Options, b Batch) (st *Store, err error) {
	if opts.Create == nil || opts.ReadOnly || opts.Until != nil {
		return nil, fmt.Errorf("%w: CreateWith needs create options and a writable store", errs.InvalidArgument)
	}
	made, err := freshDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			made.undo()
		}
	}()
	s, err := Open(dir, opts)
	if err != nil {
		return nil, err
	}
	if err = s.Add(context.Background(), b); err == nil {
		err = s.Snapshot()
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
