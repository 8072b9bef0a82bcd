package ivf

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// A learned search policy (learned adaptive early termination, Li, Zhang,
// Andersen, He, SIGMOD 2020): one nprobe for all queries is too much for
// easy ones and too little for hard ones, so a search for a target recall
// probes the first policyStart cells, reads features of what it has seen
// (how far the nearest centroids are, how they spread, how far the first
// and the k-th result found so far are) and lets a model say how many
// cells this query needs.
//
// For each target recall r of a grid there is a model, linear in those
// features, of log2 of the cells a query needs for its own recall to
// reach r (r = 1: to find all its true k nearest, the paper's target; the
// paper uses gradient-boosted trees, a linear model on log features is
// the start it suggests). A query gets 2^(prediction + shift[r]) cells,
// at most cap[r] (the most any training query needed), where shift[r] is
// calibrated on the training queries so that their mean recall reaches
// r; targets between grid points interpolate the two neighbours'
// predictions.
// Training needs exact neighbours: the index searches its own lists
// exhaustively (exact for IVF-Flat) for each sample query.

// policyStart is the cells probed before the features are read.
const policyStart = 2

// policyTargets are the recalls the shifts are calibrated for.
var policyTargets = []float32{0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 1}

// nFeatures: bias, log c1, log(c_j/c1) for j = 2, 4, 8, 16, log(r1/c1),
// log(rk/c1), log(rk/r1), found < k, log(rk/c_j) and log(r1/c_j) for
// j = 3, 5 (is what was found already nearer than the next cells?).
const nFeatures = 14

// policy is a trained model; immutable once made (searches read it
// without a lock of its own).
type policy struct {
	k       int       // the k it was trained for (features use the k-th result)
	targets []float32 // increasing recalls in (0, 1]
	weights []float32 // per target, nFeatures
	shifts  []float32 // per target, added to the prediction (log2 cells)
	caps    []float32 // per target, the most cells a query gets
}

// features writes a query's features: cd are its nearest cells' coarse
// distances in increasing order (at least policyStart of them), found the
// distances of the results after policyStart cells (a heap's values, any
// order), k the results asked for.
func features(cd []float32, found []float32, k int, out []float32) {
	const eps = 1e-12
	lg := func(v float32) float32 { return float32(math.Log2(math.Max(float64(v), eps))) }
	c1 := max(cd[0], 0) + eps
	out[0], out[1] = 1, lg(c1)
	for i, j := range []int{2, 4, 8, 16} {
		out[2+i] = lg((max(cd[min(j, len(cd))-1], 0) + eps) / c1)
	}
	r1, rk := float32(math.Inf(1)), float32(0)
	for _, v := range found {
		r1, rk = min(r1, v), max(rk, v)
	}
	if len(found) == 0 {
		r1, rk = c1*64, c1*64
	}
	out[6], out[7], out[8] = lg((max(r1, 0)+eps)/c1), lg((max(rk, 0)+eps)/c1), lg((max(rk, 0)+eps)/(max(r1, 0)+eps))
	out[9] = 0
	if len(found) < k {
		out[9] = 1
	}
	for i, j := range []int{3, 5} {
		cj := max(cd[min(j, len(cd))-1], 0) + eps
		out[10+2*i], out[11+2*i] = lg((max(rk, 0)+eps)/cj), lg((max(r1, 0)+eps)/cj)
	}
}

// cells is how many cells a query with features f gets for target recall
// r: the neighbouring targets' predictions interpolated, at least
// policyStart, at most the target's cap and nlist.
func (p *policy) cells(f []float32, r float32, nlist int) int {
	t := p.targets
	i := 0
	for i < len(t)-1 && t[i+1] < r {
		i++
	}
	j, a := i, float32(0)
	if r > t[i] && i+1 < len(t) {
		j, a = i+1, (r-t[i])/(t[i+1]-t[i])
	}
	y := (1-a)*p.predict(i, f) + a*p.predict(j, f)
	cp := (1-a)*p.caps[i] + a*p.caps[j]
	c := math.Ceil(math.Exp2(float64(y)))
	return int(max(float64(min(policyStart, nlist)), min(float64(nlist), float64(cp), c)))
}

// predict is target i's log2 cells for features f, shift included.
func (p *policy) predict(i int, f []float32) float32 {
	y := p.shifts[i]
	for j, w := range p.weights[i*nFeatures : (i+1)*nFeatures] {
		y += w * f[j]
	}
	return y
}

