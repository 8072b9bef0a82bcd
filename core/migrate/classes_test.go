package migrate

import (
	"errors"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

func isClass(err error, class string) bool {
	switch class {
	case "corrupt":
		return errors.Is(err, errs.Corrupt)
	case "unsupported":
		return errors.Is(err, errs.Unsupported)
	}
	return false
}

// isKnown: the error carries one of the classes a damaged file may give.
func isKnown(err error) bool {
	return errors.Is(err, errs.Corrupt) || errors.Is(err, errs.Unsupported) || errors.Is(err, errs.NoMemory)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
