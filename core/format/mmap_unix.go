//go:build unix

package format

import (
	"os"
	"syscall"
)

const canMap = true

// mapRange maps length bytes of file from off read-only. The mapping
// starts at the page boundary below off (region, for unmap); b is the
// requested range within it.
func mapRange(file *os.File, off, length int64) (region, b []byte, err error) {
	start := off &^ int64(os.Getpagesize()-1)
	region, err = syscall.Mmap(int(file.Fd()), start, int(off-start+length), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return region, region[off-start : off-start+length : off-start+length], nil
}

func unmap(region []byte) error { return syscall.Munmap(region) }
