package index_test

import (
	"errors"
	"math"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	_ "github.com/oxvec/oxvec/core/indexes"
)

func TestRequest_CheckRefusesWhatNoFrontEndMayPass(t *testing.T) {
	flat, err := index.New([]byte(`{"type":"flat","dim":4}`))
	if err != nil {
		t.Fatal(err)
	}
	defer flat.Close()
	ok := index.Request{NQ: 2, Dim: 4, K: 3}
	if err := ok.Check(flat); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		r    index.Request
		want error
	}{
		{index.Request{NQ: 2, Dim: 5, K: 3}, errs.Dimension},
		{index.Request{NQ: -1, Dim: 4, K: 3}, errs.InvalidArgument},
		{index.Request{NQ: 2, Dim: 4, K: 0}, errs.InvalidArgument},
		{index.Request{NQ: 2, Dim: 4, K: 3, Ef: -1}, errs.InvalidArgument},
		{index.Request{NQ: 2, Dim: 4, K: 3, NProbe: 8}, errs.InvalidArgument},    // flat has no cells
		{index.Request{NQ: 2, Dim: 4, K: 3, BeamWidth: 4}, errs.InvalidArgument}, // nor a disk graph
		{index.Request{NQ: 2, Dim: 4, K: 3, BeamWidth: -1}, errs.InvalidArgument},
		{index.Request{NQ: 2, Dim: 4, K: 3, BeamWidth: index.MaxBeamWidth + 1}, errs.InvalidArgument},
		{index.Request{NQ: 3, Dim: 4, K: math.MaxInt64 / 2}, errs.InvalidArgument},
		{index.Request{NQ: 2, Dim: 4, K: 3, HasIDs: true, HasMask: true}, errs.InvalidArgument},
		{index.Request{NQ: 2, Dim: 4, K: 3, HasIDs: true, AllowIDs: -1}, errs.InvalidArgument},
	} {
		if err := tc.r.Check(flat); !errors.Is(err, tc.want) {
			t.Errorf("case %d %+v: %v, want %v", i, tc.r, err, tc.want)
		}
	}
}
