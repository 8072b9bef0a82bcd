package index

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

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

// LoadFileWith loads the index saved at path as the options ask.
func LoadFileWith(path string, o LoadOptions) (Index, error) {
	if !o.Mmap {
		return LoadFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, ioError("open "+path, err)
	}
	head := make([]byte, format.HeaderSize)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: %s is too short to be an oxvec index", errs.Corrupt, path)
	}
	kind, err := format.KindOf(head)
	if err != nil {
		return nil, err
	}
	fac, err := factory(kind)
	if err != nil {
		return nil, fmt.Errorf("%w: file holds index type %q, which this build does not know", errs.Unsupported, kind)
	}
	if fac.Map == nil {
		return LoadFile(path)
	}
	return fac.Map(path, o.Verify)
}

// LoadFile reads and loads the index saved at path.
func LoadFile(path string) (Index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ioError("read "+path, err)
	}
	return Load(data)
}

func ioError(what string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s: %v", errs.NotFound, what, err)
	}
	return fmt.Errorf("%w: %s: %v", errs.IO, what, err)
}
