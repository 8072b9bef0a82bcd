//go:build !linux

package monitor

// physicalMemory is unknown here: shares are reported only under a Go
// memory limit.
func physicalMemory() int64 { return 0 }
