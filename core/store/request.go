package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/monitor"
)

// The JSON forms of the store's requests, shared by the C ABI and any
// other front end. Unknown fields are errors, so a misspelt option is
// reported instead of ignored.

func decodeStrict(b []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", errs.InvalidArgument, what, err)
	}
	return nil
}

// OpenRequest is the JSON form of Options.
type OpenRequest struct {
	Create        *Config `json:"create"`
	Durability    string  `json:"durability"`
	IntervalMS    int64   `json:"interval_ms"`
	ReadOnly      bool    `json:"read_only"`
	Key           string  `json:"key"`
	KeyFile       string  `json:"key_file"`
	KeyEnv        string  `json:"key_env"`
	SnapshotEvery int64   `json:"snapshot_every"`
	Recovery      string  `json:"recovery"`
	// Name, Monitor and Cache: monitoring.go, cache.go
	Name    string          `json:"name"`
	Monitor *monitor.Config `json:"monitor"`
	Cache   *CacheConfig    `json:"cache"`
}

// DecodeOpen reads open options (an empty input means the defaults).
func DecodeOpen(b []byte) (Options, error) {
	var r OpenRequest
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &r, "store options"); err != nil {
			return Options{}, err
		}
	}
	d, err := ParseDurability(r.Durability)
	if err != nil {
		return Options{}, err
	}
	if r.IntervalMS < 0 {
		return Options{}, fmt.Errorf("%w: interval_ms must be >= 0", errs.InvalidArgument)
	}
	if r.Create != nil && r.Create.Dim <= 0 {
		return Options{}, fmt.Errorf("%w: dim must be a positive integer, got %d", errs.InvalidArgument, r.Create.Dim)
	}
	key, err := LoadKey(r.Key, r.KeyFile, r.KeyEnv)
	if err != nil {
		return Options{}, err
	}
	rm, err := ParseRecovery(r.Recovery)
	if err != nil {
		return Options{}, err
	}
	o := Options{Create: r.Create, Durability: d, Interval: time.Duration(r.IntervalMS) * time.Millisecond,
		ReadOnly: r.ReadOnly, Key: key, SnapshotEvery: r.SnapshotEvery, Recovery: rm, Name: r.Name}
	if r.Monitor != nil {
		if r.Monitor.WindowSeconds < 0 || r.Monitor.RecallSamples < 0 || math.IsNaN(r.Monitor.RecallPerSecond) || r.Monitor.WindowSeconds > 86400 {
			return Options{}, fmt.Errorf("%w: monitor: window_s must be in [0, 86400] and recall_samples >= 0", errs.InvalidArgument)
		}
		o.Monitor = *r.Monitor
	}
	if r.Cache != nil {
		if r.Cache.Entries < 0 || r.Cache.TTLSeconds < 0 || math.IsNaN(r.Cache.TTLSeconds) || r.Cache.Entries > 1<<24 {
			return Options{}, fmt.Errorf("%w: cache: entries must be in [0, 2^24] and ttl_s >= 0", errs.InvalidArgument)
		}
		o.Cache = *r.Cache
	}
	return o, nil
}

// DecodeRecords reads the JSON part of a write:
// {"ids": [...], "documents": [...], "metadatas": [...]}; documents and
// metadatas may be absent or null, and so may any element of them.
func DecodeRecords(b []byte) (Batch, error) {
	var r struct {
		IDs   []string         `json:"ids"`
		Docs  []*string        `json:"documents"`
		Metas []map[string]any `json:"metadatas"`
	}
	if err := decodeStrict(b, &r, "records"); err != nil {
		return Batch{}, err
	}
	if r.IDs == nil {
		return Batch{}, fmt.Errorf("%w: records need ids", errs.InvalidArgument)
	}
	bt := Batch{Keys: r.IDs, Docs: r.Docs}
	if r.Metas != nil {
		bt.Metas = make([]Meta, len(r.Metas))
		for i, m := range r.Metas {
			nm, err := normalize(m, fmt.Sprintf("metadatas[%d]", i))
			if err != nil {
				return Batch{}, err
			}
			bt.Metas[i] = nm
		}
	}
	return bt, nil
}

