package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// The search knobs of SearchParams, by the names they have in a search
// request, a Tuner's Knobs and the JSON of SetParams.
const (
	KnobEf        = "ef"
	KnobNProbe    = "nprobe"
	KnobBeamWidth = "beam_width" // disk graphs: nodes read per search step
)

// MaxBeamWidth is the most nodes a disk graph search step reads at once.
const MaxBeamWidth = 64

// Tuner is implemented by index types whose Search honours knobs of
// SearchParams. A type that is not a Tuner honours none, and a search that
// sets one is an error (CheckKnobs): a knob that silently does nothing
// hides a mistake.
type Tuner interface {
	// Knobs names the knobs Search honours (KnobEf, KnobNProbe). The slice
	// is the type's own: callers do not change it.
	Knobs() []string
	// Knob returns the default of a knob named by Knobs: the value a search
	// that leaves it 0 uses.
	Knob(name string) int
	// SetKnob changes a knob's default for later searches, safely while
	// searches run; v is >= 1 and name one of Knobs (SetParams checks).
	// The default is saved with the index.
	SetKnob(name string, v int) error
}

// KnobsOf returns the knobs idx honours (none for a type that is no Tuner).
func KnobsOf(idx Index) []string {
	if t, ok := idx.(Tuner); ok {
		return t.Knobs()
	}
	return nil
}

// CheckKnobs rejects a search that sets a knob idx does not honour. The C
// ABI and the store call it once per search, before Search.
func CheckKnobs(idx Index, p *SearchParams) error {
	if p == nil || (p.Ef == 0 && p.NProbe == 0 && p.BeamWidth == 0) {
		return nil
	}
	knobs := KnobsOf(idx)
	if p.Ef != 0 && !slices.Contains(knobs, KnobEf) {
		return noKnob(idx, KnobEf, knobs)
	}
	if p.NProbe != 0 && !slices.Contains(knobs, KnobNProbe) {
		return noKnob(idx, KnobNProbe, knobs)
	}
	if p.BeamWidth != 0 && !slices.Contains(knobs, KnobBeamWidth) {
		return noKnob(idx, KnobBeamWidth, knobs)
	}
	return nil
}

func noKnob(idx Index, name string, knobs []string) error {
	has := "it has none"
	if len(knobs) > 0 {
		has = "it takes " + strings.Join(knobs, ", ")
	}
	return fmt.Errorf("%w: a %s index has no search knob %q (%s)", errs.InvalidArgument, idx.Info().Type, name, has)
}

// Knobs returns the current default of every knob idx honours, for Info.
func Knobs(idx Index) map[string]int {
	t, ok := idx.(Tuner)
	if !ok {
		return nil
	}
	out := make(map[string]int, len(t.Knobs()))
	for _, k := range t.Knobs() {
		out[k] = t.Knob(k)
	}
	return out
}

// SetParams changes knob defaults from a JSON object such as {"nprobe": 16}.
// Every name must be a knob of idx and every value an integer >= 1; all are
// checked before any changes.
func SetParams(idx Index, js []byte) error {
	var raw map[string]json.Number
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return fmt.Errorf("%w: parameters must be a JSON object of integers such as {\"nprobe\": 16}", errs.InvalidArgument)
	}
	knobs := KnobsOf(idx)
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	vals := make([]int, len(names))
	for i, k := range names {
		if !slices.Contains(knobs, k) {
			return noKnob(idx, k, knobs)
		}
		v, err := raw[k].Int64()
		if err != nil || v < 1 || v > math.MaxInt32 {
			return fmt.Errorf("%w: %s must be an integer between 1 and %d, got %s", errs.InvalidArgument, k, math.MaxInt32, raw[k])
		}
		vals[i] = int(v)
	}
	t, _ := idx.(Tuner)
	for i, k := range names {
		if err := t.SetKnob(k, vals[i]); err != nil {
			return err
		}
	}
	return nil
}
