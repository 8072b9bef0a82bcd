//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/oxvec/oxvec/core/errs"
)

// ErrLocked: another process has the store open for writing.
var ErrLocked = errs.State

// lockDir takes the store's writer lock (flock on LOCK, released by the
// kernel when the process dies, so a crash never leaves it held).
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.IO, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who != "" {
				who = " (pid " + who + ")"
			}
			return nil, fmt.Errorf("%w: %s is open for writing in another process%s; open it with read_only=True to read it meanwhile", ErrLocked, dir, who)
		}
		return nil, fmt.Errorf("%w: locking %s: %v", errs.IO, path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}
