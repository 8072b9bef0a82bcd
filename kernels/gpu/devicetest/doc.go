// Package devicetest runs the engine's GPU path end to end on a machine
// without a GPU: its tests build emulate/fake_cuda.cpp, a stand-in
// libcuda.so.1 that runs the kernels under the CUDA emulation, load it
// through the OXVEC_LIBCUDA hook, and compare what core/accel computes on
// that "device" with the CPU. A package of its own because the driver is
// loaded once per process: kernels/gpu's tests need a process without one.
package devicetest
