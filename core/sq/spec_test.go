package sq

import (
	"errors"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

func TestSpec_NBitsAndItsOldNameBits(t *testing.T) {
	for _, c := range []struct {
		spec string
		bits int // 0: an error
	}{
		{`{"type":"sq","dim":4}`, 8},
		{`{"type":"sq","dim":4,"nbits":4}`, 4},
		{`{"type":"sq","dim":4,"bits":4}`, 4},
		{`{"type":"sq","dim":4,"nbits":4,"bits":4}`, 4},
		{`{"type":"sq","dim":4,"nbits":4,"bits":8}`, 0},
		{`{"type":"sq","dim":4,"nbits":0}`, 0},
	} {
		idx, err := index.New([]byte(c.spec))
		if c.bits == 0 {
			if !errors.Is(err, errs.InvalidArgument) {
				t.Errorf("%s: %v, want an invalid argument", c.spec, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if got := idx.(*SQ).bits; got != c.bits {
			t.Errorf("%s: %d bits, want %d", c.spec, got, c.bits)
		}
	}
}
