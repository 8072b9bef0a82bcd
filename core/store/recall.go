package store

import (
	"context"
	"math"

	"github.com/oxvec/oxvec/core/parallel"
)

// The online recall estimate. A vector search that the monitor picks (at
// most a few per second, monitor.Config.RecallPerSecond) hands a copy of
// its first query, its filter and the ids the index returned to a
// background goroutine, off the search's path: the search only copies a
// query and k ids and offers them to a buffered channel without waiting
// (a full queue drops the sample). The goroutine re-runs the query exactly
// under the read lock and records how many of the true k nearest the
// index returned. A sample is dropped when the store changed in between,
// since the exact answer would then be of another collection.

// recallQueue bounds the samples waiting for their exact re-run.
const recallQueue = 1024

type recallSample struct {
	q               []float32
	where, whereDoc any
	got             []int64
	k               int
	seq             uint64
	done            chan struct{} // a flush marker: closed when reached
}

func (s *Store) startRecall() {
	s.samples = make(chan recallSample, recallQueue)
	s.quit = make(chan struct{})
	samples, quit := s.samples, s.quit
	parallel.Go(func() {
		for {
			select {
			case <-quit:
				return
			case smp := <-samples:
				if smp.done != nil {
					close(smp.done)
					continue
				}
				s.rerun(smp)
			}
		}
	}, func(error) {}) // a panic loses the sampler, never the process
}

// stopRecall ends the sampler; the caller holds mu exclusively.
func (s *Store) stopRecall() {
	if s.quit != nil {
		close(s.quit)
		s.quit = nil
	}
}

// offerSample queues a sample unless the queue is full; the caller holds
// mu (shared), so quit is not closed meanwhile.
func (s *Store) offerSample(smp recallSample) {
	select {
	case s.samples <- smp:
	default:
	}
}

// FlushRecall waits until every sample queued before the call has been
// re-run (tests, and stats(flush=True)).
func (s *Store) FlushRecall() {
	s.mu.RLock()
	if s.closed || s.quit == nil {
		s.mu.RUnlock()
		return
	}
	samples, quit := s.samples, s.quit
	s.mu.RUnlock()
	done := make(chan struct{})
	select {
	case samples <- recallSample{done: done}:
	case <-quit:
		return
	}
	select {
	case <-done:
	case <-quit:
	}
}

// rerun compares one sample with the exact answer.
func (s *Store) rerun(smp recallSample) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed || s.lastSeq != smp.seq {
		return
	}
	var ids []int64
	if smp.where != nil || smp.whereDoc != nil {
		var err error
		if ids, err = s.matchingLocked(smp.where, smp.whereDoc); err != nil {
			return
		}
	} else {
		ids = make([]int64, 0, s.tab.live())
		for id, k := range s.tab.keys {
			if k != "" {
				ids = append(ids, int64(id))
			}
		}
	}
	want := min(smp.k, len(ids))
	if want == 0 {
		return
	}
	outIDs, outDist := make([]int64, want), make([]float32, want)
	if s.exactTop(context.Background(), smp.q, ids, outIDs, outDist) != nil {
		return
	}
	// a returned record counts when it is as close as the k-th true
	// neighbour (ties at the k-th distance are all right answers)
	kth := float64(outDist[want-1])
	tol := 1e-5*math.Abs(kth) + 1e-6
	pq, err := s.m.PrepareCopy(smp.q, "queries")
	if err != nil {
		return
	}
	scratch := make([]float32, s.cfg.Dim)
	found := 0
	for _, id := range smp.got {
		if id < 0 || id >= int64(len(s.tab.keys)) || s.tab.keys[id] == "" {
			continue
		}
		v := s.tab.vec(id)
		if s.m.NeedsPrepare() {
			if s.m.Prepare(scratch, v, "vectors", 0) != nil {
				return
			}
			v = scratch
		}
		if s.m.Pair(pq, v) <= kth+tol {
			found++
		}
	}
	s.mon.Recall().Add(min(found, want), want)
}

// sampleOf copies what a re-run needs of the first query of a search.
func (s *Store) sampleOf(req SearchRequest, got []int64, k int) recallSample {
	d := s.cfg.Dim
	ids := make([]int64, 0, len(got))
	for _, id := range got {
		if id >= 0 {
			ids = append(ids, id)
		}
	}
	return recallSample{q: append([]float32(nil), req.Vectors[:d]...), where: req.Where, whereDoc: req.WhereDoc,
		got: ids, k: k, seq: s.lastSeq}
}
