package migrate

import (
	"errors"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
)

// corrupt words a failed check of a file's contents.
func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errs.Corrupt}, a...)...)
}

// unsupported words a valid file oxvec cannot represent.
func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errs.Unsupported}, a...)...)
}

// asCorrupt turns the argument errors an index constructor returns for
// the parts it was given (NaN values, wrong lengths) into
// errs.Corrupt: here the parts come from a file, so the file is at fault,
// not the caller. Other classes pass through.
//
// Repeated ids are the exception: faiss accepts add_with_ids with an id
// twice, so such a file is valid, only not representable (oxvec's ids are
// unique): errs.Unsupported.
func asCorrupt(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errs.DuplicateID) {
		return fmt.Errorf("%w: %s: %v (oxvec keeps one vector per id)", errs.Unsupported, what, err)
	}
	for _, c := range []error{errs.InvalidArgument, errs.Dimension} {
		if errors.Is(err, c) {
			return fmt.Errorf("%w: %s: %v", errs.Corrupt, what, err)
		}
	}
	return err
}

func errorf(class error, format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{class}, a...)...)
}

// errInvalid: the caller's arguments (space, dim, metric) are wrong.
var errInvalid = errs.InvalidArgument
