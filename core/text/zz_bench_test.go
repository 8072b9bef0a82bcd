package text

import (
	"encoding/json"
	"os"
	"testing"
)

func loadDocs(b *testing.B) []string {
	f, err := os.ReadFile("/tmp/glosses.json")
	if err != nil {
		b.Skip()
	}
	var docs []string
	json.Unmarshal(f, &docs)
	return docs
}

func BenchmarkIndexAdd(b *testing.B) {
	docs := loadDocs(b)
	for b.Loop() {
		x := New()
		for i, d := range docs {
			x.Add(int64(i), d)
		}
	}
}
