//go:build !cgo || windows

package gpu

import "context"

// Without cgo, or on Windows, nothing is dlopen'ed: every GPU function reports that,
// and the engine runs on the CPU.

const noCgo = "this oxvec build has no GPU backend (it needs cgo and Linux or macOS dlopen to load the NVIDIA driver)"

// KernelPTX is one kernel of a compiled module and the size of its PTX.
type KernelPTX struct {
	Name  string `json:"name"`
	Bytes int    `json:"ptx_bytes"`
}

// Module is Source compiled for one architecture.
type Module struct {
	Arch    string      `json:"arch"`
	NVRTC   string      `json:"nvrtc"`
	Bytes   int         `json:"ptx_bytes"`
	Kernels []KernelPTX `json:"kernels"`
	Cached  bool        `json:"cached"`
}

// Info describes one CUDA device.
type Info struct {
	Ordinal         int    `json:"ordinal"`
	Name            string `json:"name"`
	Arch            string `json:"arch"`
	Multiprocessors int    `json:"multiprocessors"`
	MemoryBytes     int64  `json:"memory_bytes"`
	DriverVersion   int    `json:"driver_version"`
}

// Device is never opened without cgo.
type Device struct{ Info }

func Compile(arch string, driver int) (*Module, error) { return nil, unsupported(noCgo) }
func NVRTCVersion() (string, error)                    { return "", unsupported(noCgo) }
func Devices() ([]Info, error)                         { return nil, unsupported(noCgo) }
func Reason() string                                   { return noCgo }
func Open(ordinal int) (*Device, error)                { return nil, unsupported(noCgo) }
func SetSearchDirs(dirs []string)                      {}

func (dev *Device) Pairwise(ctx context.Context, kind uint32, p float32, x, y []float32, d int, out []float32) error {
	return unsupported(noCgo)
}

func (dev *Device) KNN(ctx context.Context, kind uint32, p float32, base, queries []float32, d, k int, outIDs []int64, outDist []float32) error {
	return unsupported(noCgo)
}

func (dev *Device) Assign(ctx context.Context, c, x []float32, d int, assign []int64, dist []float32) error {
	return unsupported(noCgo)
}
