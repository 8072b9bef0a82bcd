package index

import (
	"fmt"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// Reconstructor is implemented by index types that can give back the
// vectors they hold by id (faiss's reconstruct).
type Reconstructor interface {
	// Vectors writes the vector of ids[i] into out[i*Dim():(i+1)*Dim()].
	// Exact types write the vector as stored, which is the metric's
	// prepared form (unit length for cosine, ...); quantizing types write
	// the decoded reconstruction, or return errs.Unsupported when they keep
	// nothing to decode. An id that is not present is errs.NotFound naming
	// it, and out is then left unspecified. out may be nil: then only the
	// presence of every id is checked.
	Vectors(ids []int64, out []float32) error
}

// CheckVectors validates a Vectors call: out is nil or holds
// len(ids)*dim values.
func CheckVectors(ids []int64, out []float32, dim int) error {
	if out != nil && len(out) != len(ids)*dim {
		return fmt.Errorf("%w: output holds %d values, %d ids of dim %d need %d", errs.InvalidArgument, len(out), len(ids), dim, len(ids)*dim)
	}
	return nil
}

// Locate finds the position of every id with find and writes it to at
// (len(ids) values); ids find does not know are errs.NotFound, the first
// few named.
func Locate[P any](ids []int64, at []P, find func(id int64) (P, bool)) error {
	var missing []int64
	n := 0
	for i, id := range ids {
		p, ok := find(id)
		if !ok {
			n++
			if len(missing) < 8 {
				missing = append(missing, id)
			}
			continue
		}
		at[i] = p
	}
	if n == 0 {
		return nil
	}
	s := make([]string, len(missing))
	for i, id := range missing {
		s[i] = fmt.Sprint(id)
	}
	more := ""
	if n > len(missing) {
		more = fmt.Sprintf(" and %d more", n-len(missing))
	}
	return fmt.Errorf("%w: %d of %d ids are not in the index: %s%s", errs.NotFound, n, len(ids), strings.Join(s, ", "), more)
}
