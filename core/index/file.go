package index

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
)

// SaveFile writes idx to path atomically (format.WriteFile): a crash
// leaves either the old file or the new one, never a partial file.
func SaveFile(idx Index, path string) error {
	return format.WriteFile(path, idx.Save)
}

// LoadOptions tune LoadFileWith.
type LoadOptions struct {
	// Mmap maps the file instead of reading it, for index types that can
	// search in place (others read it as usual).
	Mmap bool
	// Verify checks every checksum of a mapped file up front, which reads
	// every page; reading a file always verifies.
	Verify bool
}

// LoadFileWith loads the index saved at path as the options ask. The file
// is opened with format.Open, so only the sections the type's loader asks
// for are read (or, with Mmap, mapped).
func LoadFileWith(path string, o LoadOptions) (Index, error) {
	f, err := format.Open(path)
	if err != nil {
		return nil, err
	}
	fac, err := factory(f.Kind())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: file holds index type %q, which this build does not know", errs.Unsupported, f.Kind())
	}
	if fac.Map != nil && (o.Mmap || fac.InPlace) {
		idx, err := fac.Map(f, o.Verify)
		if err != nil {
			f.Close()
		}
		return idx, err
	}
	defer f.Close()
	return fac.Load(f)
}

// LoadFile reads and loads the index saved at path.
func LoadFile(path string) (Index, error) { return LoadFileWith(path, LoadOptions{}) }
