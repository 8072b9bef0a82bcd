//go:build cgo && !windows

package gpu

/*
#include "driver_shim.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/oxvec/oxvec/core/errs"
)

// Device is one GPU with the kernels loaded in its primary context. Calls
// on a Device are serialised (one at a time, each on a locked OS thread,
// since a CUDA context is current per thread).
type Device struct {
	Info
	drv    *driver
	ctx    unsafe.Pointer
	stream unsafe.Pointer
	fn     map[string]unsafe.Pointer
	mu     sync.Mutex
}

var devices struct {
	sync.Mutex
	open map[int]*Device
}

// Open returns device ordinal with the kernels compiled (or read from the
// module cache) for its architecture and loaded. Devices stay open for the
// life of the process.
func Open(ordinal int) (*Device, error) {
	devices.Lock()
	defer devices.Unlock()
	if dev, ok := devices.open[ordinal]; ok {
		return dev, nil
	}
	all, err := Devices()
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, unsupported("the NVIDIA driver found no CUDA device")
	}
	if ordinal < 0 || ordinal >= len(all) {
		return nil, invalid("no CUDA device %d: %d device(s) present (cuda:0..cuda:%d)", ordinal, len(all), len(all)-1)
	}
	d, _ := loadDriver()
	dev := &Device{Info: all[ordinal], drv: d, fn: map[string]unsafe.Pointer{}}
	mod, err := Compile(dev.Arch, d.driverVersion)
	if err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cudev C.int
	if err := d.check("cuDeviceGet", C.oxv_cu_device_get(d.deviceGet, &cudev, C.int(ordinal))); err != nil {
		return nil, err
	}
	if err := d.check("cuDevicePrimaryCtxRetain", C.oxv_cu_ctx_retain(d.ctxRetain, &dev.ctx, cudev)); err != nil {
		return nil, err
	}
	if err := d.check("cuCtxSetCurrent", C.oxv_cu_ctx_set(d.ctxSet, dev.ctx)); err != nil {
		return nil, err
	}
	image := C.CString(mod.ptx)
	defer C.free(unsafe.Pointer(image))
	var module unsafe.Pointer
	if err := d.check("cuModuleLoadData", C.oxv_cu_module_load(d.moduleLoad, &module, unsafe.Pointer(image))); err != nil {
		return nil, err
	}
	for _, k := range Kernels {
		name := C.CString(k)
		var f unsafe.Pointer
		err := d.check("cuModuleGetFunction "+k, C.oxv_cu_module_fn(d.moduleFn, &f, module, name))
		C.free(unsafe.Pointer(name))
		if err != nil {
			return nil, err
		}
		dev.fn[k] = f
	}
	if err := d.check("cuStreamCreate", C.oxv_cu_stream_create(d.streamCreate, &dev.stream)); err != nil {
		return nil, err
	}
	if devices.open == nil {
		devices.open = map[int]*Device{}
	}
	devices.open[ordinal] = dev
	return dev, nil
}

// enter makes the device's context current on a locked OS thread for one
// call; the returned function undoes it.
func (dev *Device) enter() (func(), error) {
	dev.mu.Lock()
	runtime.LockOSThread()
	leave := func() {
		runtime.UnlockOSThread()
		dev.mu.Unlock()
	}
	if err := dev.drv.check("cuCtxSetCurrent", C.oxv_cu_ctx_set(dev.drv.ctxSet, dev.ctx)); err != nil {
		leave()
		return nil, err
	}
	return leave, nil
}

// freeBytes is the device memory free now.
func (dev *Device) freeBytes() (int64, error) {
	var free, total C.size_t
	if err := dev.drv.check("cuMemGetInfo", C.oxv_cu_mem_info(dev.drv.memInfo, &free, &total)); err != nil {
		return 0, err
	}
	return int64(free), nil
}

// buffer is device memory.
type buffer struct {
	ptr  C.oxv_dptr
	size int64
}

func (dev *Device) alloc(size int64) (buffer, error) {
	var p C.oxv_dptr
	if size == 0 {
		size = 4
	}
	err := dev.drv.check("cuMemAlloc", C.oxv_cu_alloc(dev.drv.alloc, &p, C.size_t(size)))
	return buffer{p, size}, err
}

func (dev *Device) release(bufs ...*buffer) {
	for _, b := range bufs {
		if b.ptr != 0 {
			C.oxv_cu_free(dev.drv.free, b.ptr)
			b.ptr = 0
		}
	}
}

// upload copies host floats into b (from its start) and waits: the host
// slice is the caller's array, read in place, so the copy must finish
// before the call returns.
func (dev *Device) upload(b buffer, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	err := dev.drv.check("cuMemcpyHtoD", C.oxv_cu_htod(dev.drv.htod, b.ptr, unsafe.Pointer(&src[0]), C.size_t(4*len(src)), dev.stream))
	if err == nil {
		err = dev.sync()
	}
	return err
}

// download copies n 4-byte values from b into dst (float32 or int32 memory).
func (dev *Device) download(dst unsafe.Pointer, b buffer, n int) error {
	if n == 0 {
		return nil
	}
	err := dev.drv.check("cuMemcpyDtoH", C.oxv_cu_dtoh(dev.drv.dtoh, dst, b.ptr, C.size_t(4*n), dev.stream))
	if err == nil {
		err = dev.sync()
	}
	return err
}

func (dev *Device) sync() error {
	return dev.drv.check("cuStreamSynchronize", C.oxv_cu_stream(dev.drv.streamSync, dev.stream))
}

// launch runs kernel name on grid x block with args (int32, float32,
// int64 or buffer values, in the kernel's order).
func (dev *Device) launch(name string, gx, gy, bx, by int, args ...any) error {
	if len(args) > 16 {
		return fmt.Errorf("%w: kernel %s takes at most 16 arguments here", errs.Internal, name)
	}
	slots := (*[16 * 8]byte)(C.calloc(16, 8))
	defer C.free(unsafe.Pointer(slots))
	for i, a := range args {
		s := slots[8*i : 8*i+8]
		switch v := a.(type) {
		case int32:
			binary.LittleEndian.PutUint32(s, uint32(v))
		case float32:
			binary.LittleEndian.PutUint32(s, math.Float32bits(v))
		case int64:
			binary.LittleEndian.PutUint64(s, uint64(v))
		case buffer:
			binary.LittleEndian.PutUint64(s, uint64(v.ptr))
		default:
			return fmt.Errorf("%w: kernel %s argument %d has Go type %T", errs.Internal, name, i, a)
		}
	}
	rc := C.oxv_cu_launch(dev.drv.launch, dev.fn[name], C.uint(gx), C.uint(gy), C.uint(bx), C.uint(by), dev.stream,
		(*C.char)(unsafe.Pointer(slots)), C.int(len(args)))
	return dev.drv.check("cuLaunchKernel "+name, rc)
}