// TrainPolicy learns the search policy from sample queries (nq x dim, ones
// like those the index will serve: not its own vectors, whose nearest
// neighbour is themselves) for searches of k results, and keeps it with
// the index (saved with it). It replaces an earlier policy; adds and
// removes later do not retrain it. At least 50 queries.
func (x *IVF) TrainPolicy(ctx context.Context, queries []float32, k int) error {
	d := x.Dim()
	nq, err := index.Rows(queries, d, "sample queries")
	if err != nil {
		return err
	}
	if k < 1 || k > 1000 {
		return fmt.Errorf("%w: a policy is trained for 1 <= k <= 1000, got %d", errs.InvalidArgument, k)
	}
	if nq < 50 {
		return fmt.Errorf("%w: training a search policy needs at least 50 sample queries, got %d", errs.InvalidArgument, nq)
	}
	if err := index.CheckFinite(queries, d, "sample queries"); err != nil {
		return err
	}
	if !x.Trained() {
		return x.notTrained("training a search policy of")
	}
	n := x.Len()
	if n < k {
		return fmt.Errorf("%w: the index holds %d vectors, fewer than k = %d; add the data before training the policy", errs.State, n, k)
	}
	// exact neighbours: every list
	truth, tdist := make([]int64, nq*k), make([]float32, nq*k)
	if err := x.Search(ctx, queries, k, &index.SearchParams{NProbe: x.nlist}, truth, tdist); err != nil {
		return err
	}
	prepared, err := x.Bound().PrepareCopy(queries, "sample queries")
	if err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	cellOf := map[int64]int{}
	for _, id := range truth {
		cellOf[id] = -1
	}
	for c, l := range x.lists {
		for _, id := range l.ids {
			if _, ok := cellOf[id]; ok {
				cellOf[id] = c
			}
		}
	}
	order, od := make([]int64, x.nlist), make([]float32, x.nlist)
	feats := make([]float32, nq*nFeatures)
	need := make([]float64, nq)  // log2 of the cells to find all k
	ranks := make([][]int32, nq) // per query: the cell rank of each true neighbour, sorted
	ks := kernels.Current()
	sc := x.scratch.Get()
	var h index.TopK
	hd, hi := make([]float32, k), make([]int64, k)
	var found []float32
	l2 := x.Bound().Class() == metric.ClassL2
	for q := range nq {
		row := prepared[q*d : (q+1)*d]
		if err := x.quant.Search(ctx, row, x.nlist, order, od); err != nil {
			x.RUnlock()
			return err
		}
		rank := make(map[int64]int32, x.nlist)
		for i, c := range order {
			rank[c] = int32(i)
		}
		rs := make([]int32, 0, k)
		for _, id := range truth[q*k : (q+1)*k] {
			if c := cellOf[id]; id >= 0 && c >= 0 {
				rs = append(rs, rank[int64(c)])
			}
		}
		slices.Sort(rs)
		ranks[q] = rs
		h.Reset(hd, hi)
		start := min(policyStart, x.nlist)
		x.scanCells(ks, sc, row, order[:start], nil, &h)
		found = x.policyValues(found, hd[:h.Len()], l2)
		features(od[:start+min(16, x.nlist-start)], found, k, feats[q*nFeatures:(q+1)*nFeatures])
	}
	x.scratch.Put(sc)
	x.RUnlock()
	nt := len(policyTargets)
	p := &policy{k: k, targets: policyTargets, weights: make([]float32, 0, nt*nFeatures), shifts: make([]float32, nt), caps: make([]float32, nt)}
	need, pred := make([]float64, nq), make([]float64, nq)
	for i, t := range policyTargets {
		// the cells query q needs for its recall to reach t
		want := int(math.Ceil(float64(t)*float64(k) - 1e-9))
		most := 0.0
		for q, rs := range ranks {
			c := float64(x.nlist)
			if want <= len(rs) && want > 0 {
				c = float64(rs[want-1] + 1)
			}
			need[q], most = math.Log2(c), max(most, c)
		}
		w := leastSquares(feats, need, nFeatures, 1e-3)
		p.weights = append(p.weights, w...)
		for q := range nq {
			pred[q] = 0
			for j, wj := range w {
				pred[q] += float64(wj * feats[q*nFeatures+j])
			}
		}
		p.caps[i] = float32(max(most, policyStart))
		p.shifts[i] = calibrate(pred, ranks, k, float64(t), min(x.nlist, int(p.caps[i])))
	}
	x.Lock()
	defer x.Unlock()
	if x.Closed() {
		return errs.Closed
	}
	x.policy = p
	return nil
}

// meanRecall is the training queries' mean recall when query q gets
// 2^(pred[q]+shift) cells: the share of its true neighbours whose cell is
// among them.
func meanRecall(pred []float64, ranks [][]int32, k int, shift float64, nlist int) float64 {
	var s float64
	for q, rs := range ranks {
		c := int32(max(float64(min(policyStart, nlist)), min(float64(nlist), math.Ceil(math.Exp2(pred[q]+shift)))))
		hit, _ := slices.BinarySearch(rs, c) // ranks below c
		s += float64(hit) / float64(k)
	}
	return s / float64(len(ranks))
}

