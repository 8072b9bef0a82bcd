package text

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Stemming is the analyzer's cost; a word's term never changes, so the term
// of each word met lately is cached, process-wide (every index and every
// query share it).
//
// The cache is bounded by recency, not by a lifetime count: it holds two
// generations of at most generationWords words each; when the current one
// fills up it becomes the previous one and the old previous one is dropped
// (a word found there moves to the current one). A lifetime cap of 2^20 words
// was the first design: under churn with unique words (ids and numbers in
// documents, as in the server soak) it grew by every new word ever written,
// ~150 bytes each, until the cap - ~35 MiB over a 30-minute soak, read as a
// leak. Each index keeps its own words as written (Index.words) for its live
// documents, so a word falling out of this cache costs one more stemming the
// next time a new document or a query brings it, nothing more.
const generationWords = 1 << 14

type stemGeneration struct {
	m sync.Map // word as written -> term
	n atomic.Int64
}

type stemCache struct {
	cur, prev atomic.Pointer[stemGeneration]
	rotate    sync.Mutex // one rotation at a time
}

var stems = newStemCache()

func newStemCache() *stemCache {
	c := &stemCache{}
	c.cur.Store(&stemGeneration{})
	return c
}

// get returns word's cached term.
func (c *stemCache) get(word string) (string, bool) {
	if t, ok := c.cur.Load().m.Load(word); ok {
		return t.(string), true
	}
	if p := c.prev.Load(); p != nil {
		if t, ok := p.m.Load(word); ok {
			c.put(word, t.(string))
			return t.(string), true
		}
	}
	return "", false
}

// put caches word's term, starting a new generation when this one is full.
func (c *stemCache) put(word, t string) {
	g := c.cur.Load()
	if g.n.Add(1) > generationWords {
		c.rotate.Lock()
		if c.cur.Load() == g {
			c.prev.Store(g)
			c.cur.Store(&stemGeneration{})
		}
		c.rotate.Unlock()
		g = c.cur.Load()
		g.n.Add(1)
	}
	g.m.Store(strings.Clone(word), t)
}

// words counts the words cached now (for tests).
func (c *stemCache) words() int {
	n := 0
	count := func(_, _ any) bool { n++; return true }
	c.cur.Load().m.Range(count)
	if p := c.prev.Load(); p != nil {
		p.m.Range(count)
	}
	return n
}
