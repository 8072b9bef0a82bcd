package pq

import "github.com/oxvec/oxvec/core/index"

// Verify implements index.Verifier: the codebook is m x 2^nbits centroids
// of dim/m values once trained, and nothing is stored before; one code of
// the code size per row; the id mapping is a bijection of the rows with
// ids in [0, next_id).
func (p *PQ) Verify() error {
	p.RLock()
	defer p.RUnlock()
	if p.Closed() {
		return nil
	}
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	cb, n := p.cb, p.ids.Len()
	if cb.M*cb.DSub != p.Dim() || cb.KSub != 1<<cb.NBits {
		return broken("codebook shape m %d x %d values, %d centroids of %d bits, dim %d", cb.M, cb.DSub, cb.KSub, cb.NBits, p.Dim())
	}
	if cb.Trained() && len(cb.Centroids) != cb.M*cb.KSub*cb.DSub {
		return broken("codebook holds %d values, needs %d", len(cb.Centroids), cb.M*cb.KSub*cb.DSub)
	}
	if !cb.Trained() && n > 0 {
		return broken("untrained, with %d vectors", n)
	}
	if len(p.codes) != n*cb.CodeSize {
		return broken("%d code bytes for %d rows of %d", len(p.codes), n, cb.CodeSize)
	}
	return p.ids.Verify(TypeName)
}
