package index

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/metric"
)

// Meta is the part of a saved index's "meta" section every type shares:
// its section layout version, its dim and its metric. Types embed it in
// their own meta struct (the JSON fields stay at the top level); a type
// whose meta has no layout field (opq) uses layout 0, which is left out.
type Meta struct {
	Layout int `json:"layout,omitempty"`
	Dim    int `json:"dim"`
	metric.Stored
}

// SaveWith is the body of every Save: under the shared lock (errs.Closed
// on a closed index) it starts the container of an index of type typeName
// whose sections have layout version layout and writes the metric's own
// sections; write then adds the "meta" section (WriteMeta, embedding head,
// the shared fields) and the type's sections (format.Put), and SaveWith
// closes the container. The writer's errors are sticky: write returns
// only errors of its own.
func (b *Base) SaveWith(w io.Writer, typeName string, layout int, write func(fw *format.Writer, head Meta) error) error {
	if err := b.RLockOpen(); err != nil {
		return err
	}
	defer b.RUnlock()
	fw, err := format.NewWriter(w, typeName)
	if err != nil {
		return err
	}
	if err := write(fw, Meta{Layout: layout, Dim: b.dim, Stored: b.metric.Store(fw)}); err != nil {
		return err
	}
	return fw.Close()
}

// WriteMeta adds the "meta" section: v, the type's meta struct, as JSON.
func WriteMeta(fw *format.Writer, v any) error {
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: encoding meta: %v", errs.Internal, err)
	}
	return fw.Bytes("meta", js)
}

// Sections reads a saved index's sections for its loader: ReadMeta first,
// then each section through Section, Floats or Mapped, which check its
// checksum and that it holds exactly the values the meta section implies
// before the loader copies or allocates anything by it. Errors are sticky:
// after the first one every read returns nil and Err reports it.
type Sections struct {
	file    *format.File
	what    string // the type name, for errors
	mapping bool   // Mapped maps (Map was called)
	err     error
}

// AnyRows asks Section for any whole number of rows (a count that only
// other sections determine, such as the ids of inverted lists).
const AnyRows = -1

// ReadMeta decodes file's "meta" section into v, the type's meta struct,
// checks the shared fields (the layout version against layout, the dim,
// and where the type has them a count and a next_id that are not
// negative) and returns the reader of the other sections and the metric,
// bound.
func ReadMeta(file *format.File, typeName string, layout int, v any) (*Sections, *metric.Metric, error) {
	raw, err := file.Section("meta", true)
	if err != nil {
		return nil, nil, err
	}
	var head struct {
		Meta
		Count  int   `json:"count"`
		NextID int64 `json:"next_id"`
	}
	if err := json.Unmarshal(raw, &head); err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s meta section: %v", errs.Corrupt, typeName, err)
	}
	if head.Layout != layout {
		return nil, nil, fmt.Errorf("%w: %s layout version %d, this build reads %d", errs.Unsupported, typeName, head.Layout, layout)
	}
	if head.Dim < 1 || head.Dim > MaxDim {
		return nil, nil, fmt.Errorf("%w: %s dim %d", errs.Corrupt, typeName, head.Dim)
	}
	if head.Count < 0 || head.NextID < 0 {
		return nil, nil, fmt.Errorf("%w: %s count %d, next_id %d", errs.Corrupt, typeName, head.Count, head.NextID)
	}
	bound, err := metric.Restore(file, head.Stored, head.Dim)
	if err != nil {
		return nil, nil, err
	}
	return &Sections{file: file, what: typeName}, bound, nil
}

// Loader makes the Factory.Load of a type from its loader of sections:
// it decodes the "meta" section into a new M (ReadMeta, with the type's
// name and layout version) and hands load the reader of the other
// sections, the decoded meta and the bound metric.
func Loader[M any](typeName string, layout int, load func(r *Sections, m *M, bound *metric.Metric) (Index, error)) func(*format.File) (Index, error) {
	return func(file *format.File) (Index, error) {
		m := new(M)
		r, bound, err := ReadMeta(file, typeName, layout, m)
		if err != nil {
			return nil, err
		}
		return load(r, m, bound)
	}
}

// Err is the first error of a read, or nil.
func (s *Sections) Err() error { return s.err }

// Corrupt is the errs.Corrupt error of a loader's own check, naming the
// type.
func (s *Sections) Corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: %s: "+format, append([]any{errs.Corrupt, s.what}, a...)...)
}

// File is the container the sections come from.
func (s *Sections) File() *format.File { return s.file }

// Section returns section tag, checksum verified, as rows x width values
// of T (rows AnyRows: any whole number of rows). A section of another
// size, or a negative rows, is errs.Corrupt. The values alias the file's
// bytes (format.File.Section).
func Section[T format.Number](s *Sections, tag string, rows, width int) []T {
	if s.err != nil {
		return nil
	}
	raw, err := s.file.Section(tag, true)
	return sized[T](s, tag, raw, err, rows, width)
}

// Map makes Mapped map sections (format.File.Map) instead of reading
// them: for a loader that searches the file in place and owns it from
// then on (Factory.Map).
func (s *Sections) Map() { s.mapping = true }

// Mapped is Section for a section an index may search in place: mapped
// after Map, read otherwise, and its checksum verified only with verify
// (on a mapped file that reads every page).
func Mapped[T format.Number](s *Sections, tag string, rows, width int, verify bool) []T {
	if s.err != nil {
		return nil
	}
	var raw []byte
	var err error
	if s.mapping {
		raw, err = s.file.Map(tag, verify)
	} else {
		raw, err = s.file.Section(tag, verify)
	}
	return sized[T](s, tag, raw, err, rows, width)
}

// Floats is Section for float32 values that must all be finite (vectors,
// centroids, ranges): a NaN or an infinity is errs.Corrupt.
func Floats(s *Sections, tag string, rows, width int) []float32 {
	v := Section[float32](s, tag, rows, width)
	if s.err == nil {
		if err := CheckFinite(v, width, "stored values"); err != nil {
			s.err = fmt.Errorf("%w: %s section %q: %v", errs.Corrupt, s.what, tag, err)
			return nil
		}
	}
	return v
}

// sized views raw as T and checks its shape.
func sized[T format.Number](s *Sections, tag string, raw []byte, err error, rows, width int) []T {
	var v []T
	if err == nil {
		v, err = format.View[T](raw)
	}
	if err == nil && (width < 1 || rows < AnyRows || len(v)%width != 0 || (rows != AnyRows && len(v)/width != rows)) {
		want := fmt.Sprintf("%d rows of %d", rows, width)
		if rows == AnyRows {
			want = fmt.Sprintf("whole rows of %d", width)
		}
		err = fmt.Errorf("%w: %s section %q holds %d values, the meta section says %s", errs.Corrupt, s.what, tag, len(v), want)
	}
	if err != nil {
		s.err = err
		return nil
	}
	return v
}
