package kernels

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every generated routine that touches YMM or ZMM registers must clear
// their upper halves (VZEROUPPER) before it returns: the Go code that runs
// next uses SSE instructions, which pay for a dirty upper state on every
// call (the pair kernels lacked it once, and a 16-vector Flat search and
// the HNSW walk ran markedly slower for it). The check follows the text of
// each routine: a RET reached after a Y/Z register use with no VZEROUPPER
// in between fails.
func TestAssembly_ClearsUpperHalvesBeforeReturning(t *testing.T) {
	files, err := filepath.Glob("*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly found: %v", err)
	}
	wide := regexp.MustCompile(`\b[YZ]\d+\b`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, dirty := "", false
		for i, line := range strings.Split(string(src), "\n") {
			code := strings.TrimSpace(strings.SplitN(line, "//", 2)[0])
			switch {
			case strings.HasPrefix(code, "TEXT "):
				name, dirty = strings.TrimSuffix(strings.Fields(code)[1], ","), false
			case code == "VZEROUPPER":
				dirty = false
			case code == "RET":
				if dirty {
					t.Errorf("%s:%d: %s returns with dirty upper YMM/ZMM halves (no VZEROUPPER after its last wide register use)", f, i+1, name)
				}
			case wide.MatchString(code):
				dirty = true
			}
		}
	}
}
