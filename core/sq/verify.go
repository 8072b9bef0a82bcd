package sq

import "github.com/oxvec/oxvec/core/index"

// Verify implements index.Verifier: once trained, the range (vmin, vdiff)
// and decode coefficients (a, b) hold dim values and a^2 the weights'
// length, and nothing is stored before; one code of the code size per row;
// the id mapping is a bijection of the rows with ids in [0, next_id).
func (s *SQ) Verify() error {
	s.RLock()
	defer s.RUnlock()
	if s.Closed() {
		return nil
	}
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	n := s.ids.Len()
	if s.a == nil {
		if n > 0 || s.vmin != nil || s.vdiff != nil {
			return broken("untrained, with %d vectors and a range of %d values", n, len(s.vmin))
		}
	} else if len(s.a) != s.Dim() || len(s.b) != s.Dim() || len(s.vmin) != s.Dim() || len(s.vdiff) != s.Dim() || len(s.a2) != s.weightsLen() {
		return broken("range of %d and %d values, coefficients %d, %d and %d, dim %d", len(s.vmin), len(s.vdiff), len(s.a), len(s.b), len(s.a2), s.Dim())
	}
	if len(s.codes) != n*s.codeSize {
		return broken("%d code bytes for %d rows of %d", len(s.codes), n, s.codeSize)
	}
	return s.ids.Verify(TypeName)
}