// Query is the JSON form of Get, Search and Delete requests.
type Query struct {
	IDs           []string `json:"ids"`
	Where         any      `json:"where"`
	WhereDocument any      `json:"where_document"`
	Limit         int      `json:"limit"`
	Offset        int      `json:"offset"`
	K             int      `json:"k"`
	Ef            int      `json:"ef"`
	Include       []string `json:"include"`
	Texts         []string `json:"texts"`
	Plan          string   `json:"plan"` // force a plan (planner.go)
	Ranking
}

// DecodeQuery reads a query; include defaults to documents and metadatas.
func DecodeQuery(b []byte) (*Query, Include, error) {
	q := &Query{}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, q, "query"); err != nil {
			return nil, Include{}, err
		}
	}
	inc := Include{Documents: true, Metadatas: true}
	if q.Include != nil {
		inc = Include{}
		for _, f := range q.Include {
			switch f {
			case "documents":
				inc.Documents = true
			case "metadatas":
				inc.Metadatas = true
			case "embeddings":
				inc.Embeddings = true
			case "distances": // always returned by a search
			default:
				return nil, Include{}, fmt.Errorf("%w: include: unknown field %q (known: documents, metadatas, embeddings, distances)", errs.InvalidArgument, f)
			}
		}
	}
	if q.Limit < 0 || q.Offset < 0 || q.Ef < 0 {
		return nil, Include{}, fmt.Errorf("%w: limit, offset and ef must be >= 0", errs.InvalidArgument)
	}
	return q, inc, nil
}

// Info describes an open store.
type Info struct {
	Path       string          `json:"path"`
	Dim        int             `json:"dim"`
	Metric     string          `json:"metric"`
	Params     json.RawMessage `json:"metric_params,omitempty"`
	Index      json.RawMessage `json:"index"`
	Count      int             `json:"count"`
	LastSeq    uint64          `json:"last_seq"`
	Encrypted  bool            `json:"encrypted"`
	ReadOnly   bool            `json:"read_only"`
	Durability string          `json:"durability"`
	Snapshot   uint64          `json:"snapshot_seq"`
	ID         string          `json:"id"`
	// Phase is "exact" while a trained index type waits for TrainAfter
	// records (searches are exact), "indexed" otherwise.
	Phase      string   `json:"phase"`
	TrainAfter int      `json:"train_after,omitempty"`
	TrainError string   `json:"train_error,omitempty"`
	Recovery   Recovery `json:"recovery"`
}

// Info reports the store's configuration and state.
func (s *Store) Info() Info {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Info{Path: s.dir, Dim: s.cfg.Dim, Metric: s.cfg.Metric, Params: s.cfg.MetricParams, Index: s.cfg.Index,
		Count: s.tab.live(), LastSeq: s.lastSeq, Encrypted: s.man.Encrypted, ReadOnly: s.opts.ReadOnly,
		Durability: [...]string{"always", "interval", "never"}[s.opts.Durability], Snapshot: s.man.SnapshotSeq, ID: s.man.ID,
		Phase: s.phase(), TrainAfter: s.train.after, TrainError: errText(s.train.err), Recovery: s.report}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// DecodeRestore reads restore options: {"until_seq": n} or
// {"until_time_ns": t} (neither: the latest state), key_file, key_env.
func DecodeRestore(b []byte) (*Until, []byte, error) {
	var r struct {
		Seq     *uint64 `json:"until_seq"`
		TimeNS  *int64  `json:"until_time_ns"`
		Key     string  `json:"key"`
		KeyFile string  `json:"key_file"`
		KeyEnv  string  `json:"key_env"`
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &r, "restore options"); err != nil {
			return nil, nil, err
		}
	}
	var u *Until
	switch {
	case r.Seq != nil && r.TimeNS != nil:
		return nil, nil, fmt.Errorf("%w: give until_seq or until_time_ns, not both", errs.InvalidArgument)
	case r.Seq != nil:
		if *r.Seq == 0 {
			return nil, nil, fmt.Errorf("%w: until_seq counts changes from 1", errs.InvalidArgument)
		}
		u = &Until{Seq: *r.Seq}
	case r.TimeNS != nil:
		u = &Until{Time: *r.TimeNS}
	}
	key, err := LoadKey(r.Key, r.KeyFile, r.KeyEnv)
	if err != nil {
		return nil, nil, err
	}
	return u, key, nil
}
