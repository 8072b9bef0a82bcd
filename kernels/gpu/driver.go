//go:build cgo && !windows

package gpu

/*
#include "driver_shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	"github.com/oxvec/oxvec/core/errs"
)

// driver is the loaded libcuda.so.1.
type driver struct {
	lib                                                    *library
	init, version, count, deviceGet, deviceName, attribute unsafe.Pointer
	totalMem, ctxRetain, ctxSet, moduleLoad, moduleFn      unsafe.Pointer
	alloc, free, htod, dtoh, memInfo, launch               unsafe.Pointer
	streamCreate, streamSync, streamDestroy, errorName     unsafe.Pointer
	driverVersion                                          int
}

var driverOnce struct {
	sync.Once
	d   *driver
	err error
}

// Device attributes (CUdevice_attribute values).
const (
	attrMultiprocessors = 16
	attrCCMajor         = 75
	attrCCMinor         = 76
)

// loadDriver opens libcuda.so.1 and initialises CUDA, once per process.
// Nothing here runs before a GPU function is called.
func loadDriver() (*driver, error) {
	driverOnce.Do(func() { driverOnce.d, driverOnce.err = openDriver() })
	return driverOnce.d, driverOnce.err
}

func openDriver() (*driver, error) {
	path := "libcuda.so.1"
	if p := os.Getenv("OXVEC_LIBCUDA"); p != "" {
		// test hook: emulate/fake_cuda.cpp, a driver that runs the kernels
		// on the CPU, takes the device path end to end without a GPU
		path = p
	}
	lib, err := openLibrary(path)
	if err != nil {
		return nil, unsupported("libcuda.so.1 not found: no NVIDIA driver is installed (%v)", err)
	}
	s, err := lib.symbols("cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName",
		"cuDeviceGetAttribute", "cuDeviceTotalMem_v2", "cuDevicePrimaryCtxRetain", "cuCtxSetCurrent",
		"cuModuleLoadData", "cuModuleGetFunction", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemcpyHtoDAsync_v2",
		"cuMemcpyDtoHAsync_v2", "cuMemGetInfo_v2", "cuLaunchKernel", "cuStreamCreate", "cuStreamSynchronize",
		"cuStreamDestroy_v2", "cuGetErrorName")
	if err != nil {
		return nil, unsupported("the NVIDIA driver is too old for oxvec: %v", err)
	}
	d := &driver{lib: lib, init: s[0], version: s[1], count: s[2], deviceGet: s[3], deviceName: s[4], attribute: s[5],
		totalMem: s[6], ctxRetain: s[7], ctxSet: s[8], moduleLoad: s[9], moduleFn: s[10], alloc: s[11], free: s[12],
		htod: s[13], dtoh: s[14], memInfo: s[15], launch: s[16], streamCreate: s[17], streamSync: s[18],
		streamDestroy: s[19], errorName: s[20]}
	if rc := C.oxv_cu_init(d.init); rc != 0 {
		return nil, unsupported("the NVIDIA driver is installed but cuInit failed: %s (is a GPU visible to this process? check nvidia-smi and CUDA_VISIBLE_DEVICES)", d.errName(rc))
	}
	var v C.int
	if rc := C.oxv_cu_int(d.version, &v); rc == 0 {
		d.driverVersion = int(v)
	}
	return d, nil
}

func (d *driver) errName(rc C.int) string { return C.GoString(C.oxv_cu_error_name(d.errorName, rc)) }

// check turns a CUresult into an error naming the call.
func (d *driver) check(what string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	name := d.errName(rc)
	class := errs.Internal
	if rc == 2 { // CUDA_ERROR_OUT_OF_MEMORY
		class = errs.NoMemory
	}
	return fmt.Errorf("%w: %s: %s", class, what, name)
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

// Devices lists the CUDA devices; an error says why there are none usable
// (no driver, cuInit failed).
func Devices() ([]Info, error) {
	d, err := loadDriver()
	if err != nil {
		return nil, err
	}
	var n C.int
	if err := d.check("cuDeviceGetCount", C.oxv_cu_int(d.count, &n)); err != nil {
		return nil, err
	}
	out := make([]Info, 0, int(n))
	for i := 0; i < int(n); i++ {
		var dev C.int
		if err := d.check("cuDeviceGet", C.oxv_cu_device_get(d.deviceGet, &dev, C.int(i))); err != nil {
			return nil, err
		}
		buf := (*C.char)(C.calloc(256, 1))
		C.oxv_cu_device_name(d.deviceName, buf, 255, dev)
		name := C.GoString(buf)
		C.free(unsafe.Pointer(buf))
		var major, minor, sms C.int
		C.oxv_cu_device_attr(d.attribute, &major, attrCCMajor, dev)
		C.oxv_cu_device_attr(d.attribute, &minor, attrCCMinor, dev)
		C.oxv_cu_device_attr(d.attribute, &sms, attrMultiprocessors, dev)
		var mem C.size_t
		C.oxv_cu_device_mem(d.totalMem, &mem, dev)
		out = append(out, Info{Ordinal: i, Name: strings.TrimSpace(name), Arch: archOf(int(major), int(minor)),
			Multiprocessors: int(sms), MemoryBytes: int64(mem), DriverVersion: d.driverVersion})
	}
	return out, nil
}

// Reason is why no GPU can be used, or "" when one can: the driver, a
// device and NVRTC are all needed.
func Reason() string {
	devs, err := Devices()
	if err != nil {
		return strings.TrimPrefix(err.Error(), errs.Unsupported.Error()+": ")
	}
	if len(devs) == 0 {
		return "the NVIDIA driver found no CUDA device"
	}
	if _, err := loadNVRTC(); err != nil {
		return strings.TrimPrefix(err.Error(), errs.Unsupported.Error()+": ")
	}
	return ""
}
