// Package accel chooses where the engine's exact distance work runs - the
// CPU or a CUDA GPU (kernels/gpu) - and does the preparation the device
// kernels expect: vectors are prepared by their metric on the host
// (normalised, centred, ranked, whitened, exactly as for the CPU), the
// device computes the metric's formula on them, and the results come back
// in the caller's arrays.
//
// A device is named as the Python API names it: "cpu", "auto" (a GPU when
// one is usable, else the CPU, silently), "cuda" or "cuda:N" (that GPU, or
// an errs.Unsupported error saying what is missing: driver, device or
// NVRTC). Nothing of CUDA is loaded until a name other than "cpu" is
// resolved.
package accel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels/gpu"
)

// Choice is a resolved device name: Dev is nil for the CPU. Strict is set
// when the caller named a GPU, so work the GPU cannot do is an error
// rather than a quiet fall back to the CPU.
type Choice struct {
	Dev    *gpu.Device
	Strict bool
}

// OnGPU reports whether c runs on a GPU.
func (c Choice) OnGPU() bool { return c.Dev != nil }

// Resolve turns a device name into a Choice.
func Resolve(name string) (Choice, error) {
	s := strings.ToLower(strings.TrimSpace(name))
	switch {
	case s == "" || s == "cpu":
		return Choice{}, nil
	case s == "auto":
		if gpu.Reason() != "" {
			return Choice{}, nil
		}
		dev, err := gpu.Open(0)
		if err != nil {
			return Choice{}, nil // auto never fails for want of a GPU
		}
		return Choice{Dev: dev}, nil
	case s == "cuda" || strings.HasPrefix(s, "cuda:"):
		ordinal := 0
		if s != "cuda" {
			n, err := strconv.Atoi(s[len("cuda:"):])
			if err != nil || n < 0 {
				return Choice{}, fmt.Errorf("%w: device %q: write cuda:N with N the GPU's number, e.g. cuda:0", errs.InvalidArgument, name)
			}
			ordinal = n
		}
		if r := gpu.Reason(); r != "" {
			return Choice{}, fmt.Errorf("%w: device=%q: %s; use device=\"cpu\" or \"auto\"", errs.Unsupported, name, r)
		}
		dev, err := gpu.Open(ordinal)
		if err != nil {
			return Choice{}, err
		}
		return Choice{Dev: dev, Strict: true}, nil
	}
	return Choice{}, fmt.Errorf("%w: device %q: use \"cpu\", \"auto\", \"cuda\" or \"cuda:N\"", errs.InvalidArgument, name)
}

// Supports reports whether the device kernels compute kind. Haversine and
// hamming_bits stay on the CPU: two-value rows and packed bits gain
// nothing from a GPU.
func Supports(kind metric.Kind) bool {
	switch kind {
	case metric.Haversine, metric.HammingBits:
		return false
	}
	return kind.Valid()
}

// runs decides whether work for kind (k neighbours, 0 for none) goes to
// the GPU: false for the CPU, an error when the caller named a GPU that
// cannot do it.
func (c Choice) runs(kind metric.Kind, k int) (bool, error) {
	if c.Dev == nil {
		return false, nil
	}
	why := refusal(kind, k)
	if why == "" {
		return true, nil
	}
	if c.Strict {
		return false, fmt.Errorf("%w: %s: use device=\"cpu\" or \"auto\"", errs.Unsupported, why)
	}
	return false, nil
}

// refusal says why the GPU cannot do work for kind with k neighbours ("":
// it can).
func refusal(kind metric.Kind, k int) string {
	switch {
	case !Supports(kind):
		return fmt.Sprintf("metric %s has no GPU kernel", kind)
	case k > gpu.KMax:
		return fmt.Sprintf("the GPU keeps at most %d neighbours per query, %d asked", gpu.KMax, k)
	}
	return ""
}