// calibrate returns the smallest shift (to 1/64 of a doubling) whose mean
// recall reaches target, or the shift that probes every cell.
func calibrate(pred []float64, ranks [][]int32, k int, target float64, nlist int) float32 {
	lo, hi := -32.0, 32.0
	if meanRecall(pred, ranks, k, hi, nlist) < target {
		return float32(hi)
	}
	for hi-lo > 1.0/64 {
		mid := (lo + hi) / 2
		if meanRecall(pred, ranks, k, mid, nlist) >= target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return float32(hi)
}

// leastSquares solves min |X w - y|^2 + lambda |w|^2 for the n x m rows X
// by the normal equations (m is small) with Gaussian elimination.
func leastSquares(X []float32, y []float64, m int, lambda float64) []float32 {
	a := make([]float64, m*(m+1)) // [X'X + lambda I | X'y]
	n := len(y)
	for r := range n {
		row := X[r*m : (r+1)*m]
		for i := range m {
			for j := range m {
				a[i*(m+1)+j] += float64(row[i]) * float64(row[j])
			}
			a[i*(m+1)+m] += float64(row[i]) * y[r]
		}
	}
	for i := range m {
		a[i*(m+1)+i] += lambda * float64(n)
	}
	for c := range m {
		p := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r*(m+1)+c]) > math.Abs(a[p*(m+1)+c]) {
				p = r
			}
		}
		for j := range m + 1 {
			a[c*(m+1)+j], a[p*(m+1)+j] = a[p*(m+1)+j], a[c*(m+1)+j]
		}
		if a[c*(m+1)+c] == 0 {
			continue
		}
		for r := range m {
			if r == c {
				continue
			}
			f := a[r*(m+1)+c] / a[c*(m+1)+c]
			for j := c; j <= m; j++ {
				a[r*(m+1)+j] -= f * a[c*(m+1)+j]
			}
		}
	}
	w := make([]float32, m)
	for i := range m {
		if v := a[i*(m+1)+i]; v != 0 {
			w[i] = float32(a[i*(m+1)+m] / v)
		}
	}
	return w
}

// HasPolicy reports whether a search policy is trained.
func (x *IVF) HasPolicy() bool {
	x.RLock()
	defer x.RUnlock()
	return x.policy != nil
}

// encode is the policy's "policy" section: k, the number of features and
// of targets, then the targets, the weights (per target), the shifts and
// the caps; empty for no policy.
func (p *policy) encode() []float32 {
	if p == nil {
		return nil
	}
	out := []float32{float32(p.k), nFeatures, float32(len(p.targets))}
	out = append(out, p.targets...)
	out = append(out, p.weights...)
	out = append(out, p.shifts...)
	return append(out, p.caps...)
}

// decodePolicy reads a "policy" section (finite values, checked by the
// loader): nil for an empty one.
func decodePolicy(v []float32) (*policy, error) {
	if len(v) == 0 {
		return nil, nil
	}
	if len(v) < 3 || v[0] < 1 || v[0] > 1000 || v[0] != float32(int(v[0])) || v[1] != nFeatures || v[2] < 1 || v[2] > 64 || v[2] != float32(int(v[2])) {
		return nil, fmt.Errorf("policy section header %v", v[:min(3, len(v))])
	}
	nt := int(v[2])
	if len(v) != 3+nt*(nFeatures+3) {
		return nil, fmt.Errorf("policy section of %d values for %d targets", len(v), nt)
	}
	k := int(v[0])
	v = v[3:]
	p := &policy{k: k, targets: slices.Clone(v[:nt]), weights: slices.Clone(v[nt : nt+nt*nFeatures])}
	v = v[nt+nt*nFeatures:]
	p.shifts, p.caps = slices.Clone(v[:nt]), slices.Clone(v[nt:])
	for i, t := range p.targets {
		if t <= 0 || t > 1 || (i > 0 && t <= p.targets[i-1]) {
			return nil, fmt.Errorf("policy targets %v not increasing in (0, 1]", p.targets)
		}
	}
	for i := range nt {
		if p.shifts[i] < -64 || p.shifts[i] > 64 || p.caps[i] < 1 || p.caps[i] > 1<<20 {
			return nil, fmt.Errorf("policy shift %g, cap %g", p.shifts[i], p.caps[i])
		}
	}
	for _, w := range p.weights {
		if w < -1e6 || w > 1e6 {
			return nil, fmt.Errorf("policy weight %g", w)
		}
	}
	return p, nil
}
