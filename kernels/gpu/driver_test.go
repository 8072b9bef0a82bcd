//go:build cgo && !windows

package gpu

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

// driverPresent reports whether this machine has an NVIDIA driver: the tests
// below check what a machine without one must say.
func driverPresent() bool {
	for _, p := range []string{"/dev/nvidiactl", "/proc/driver/nvidia/version"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func TestDevices_WithoutADriverIsUnsupportedAndNamesLibcuda(t *testing.T) {
	if driverPresent() {
		t.Skip("this machine has an NVIDIA driver; benchmarks/gpu_check.py tests the device path")
	}
	devs, err := Devices()
	if !errors.Is(err, errs.Unsupported) || len(devs) != 0 {
		t.Fatalf("Devices() = %v, %v; want none and an unsupported error", devs, err)
	}
	if r := Reason(); !strings.Contains(r, "libcuda.so.1") || !strings.Contains(r, "driver") {
		t.Fatalf("Reason() = %q; want it to name libcuda.so.1 and the driver", r)
	}
	if _, err := Open(0); !errors.Is(err, errs.Unsupported) {
		t.Fatalf("Open(0) = %v; want unsupported", err)
	}
}
