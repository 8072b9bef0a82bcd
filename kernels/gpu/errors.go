package gpu

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
)

// Every error of this package wraps one class of core/errs:
//
//   - errs.Unsupported: no usable GPU: the driver (libcuda.so.1), NVRTC or a
//     device is missing, or a request the device path does not serve (k
//     above KMax); the message says which and what to install.
//   - errs.InvalidArgument: a malformed device name or architecture.
//   - errs.NoMemory: device memory ran out.
//   - errs.Internal: a CUDA call failed in a way that is our bug or the
//     driver's; the message carries the CUDA error name.
func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errs.Unsupported, fmt.Sprintf(format, a...))
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errs.InvalidArgument, fmt.Sprintf(format, a...))
}
