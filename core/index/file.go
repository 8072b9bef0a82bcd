package index

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oxvec/oxvec/core/errs"
)

// SaveFile writes idx to path atomically: into a temporary file in the same
// directory, fsync'd, then renamed over path, and the directory fsync'd. A
// crash leaves either the old file or the new one, never a partial file.
func SaveFile(idx Index, path string) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return ioError("create a temporary file next to "+path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = idx.Save(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return ioError("fsync "+tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return ioError("close "+tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return ioError("rename onto "+path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // makes the rename durable; some filesystems refuse, harmlessly
		d.Close()
	}
	return nil
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
