//go:build cgo && !windows

package gpu

import (
	"fmt"
	"strings"
)

// KernelPTX is one kernel of a compiled module and the size of its PTX.
type KernelPTX struct {
	Name  string `json:"name"`
	Bytes int    `json:"ptx_bytes"`
}

// Module is Source compiled for one architecture.
type Module struct {
	Arch    string      `json:"arch"`
	NVRTC   string      `json:"nvrtc"`
	Bytes   int         `json:"ptx_bytes"` // the whole module
	Kernels []KernelPTX `json:"kernels"`
	Cached  bool        `json:"cached"` // read from the module cache, not compiled now
	ptx     string
}

// Compile compiles every kernel for arch (e.g. "sm_80") with NVRTC, or
// reads the module from the cache. It needs no GPU and no driver. driver
// is the driver version for the cache key (0 when compiling without one).
func Compile(arch string, driver int) (*Module, error) {
	virt, err := virtualArch(arch)
	if err != nil {
		return nil, err
	}
	arch = "sm_" + strings.TrimPrefix(virt, "compute_")
	n, err := loadNVRTC()
	if err != nil {
		return nil, err
	}
	ver := fmt.Sprintf("%d.%d", n.major, n.minor)
	key := cacheKey(arch, ver, driver)
	ptx, cached := cacheRead(key)
	if !cached {
		if ptx, err = n.compilePTX(arch); err != nil {
			return nil, err
		}
		_ = cacheWrite(key, ptx) // best effort; see cacheWrite
	}
	m := &Module{Arch: arch, NVRTC: ver, Bytes: len(ptx), Cached: cached, ptx: ptx}
	for _, k := range Kernels {
		size := entrySize(ptx, k)
		if size == 0 {
			return nil, fmt.Errorf("compiled module for %s has no entry %s", arch, k)
		}
		m.Kernels = append(m.Kernels, KernelPTX{k, size})
	}
	return m, nil
}

// entrySize is the length of kernel name's .entry in a PTX text, from its
// declaration to the closing brace at the start of a line (0: absent).
func entrySize(ptx, name string) int {
	i := strings.Index(ptx, ".entry "+name+"(")
	if i < 0 {
		return 0
	}
	j := strings.Index(ptx[i:], "\n}")
	if j < 0 {
		return 0
	}
	return j + 2
}

// NVRTCVersion loads NVRTC and reports its version ("12.9").
func NVRTCVersion() (string, error) {
	n, err := loadNVRTC()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d.%d", n.major, n.minor), nil
}
