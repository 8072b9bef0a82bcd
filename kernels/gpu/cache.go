package gpu

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The module cache keeps what NVRTC compiled, one file per (source hash,
// architecture, NVRTC version, driver version): a changed kernel text, a
// new GPU, a new toolkit or a driver upgrade each miss it and compile
// afresh, so a stale module is never loaded. Its folder is $OXVEC_GPU_CACHE,
// else the user cache folder (~/.cache/oxvec/gpu). A file is written to a
// temporary name and renamed, so concurrent processes never read half a
// module; a file that fails its checksum is ignored and rewritten.

// cacheDir is the module cache's folder ("" when none can be found:
// compiling still works, nothing is kept).
func cacheDir() string {
	if d := os.Getenv("OXVEC_GPU_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "oxvec", "gpu")
}

// cacheKey is the file name of a module.
func cacheKey(arch string, nvrtcVersion string, driver int) string {
	drv := "nodriver"
	if driver > 0 {
		drv = fmt.Sprintf("drv%d", driver)
	}
	return fmt.Sprintf("kernels-%s-%s-nvrtc%s-%s.ptx", SourceHash(), arch, nvrtcVersion, drv)
}

// checksumLine ends every cached file: "// oxvec-sha256 <hex of the text before it>".
const checksumPrefix = "\n// oxvec-sha256 "

func sum(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// cacheRead returns the cached module of key, if a sound one is there.
func cacheRead(key string) (string, bool) {
	dir := cacheDir()
	if dir == "" {
		return "", false
	}
	b, err := os.ReadFile(filepath.Join(dir, key))
	if err != nil {
		return "", false
	}
	s := string(b)
	i := strings.LastIndex(s, checksumPrefix)
	if i < 0 || strings.TrimSpace(s[i+len(checksumPrefix):]) != sum(s[:i]) {
		return "", false
	}
	return s[:i], true
}

// cacheWrite stores a module; a cache that cannot be written only costs
// the next process a compilation, so errors are returned for tests and
// otherwise ignored.
func cacheWrite(key, text string) error {
	dir := cacheDir()
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, key+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(text + checksumPrefix + sum(text) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, key))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
