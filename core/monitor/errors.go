package monitor

import (
	"errors"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/errs"
)

// classes are the error classes of core/errs under the names the
// statistics use (the Python exception of each is the CamelCase of its
// name plus "Error", except "handle").
var classes = []struct {
	err  error
	name string
}{
	{errs.InvalidArgument, "invalid_argument"},
	{errs.Dimension, "dimension"},
	{errs.DuplicateID, "duplicate_id"},
	{errs.NotFound, "not_found"},
	{errs.IO, "io"},
	{errs.Corrupt, "corrupt"},
	{errs.Unsupported, "unsupported"},
	{errs.Canceled, "canceled"},
	{errs.Closed, "closed"},
	{errs.NoMemory, "no_memory"},
	{errs.State, "state"},
	{errs.PermissionDenied, "permission_denied"},
	{errs.QuotaExceeded, "quota_exceeded"},
	{errs.RateLimited, "rate_limited"},
	{errs.Internal, "internal"},
}

// otherClass counts an error that wraps no class (a bug: every engine
// error should).
const otherClass = "other"

// classIndex is the index of err's class in classes; len(classes) for none.
func classIndex(err error) int {
	for i, c := range classes {
		if errors.Is(err, c.err) {
			return i
		}
	}
	return len(classes)
}

// ClassName is the statistics' name of err's class.
func ClassName(err error) string {
	if i := classIndex(err); i < len(classes) {
		return classes[i].name
	}
	return otherClass
}

// errorCounts counts errors by class since the store opened.
type errorCounts [maxClasses]atomic.Uint64

// maxClasses has room for every class and "other" (a test checks).
const maxClasses = 16

func (c *errorCounts) add(err error) { c[classIndex(err)].Add(1) }

// snapshot: class name -> count, classes never seen left out.
func (c *errorCounts) snapshot() map[string]uint64 {
	out := map[string]uint64{}
	for i := range c {
		if n := c[i].Load(); n > 0 {
			name := otherClass
			if i < len(classes) {
				name = classes[i].name
			}
			out[name] = n
		}
	}
	return out
}
