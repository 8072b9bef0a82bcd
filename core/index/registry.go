package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/metric"
)

// Factory builds one index type from a JSON spec or from a parsed file.
type Factory struct {
	// New decodes the full JSON spec (use DecodeSpec) and builds an empty
	// index.
	New func(spec []byte) (Index, error)
	// Load rebuilds a saved index from its container; the index may keep
	// the bytes of sections it views (they are the caller's buffer, or
	// read for this load), never the File.
	Load func(f *format.File) (Index, error)
	// Map, when not nil, loads a saved index opened from disk, mapping the
	// sections it searches in place (format.File.Map); verify asks for
	// every checksum to be checked (which reads every page). On success
	// the index owns f and closes it when it no longer uses the mappings;
	// on error the caller closes f.
	Map func(f *format.File, verify bool) (Index, error)
	// InPlace marks a type that lives in its file (diskann: its node
	// blocks stay on disk and searches read them): LoadFileWith opens it
	// through Map whether or not the caller asked for a mapping, because
	// reading the whole file into memory is what the type exists to avoid.
	InPlace bool
}

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes an index type available under name. Index packages call it
// from init; registering a name twice is a programming error.
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("index: type registered twice: " + name)
	}
	registry[name] = f
}

// Types lists the registered type names, sorted.
func Types() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func factory(name string) (Factory, error) {
	regMu.RLock()
	f, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		return Factory{}, fmt.Errorf("%w: unknown index type %q (known: %s)", errs.InvalidArgument, name, strings.Join(Types(), ", "))
	}
	return f, nil
}

// Common holds the spec fields every index type shares. Index types embed it
// in their own spec struct.
type Common struct {
	Type         string          `json:"type"`
	Dim          int             `json:"dim"`
	Metric       string          `json:"metric"`
	MetricParams json.RawMessage `json:"metric_params,omitempty"`
}

// MaxDim bounds the dimension of any index; larger values are almost always
// a transposed array.
const MaxDim = 1 << 16

// Check validates the shared fields and returns the bound metric. An empty
// metric means "l2".
func (c Common) Check() (*metric.Metric, error) {
	if c.Dim < 1 || c.Dim > MaxDim {
		return nil, fmt.Errorf("%w: dim must be between 1 and %d, got %d", errs.InvalidArgument, MaxDim, c.Dim)
	}
	kind := metric.L2
	if c.Metric != "" {
		var err error
		if kind, err = metric.Parse(c.Metric); err != nil {
			return nil, err
		}
	}
	p, err := metric.DecodeParams(c.MetricParams)
	if err != nil {
		return nil, err
	}
	return metric.New(kind, c.Dim, p)
}

// DecodeSpec decodes a JSON spec into v strictly: unknown fields are errors,
// so a misspelt parameter is reported instead of silently ignored.
func DecodeSpec(spec []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(spec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: index spec: %v", errs.InvalidArgument, err)
	}
	return nil
}

// New builds an empty index from a JSON spec such as
// {"type":"flat","dim":128,"metric":"l2"}.
func New(spec []byte) (Index, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(spec, &head); err != nil {
		return nil, fmt.Errorf("%w: index spec is not a JSON object: %v", errs.InvalidArgument, err)
	}
	if head.Type == "" {
		return nil, fmt.Errorf("%w: index spec has no \"type\" (known: %s)", errs.InvalidArgument, strings.Join(Types(), ", "))
	}
	f, err := factory(strings.ToLower(head.Type))
	if err != nil {
		return nil, err
	}
	return f.New(spec)
}

// Load rebuilds an index from the bytes of a saved file. The index may keep
// referring to data (it views bulk sections in place), so the caller must not
// modify data afterwards.
func Load(data []byte) (Index, error) {
	f, err := format.Parse(data)
	if err != nil {
		return nil, err
	}
	fac, err := factory(f.Kind())
	if err != nil {
		return nil, fmt.Errorf("%w: file holds index type %q, which this build does not know", errs.Unsupported, f.Kind())
	}
	return fac.Load(f)
}
