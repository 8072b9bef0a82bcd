package text

import (
	"fmt"
	"runtime"
	"testing"
)

func TestStemCache_KeepsTwoGenerationsAndTheSameTerms(t *testing.T) {
	c := newStemCache()
	for i := 0; i < 5*generationWords; i++ {
		w := fmt.Sprintf("Running%d", i)
		c.put(w, analyze(w))
		if i%1024 != 0 {
			continue
		}
		if n := c.words(); n > 2*generationWords+1 {
			t.Fatalf("after %d words the cache holds %d (bound %d)", i+1, n, 2*generationWords)
		}
	}
	// the latest words are there, with their terms; the first ones are gone
	last := fmt.Sprintf("Running%d", 5*generationWords-1)
	if got, ok := c.get(last); !ok || got != analyze(last) {
		t.Fatalf("latest word: %q, %v; want %q", got, ok, analyze(last))
	}
	if _, ok := c.get("Running0"); ok {
		t.Fatal("the first word is still cached after five generations")
	}
	// a word of the previous generation moves to the current one
	c2 := newStemCache()
	c2.put("dogs", "dog")
	for i := 0; i < generationWords; i++ {
		c2.put(fmt.Sprint(i), fmt.Sprint(i))
	}
	if c2.prev.Load() == nil {
		t.Fatal("no rotation after a full generation")
	}
	if got, ok := c2.get("dogs"); !ok || got != "dog" {
		t.Fatalf("previous generation's word: %q, %v", got, ok)
	}
	if _, ok := c2.cur.Load().m.Load("dogs"); !ok {
		t.Fatal("a word found in the previous generation was not moved to the current one")
	}
}

func TestIndex_ChurnWithUniqueWordsKeepsTheLiveHeapBounded(t *testing.T) {
	// the server soak's write mix in miniature: a bounded set of live
	// documents, each new one with a unique number in its text. After
	// warm-up the live heap must stop growing; with a lifetime-capped word
	// cache it grew by ~4 objects per word ever written (~35 MiB in a
	// 30-minute soak).
	x := New()
	const live = 200
	docs := make([]string, live)
	n := 0
	churn := func(rounds int) {
		for r := 0; r < rounds; r++ {
			id := n % live
			if docs[id] != "" {
				x.Remove(int64(id), docs[id])
			}
			docs[id] = fmt.Sprintf("doc w0-%d upserted %d", n, n*7)
			if err := x.Add(int64(id), docs[id]); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	heapObjects := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapObjects
	}
	churn(2 * generationWords) // past two generations of unique words
	before := heapObjects()
	const more = 100_000 // 200,000 new unique words
	churn(more)
	after := heapObjects()
	if after > before && after-before > 100_000 {
		t.Fatalf("live heap objects grew %d -> %d over %d documents added and removed with %d live", before, after, more, live)
	}
	if x.Len() != live {
		t.Fatalf("%d documents indexed, want %d", x.Len(), live)
	}
}
