package tenant

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// MaxNameLen bounds tenant, collection, role and key names.
const MaxNameLen = 64

// namePattern: letters, digits, '_', '-', '.', starting with a letter or
// a digit - no path separator, no leading dot.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// checkName refuses names that could be mistaken for paths or are
// unreasonable as identifiers; kind ("tenant", "collection", ...) is for the
// message.
func checkName(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: a %s name must not be empty", errs.InvalidArgument, kind)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: a %s name has at most %d characters, got %d", errs.InvalidArgument, kind, MaxNameLen, len(name))
	case strings.Contains(name, ".."):
		return fmt.Errorf("%w: %s name %q must not contain '..'", errs.InvalidArgument, kind, name)
	case !namePattern.MatchString(name):
		return fmt.Errorf("%w: %s name %q may hold only letters, digits, '_', '-' and '.', and start with a letter or digit", errs.InvalidArgument, kind, name)
	}
	return nil
}
