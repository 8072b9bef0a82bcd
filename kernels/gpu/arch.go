package gpu

import (
	"fmt"
	"strconv"
	"strings"
)

// virtualArch maps a real architecture name ("sm_80", "80", "compute_80")
// to the virtual one NVRTC writes PTX for ("compute_80").
func virtualArch(arch string) (string, error) {
	s := strings.TrimSpace(strings.ToLower(arch))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "sm_"), "compute_")
	v, err := strconv.Atoi(s)
	if err != nil || v < 50 || v > 200 {
		return "", invalid("GPU architecture %q: pass sm_XY, e.g. sm_80 (A100) or sm_90 (H100)", arch)
	}
	return "compute_" + s, nil
}

// archOf names a device of compute capability major.minor.
func archOf(major, minor int) string { return fmt.Sprintf("sm_%d%d", major, minor) }
