package migrate

import (
	"testing"
)

// FuzzMigrate feeds mutated copies of real faiss, hnswlib and Annoy files
// (testdata, written by the libraries themselves: make_seeds.py) to their
// readers. A read must fail with an error class or give an index that
// passes Verify, searches and survives a faiss round trip (exercise):
// never a panic, never an allocation the file's size does not justify.
func FuzzMigrate(f *testing.F) {
	all := seeds(f)
	for i, s := range all {
		f.Add(uint8(i), s.data)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		s := all[int(which)%len(all)]
		idx, err := open(s, data)
		if err != nil {
			if !isKnown(err) {
				t.Fatalf("%s reader: an error of no expected class: %v", s.Kind, err)
			}
			return
		}
		exercise(t, idx)
	})
}
