// Package probepolicy is the learned search policy of the inverted-file
// indexes (ivf_flat, ivf_pq): learned adaptive early termination (Li,
// Zhang, Andersen, He, SIGMOD 2020). One nprobe for all queries is too
// much for easy ones and too little for hard ones, so a search for a
// target recall probes the first Start cells, reads features of what it
// has seen (how far the nearest centroids are, how they spread, how far
// the first and the k-th result found so far are) and lets a model say
// how many cells this query needs.
//
// For each target recall r of a grid there is a model, linear in those
// features, of log2 of the cells a query needs for its own recall to
// reach r (the paper uses gradient-boosted trees; a linear model on log
// features is the start it suggests). A query gets 2^(prediction +
// shift[r]) cells, at most cap[r], where shift[r] is calibrated so that
// the mean recall of the training queries reaches r with predictions
// made by models that did not see those queries (cross-fitting, see
// Train): a shift fitted on the model's own training queries was
// optimistic and missed the target on held-out queries by 0.02-0.03.
// Targets between grid points interpolate the two neighbours.
//
// The index types supply what only they know: each training query's
// features after Start cells and its Curve, the recall its search reaches
// after each number of cells, computed in one pass over its cells.
package probepolicy

import (
	"fmt"
	"math"
	"slices"
)

// Start is the cells a search probes before the features are read.
const Start = 2

// Lookahead is the coarse distances beyond the first cells the features
// read: a search asks its quantizer for Start+Lookahead cells first.
const Lookahead = 16

// Targets are the recalls the shifts are calibrated for.
var Targets = []float32{0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 1}

// NFeatures: bias, log c1, log(c_j/c1) for j = 2, 4, 8, 16, log(r1/c1),
// log(rk/c1), log(rk/r1), found < k, log(rk/c_j) and log(r1/c_j) for
// j = 3, 5 (is what was found already nearer than the next cells?).
const NFeatures = 14

// Policy is a trained model; immutable once made (searches read it
// without a lock of its own).
type Policy struct {
	k       int       // the k it was trained for (features use the k-th result)
	targets []float32 // increasing recalls in (0, 1]
	weights []float32 // per target, NFeatures
	shifts  []float32 // per target, added to the prediction (log2 cells)
	caps    []float32 // per target, the most cells a query gets
}

// K is the number of results the policy was trained for.
func (p *Policy) K() int { return p.k }

// Features writes a query's features into out (NFeatures): cd are its
// nearest cells' coarse distances in increasing order (at least Start of
// them, up to Start+Lookahead), found the distances of its results after
// Start cells (a heap's values in any order, >= 0 near the query), k the
// results asked for.
func Features(cd []float32, found []float32, k int, out []float32) {
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

// Cells is how many cells a query with features f gets for target recall
// r: the neighbouring targets' predictions interpolated, at least Start,
// at most the target's cap and nlist.
func (p *Policy) Cells(f []float32, r float32, nlist int) int {
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
	return clampCells(math.Ceil(math.Exp2(float64(y))), float64(cp), nlist)
}

// clampCells bounds a predicted number of cells to [Start, min(cap, nlist)].
func clampCells(c, cp float64, nlist int) int {
	return int(max(float64(min(Start, nlist)), min(float64(nlist), cp, c)))
}

// predict is target i's log2 cells for features f, shift included.
func (p *Policy) predict(i int, f []float32) float32 {
	y := p.shifts[i]
	for j, w := range p.weights[i*NFeatures : (i+1)*NFeatures] {
		y += w * f[j]
	}
	return y
}

// Encode is the policy as the float32 section an index saves: k, the
// number of features and of targets, then the targets, the weights (per
// target), the shifts and the caps; empty for no policy.
func (p *Policy) Encode() []float32 {
	if p == nil {
		return nil
	}
	out := []float32{float32(p.k), NFeatures, float32(len(p.targets))}
	out = append(out, p.targets...)
	out = append(out, p.weights...)
	out = append(out, p.shifts...)
	return append(out, p.caps...)
}

// Decode reads a section written by Encode (finite values, checked by the
// loader): nil for an empty one.
func Decode(v []float32) (*Policy, error) {
	if len(v) == 0 {
		return nil, nil
	}
	if len(v) < 3 || v[0] < 1 || v[0] > 1000 || v[0] != float32(int(v[0])) || v[1] != NFeatures || v[2] < 1 || v[2] > 64 || v[2] != float32(int(v[2])) {
		return nil, fmt.Errorf("policy section header %v", v[:min(3, len(v))])
	}
	nt := int(v[2])
	if len(v) != 3+nt*(NFeatures+3) {
		return nil, fmt.Errorf("policy section of %d values for %d targets", len(v), nt)
	}
	k := int(v[0])
	v = v[3:]
	p := &Policy{k: k, targets: slices.Clone(v[:nt]), weights: slices.Clone(v[nt : nt+nt*NFeatures])}
	v = v[nt+nt*NFeatures:]
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

// Verify reports a policy whose parts do not fit together (for an index's
// Verify).
func (p *Policy) Verify() error {
	if p == nil {
		return nil
	}
	nt := len(p.targets)
	if nt == 0 || len(p.weights) != nt*NFeatures || len(p.shifts) != nt || len(p.caps) != nt {
		return fmt.Errorf("policy of %d targets, %d weights, %d shifts, %d caps", nt, len(p.weights), len(p.shifts), len(p.caps))
	}
	return nil
}
