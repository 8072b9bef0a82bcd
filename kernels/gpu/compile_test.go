//go:build cgo && !windows

package gpu

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

// nvrtcForTests points the loader at the test venv's nvidia-cuda-nvrtc-cu12
// (pip install -e .[test]) when it is there.
func nvrtcForTests(t *testing.T) {
	t.Helper()
	for dir, _ := os.Getwd(); dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		m, _ := filepath.Glob(filepath.Join(dir, ".venv", "lib", "python3*", "site-packages", "nvidia", "cuda_nvrtc", "lib"))
		if len(m) > 0 {
			SetSearchDirs(m)
			break
		}
	}
	if _, err := NVRTCVersion(); err != nil {
		if os.Getenv("OXVEC_REQUIRE_NVRTC") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func TestCompile_EveryKernelToPTXForVoltaAmpereHopper(t *testing.T) {
	nvrtcForTests(t)
	t.Setenv("OXVEC_GPU_CACHE", t.TempDir())
	ver, _ := NVRTCVersion()
	for _, arch := range []string{"sm_70", "sm_80", "sm_90"} {
		if arch == "sm_70" && !strings.HasPrefix(ver, "12.") && !strings.HasPrefix(ver, "11.") {
			t.Logf("NVRTC %s no longer targets Volta (CUDA 13 dropped sm_70); skipping it", ver)
			continue
		}
		m, err := Compile(arch, 0)
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if m.Cached {
			t.Fatalf("%s: a fresh cache cannot hold the module", arch)
		}
		if !strings.Contains(m.ptx, ".target "+arch) {
			t.Fatalf("%s: PTX targets something else:\n%.300s", arch, m.ptx)
		}
		for _, k := range m.Kernels {
			t.Logf("%s %s: %d bytes of PTX (NVRTC %s)", arch, k.Name, k.Bytes, m.NVRTC)
			if k.Bytes < 200 || k.Bytes > m.Bytes {
				t.Errorf("%s %s: implausible PTX size %d of %d", arch, k.Name, k.Bytes, m.Bytes)
			}
		}
	}
}

func TestCompile_SecondCallReadsTheCacheAndACorruptFileIsRecompiled(t *testing.T) {
	nvrtcForTests(t)
	dir := t.TempDir()
	t.Setenv("OXVEC_GPU_CACHE", dir)
	first, err := Compile("sm_80", 0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Compile("sm_80", 0)
	if err != nil || !again.Cached || again.ptx != first.ptx {
		t.Fatalf("second compile: cached=%v err=%v", again != nil && again.Cached, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "kernels-"+SourceHash()+"-sm_80-nvrtc*-nodriver.ptx"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v", files)
	}
	b, _ := os.ReadFile(files[0])
	os.WriteFile(files[0], append([]byte("garbage"), b...), 0o644)
	fixed, err := Compile("sm_80", 0)
	if err != nil || fixed.Cached || fixed.ptx != first.ptx {
		t.Fatalf("a corrupt cache file must be recompiled: cached=%v err=%v", fixed != nil && fixed.Cached, err)
	}
	// another driver version is another module
	if m, err := Compile("sm_80", 12080); err != nil || m.Cached {
		t.Fatalf("driver 12080: cached=%v err=%v", m != nil && m.Cached, err)
	}
}

func TestCompile_BadArchitectureIsInvalidArgument(t *testing.T) {
	for _, a := range []string{"", "sm_x", "volta", "sm_7"} {
		if _, err := Compile(a, 0); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("Compile(%q): %v, want invalid argument", a, err)
		}
	}
}
