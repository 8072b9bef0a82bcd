package store

import (
	"container/list"
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/oxvec/oxvec/core/errs"
)

// The results cache (level 1). A search's answer is kept under a key that
// holds everything the answer depends on - the query vectors' bytes, the
// texts, k, both filters, ef, what to include and the ranking - together
// with the store's change number (lastSeq) at the time it was computed.
// Both are read under the same read lock as the search, and every write
// bumps the change number under the write lock, so an entry is served
// only while the collection is exactly as it was: never a stale answer.
// Entries of an older change are dropped when met; the LRU bound and the
// TTL drop the rest.

// CacheConfig turns the results cache on (Entries > 0).
type CacheConfig struct {
	Entries    int     `json:"entries"` // most answers kept
	TTLSeconds float64 `json:"ttl_s"`   // how long an answer may be served (0: until evicted or stale)
}

type resultCache struct {
	mu    sync.Mutex
	cap   int
	ttl   time.Duration
	order *list.List // front: most recently used
	byKey map[string]*list.Element
	bytes int64
}

type cached struct {
	key  string
	seq  uint64
	at   time.Time
	hits *Hits
	size int64
}

func newResultCache(c CacheConfig) (*resultCache, error) {
	if c.Entries < 0 || c.TTLSeconds < 0 {
		return nil, fmt.Errorf("%w: cache entries and ttl must be >= 0", errs.InvalidArgument)
	}
	if c.Entries == 0 {
		return nil, nil
	}
	ttl := time.Duration(0)
	if c.TTLSeconds < 1e9 { // beyond 30 years it is "never", and would overflow
		ttl = time.Duration(c.TTLSeconds * float64(time.Second))
	}
	return &resultCache{cap: c.Entries, ttl: ttl,
		order: list.New(), byKey: map[string]*list.Element{}}, nil
}

// cacheKey is the key of a request; "" when the request cannot be keyed.
func cacheKey(req SearchRequest, rank Ranking) string {
	meta, err := json.Marshal(struct {
		Texts    []string `json:"t"`
		K        int      `json:"k"`
		Where    any      `json:"w"`
		WhereDoc any      `json:"d"`
		Ef       int      `json:"e"`
		Include  Include  `json:"i"`
		Rank     Ranking  `json:"r"`
		Vectors  bool     `json:"v"`
	}{req.Texts, req.K, req.Where, req.WhereDoc, req.Ef, req.Include, rank, req.Vectors != nil})
	if err != nil {
		return ""
	}
	var vb []byte
	if len(req.Vectors) > 0 {
		vb = unsafe.Slice((*byte)(unsafe.Pointer(&req.Vectors[0])), len(req.Vectors)*4)
	}
	return string(meta) + "\x00" + string(vb)
}

// get is the answer kept for key at change seq, or nil.
func (c *resultCache) get(key string, seq uint64, now time.Time) *Hits {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	e := el.Value.(*cached)
	if e.seq != seq || (c.ttl > 0 && now.Sub(e.at) > c.ttl) {
		c.removeLocked(el)
		return nil
	}
	c.order.MoveToFront(el)
	return e.hits
}

// put keeps an answer computed at change seq.
func (c *resultCache) put(key string, seq uint64, h *Hits, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.removeLocked(el)
	}
	e := &cached{key: key, seq: seq, at: now, hits: h, size: int64(len(key)) + h.memoryBytes()}
	c.byKey[key] = c.order.PushFront(e)
	c.bytes += e.size
	for c.order.Len() > c.cap {
		c.removeLocked(c.order.Back())
	}
}

func (c *resultCache) removeLocked(el *list.Element) {
	e := el.Value.(*cached)
	c.order.Remove(el)
	delete(c.byKey, e.key)
	c.bytes -= e.size
}

// usage: whether the cache is on, its estimated bytes and its entries.
func (c *resultCache) usage() (bool, int64, int) {
	if c == nil {
		return false, 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return true, c.bytes, c.order.Len()
}

// memoryBytes estimates what an answer holds.
func (h *Hits) memoryBytes() int64 {
	n := int64(0)
	for q, keys := range h.Keys {
		for i, k := range keys {
			n += int64(len(k)) + 40 // the string, its distance and scores
			if h.Docs != nil && h.Docs[q][i] != nil {
				n += int64(len(*h.Docs[q][i]))
			}
		}
	}
	for _, v := range h.Vectors {
		n += int64(len(v)) * 4
	}
	return n
}
