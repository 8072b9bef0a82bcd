package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/oxvec/oxvec/core/errs"
)

// WriteFile is the one way the engine replaces a file: write calls go to a
// temporary file in the same directory, which is fsync'd, renamed over
// path, and the directory fsync'd. A crash leaves the old file or the new
// one, never a partial file; the temporary name is unique, so concurrent
// writers of different files in one directory cannot collide.
func WriteFile(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		class := errs.IO
		if errors.Is(err, fs.ErrNotExist) {
			class = errs.NotFound // the directory is missing
		}
		return fmt.Errorf("%w: creating a temporary file next to %s: %v", class, path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		if errors.Is(err, errs.IO) || errors.Is(err, errs.Canceled) || errors.Is(err, errs.Closed) {
			return err
		}
		return fmt.Errorf("%w: writing %s: %v", errs.IO, path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("%w: fsync of %s: %v", errs.IO, tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("%w: closing %s: %v", errs.IO, tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("%w: renaming onto %s: %v", errs.IO, path, err)
	}
	return SyncDir(dir)
}

// WriteBytes is WriteFile for data already in memory.
func WriteBytes(path string, data []byte) error {
	return WriteFile(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// SyncDir fsyncs a directory, making creations and renames in it durable.
// Filesystems that cannot fsync a directory (EINVAL, ENOTSUP) are not an
// error: there is nothing more to do on them.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: opening %s: %v", errs.IO, dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("%w: fsync of %s: %v", errs.IO, dir, err)
	}
	return nil
}
