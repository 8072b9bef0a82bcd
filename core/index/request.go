package index

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
)

// Request is what every front end checks the same way before it views a
// search's buffers: the shape, k, the knobs and the form of the filter. The
// C ABI fills it from oxv_search_request; a server would from its JSON.
type Request struct {
	NQ, Dim, K int64
	Ef, NProbe int64
	BeamWidth  int64 // 0: the index's; else 1..64, for indexes with the knob
	// AllowIDs, AllowMask: the filter's lengths, when given as ids or as a
	// mask (HasIDs, HasMask say which is present; an empty list is allowed).
	HasIDs, HasMask     bool
	AllowIDs, AllowMask int64
}

// Check validates r for idx; the knobs against those idx honours.
func (r Request) Check(idx Index) error {
	if err := CheckShape(idx, r.NQ, r.Dim, "queries", "query"); err != nil {
		return err
	}
	if err := CheckK(int(r.K)); err != nil {
		return err
	}
	if r.Ef < 0 || r.NProbe < 0 {
		return fmt.Errorf("%w: ef and nprobe must be >= 0 (0 = the index default), got %d and %d", errs.InvalidArgument, r.Ef, r.NProbe)
	}
	if r.BeamWidth < 0 || r.BeamWidth > MaxBeamWidth {
		return fmt.Errorf("%w: beam_width must be between 1 and %d (0 = the index default), got %d", errs.InvalidArgument, MaxBeamWidth, r.BeamWidth)
	}
	if r.NQ > 0 && r.K > math.MaxInt64/r.NQ {
		return fmt.Errorf("%w: nq*k overflows", errs.InvalidArgument)
	}
	if r.HasIDs && r.HasMask {
		return fmt.Errorf("%w: give allow_ids or allow_mask, not both", errs.InvalidArgument)
	}
	if r.AllowIDs < 0 || r.AllowMask < 0 {
		return fmt.Errorf("%w: filter lengths must be >= 0, got %d and %d", errs.InvalidArgument, r.AllowIDs, r.AllowMask)
	}
	return CheckKnobs(idx, &SearchParams{Ef: int(r.Ef), NProbe: int(r.NProbe), BeamWidth: int(r.BeamWidth)})
}

// CheckShape validates a batch of n rows of d values for idx: d must be
// the index's dimension and n not negative. what names the rows ("queries"),
// one the count's unit ("query").
func CheckShape(idx Index, n, d int64, what, one string) error {
	if d != int64(idx.Dim()) {
		return fmt.Errorf("%w: %s have %d columns, the index has dim %d", errs.Dimension, what, d, idx.Dim())
	}
	if n < 0 {
		return fmt.Errorf("%w: %s count %d is negative", errs.InvalidArgument, one, n)
	}
	return nil
}
