package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// Index types that learn from data (ivf_flat, ivf_pq, pq, opq, sq, binary)
// cannot hold a vector before they are trained, and a store cannot log a
// change it could not apply. So a store of such a type has two phases, as
// Milvus and LanceDB users know them:
//
//   - exact: the records live in an exact (flat) index and every search is
//     exact, until the store holds train_after records (default: the
//     type's minimum number of training vectors);
//   - indexed: the write that reaches train_after trains the configured
//     index on every record the store holds, adds them to it and swaps it
//     in. Later records go straight into it.
//
// The switch happens inside apply, which live writes and WAL replay share,
// so a reopen reaches the same phase at the same change. A snapshot holds
// whichever index the store had; loading an exact one puts the store back
// in the exact phase. If training fails (it should not: the count is
// checked), the store stays exact, says why in Info, and tries again once it
// holds twice as many records.

// training is the state of the exact phase; the zero value means there is
// nothing (more) to train.
type training struct {
	spec  []byte // the configured index's spec
	after int    // train when this many records exist
	err   error  // the last failed attempt
}

// loadBase sets the index and the table the WAL replays onto: the
// snapshot's, or new empty ones.
func (s *Store) loadBase() error {
	spec, err := s.indexSpec()
	if err != nil {
		return err
	}
	if s.man.Snapshot != "" {
		if s.idx, s.tab, err = s.readSnapshot(s.man.Snapshot); err != nil {
			return err
		}
	} else {
		if s.idx, err = index.New(spec); err != nil {
			return err
		}
		s.tab = newTable(s.cfg.Dim)
	}
	return s.startTraining(spec)
}

// startTraining enters the exact phase when the configured type learns and
// the loaded index is not trained yet.
func (s *Store) startTraining(spec []byte) error {
	after, err := s.trainAfter(spec)
	if err != nil || after == 0 {
		return err
	}
	if tr, ok := s.idx.(index.Trainer); ok {
		if tr.Trained() {
			return nil // the snapshot holds the trained index
		}
		// a new store: its configured index cannot take vectors yet
		if err := s.idx.Close(); err != nil {
			return err
		}
		if s.idx, err = index.New(s.exactSpec()); err != nil {
			return err
		}
	}
	s.train = training{spec: spec, after: after}
	s.maybeTrain()
	return nil
}

// trainAfter is the record count at which a store of spec's type trains
// its index (0: the type does not learn), checked against the type's
// minimum.
func (s *Store) trainAfter(spec []byte) (int, error) {
	probe, err := index.New(spec)
	if err != nil {
		return 0, err
	}
	defer probe.Close()
	tr, ok := probe.(index.Trainer)
	switch {
	case !ok && s.cfg.TrainAfter > 0:
		return 0, fmt.Errorf("%w: train_after applies to index types that are trained (ivf_flat, ivf_pq, pq, opq, sq, binary), not to %s", errs.InvalidArgument, probe.Info().Type)
	case !ok:
		return 0, nil
	case s.cfg.TrainAfter < 0:
		return 0, fmt.Errorf("%w: train_after must be >= 0 (0: the type's minimum)", errs.InvalidArgument)
	case s.cfg.TrainAfter == 0:
		return tr.MinTrain(), nil
	case s.cfg.TrainAfter < tr.MinTrain():
		return 0, fmt.Errorf("%w: train_after=%d is below what %s needs to train (%d vectors); give at least %d", errs.InvalidArgument, s.cfg.TrainAfter, probe.Info().Type, tr.MinTrain(), tr.MinTrain())
	}
	return s.cfg.TrainAfter, nil
}

// exactSpec is the spec of the exact index of the first phase: same
// dimension, metric and metric parameters.
func (s *Store) exactSpec() []byte {
	spec := map[string]any{"type": "flat", "dim": s.cfg.Dim, "metric": s.cfg.Metric}
	if len(s.cfg.MetricParams) > 0 {
		spec["metric_params"] = s.cfg.MetricParams
	}
	b, _ := json.Marshal(spec)
	return b
}

// maybeTrain swaps in the trained index once the store holds enough
// records. The caller holds mu exclusively (or is replaying).
func (s *Store) maybeTrain() {
	t := &s.train
	if t.after == 0 || s.tab.live() < t.after {
		return
	}
	idx, err := s.trainedIndex()
	if err != nil {
		t.err = err
		t.after = 2 * s.tab.live()
		return
	}
	s.idx.Close()
	s.idx = idx
	s.train = training{}
}

// trainedIndex trains the configured index on every record and adds them.
// It is not cancellable: a replay must reach the same state.
func (s *Store) trainedIndex() (index.Index, error) {
	ids, vecs := s.tab.liveVectors()
	idx, err := index.New(s.train.spec)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err = idx.(index.Trainer).Train(ctx, vecs); err == nil {
		err = idx.Add(ctx, vecs, ids, nil)
	}
	if err != nil {
		idx.Close()
		return nil, err
	}
	return idx, nil
}

// phase names the store's phase for Info.
func (s *Store) phase() string {
	if s.train.after > 0 {
		return "exact"
	}
	return "indexed"
}
