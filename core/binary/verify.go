package binary

import "github.com/oxvec/oxvec/core/index"

// Verify implements index.Verifier: dim thresholds once trained, and
// nothing stored before; ceil(dim/64) words per code with the bits past
// dim clear (a query's are, so a set one would shift that row's hamming
// counts); dim values per row kept exactly when rerank > 0; the id mapping
// is a bijection of the rows with ids in [0, next_id).
func (b *Binary) Verify() error {
	b.RLock()
	defer b.RUnlock()
	if b.Closed() {
		return nil
	}
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	n := b.ids.Len()
	if b.threshold == nil && n > 0 {
		return broken("untrained, with %d vectors", n)
	}
	if b.threshold != nil && len(b.threshold) != b.Dim() {
		return broken("%d thresholds for dim %d", len(b.threshold), b.Dim())
	}
	if b.words != (b.Dim()+63)/64 || len(b.codes) != n*b.words {
		return broken("%d code words for %d rows of %d words, dim %d", len(b.codes), n, b.words, b.Dim())
	}
	if r := paddedRow(b.codes, b.words, b.Dim()); r >= 0 {
		return broken("row %d has bits set past dim %d", r, b.Dim())
	}
	wantVecs := 0
	if b.rerank > 0 {
		wantVecs = n * b.Dim()
	}
	if len(b.vecs) != wantVecs {
		return broken("%d stored values for %d rows of dim %d, rerank %d", len(b.vecs), n, b.Dim(), b.rerank)
	}
	return b.ids.Verify(TypeName)
}

// paddedRow returns the first row of codes whose last word has a bit set
// past dim, or -1. Loading refuses such a file too.
func paddedRow(codes []uint64, words, dim int) int {
	if dim%64 == 0 || words == 0 {
		return -1
	}
	mask := ^uint64(0) << (dim % 64)
	for r := 0; (r+1)*words <= len(codes); r++ {
		if codes[(r+1)*words-1]&mask != 0 {
			return r
		}
	}
	return -1
}
