//go:build !unix

package format

import (
	"errors"
	"os"
)

// canMap is false where there is no mmap: Map reads sections instead.
const canMap = false

func mapRange(*os.File, int64, int64) (region, b []byte, err error) {
	return nil, nil, errors.New("mmap is not available on this platform")
}

func unmap([]byte) error { return nil }
