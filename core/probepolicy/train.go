package probepolicy

import (
	"fmt"
	"math"
	"slices"

	"github.com/oxvec/oxvec/core/errs"
)

// Curve is one training query's recall as a function of the cells its
// search probes, a step function: Recall[i] from Cells[i] cells on
// (Cells increasing, >= 1), 0 before Cells[0]. The index computes it in
// one pass over the query's cells in centroid order, not one search per
// nprobe.
type Curve struct {
	Cells  []int32
	Recall []float32
}

// At is the recall after c cells.
func (c *Curve) At(cells int) float32 {
	i, _ := slices.BinarySearch(c.Cells, int32(cells)+1) // steps at <= cells
	if i == 0 {
		return 0
	}
	return c.Recall[i-1]
}

// need is the fewest cells whose recall reaches t, nlist if none does.
func (c *Curve) need(t float32, nlist int) int {
	for i, r := range c.Recall {
		if r >= t {
			return int(c.Cells[i])
		}
	}
	return nlist
}

// Add records that the recall is r from cells cells on (cells at or
// after the last step's); a step that changes nothing is dropped.
func (c *Curve) Add(cells int, r float32) {
	n := len(c.Recall)
	if n > 0 && c.Recall[n-1] == r {
		return
	}
	if n > 0 && int(c.Cells[n-1]) == cells {
		c.Recall[n-1] = r
		return
	}
	c.Cells, c.Recall = append(c.Cells, int32(cells)), append(c.Recall, r)
}

// RankCurve is the curve of an index whose search finds a true neighbour
// exactly when it probes that neighbour's cell (exact vectors, ivf_flat):
// ranks are the cell ranks (0: the nearest cell) of the query's true
// neighbours that are in the index, k the neighbours asked for.
func RankCurve(ranks []int32, k int) Curve {
	r := slices.Clone(ranks)
	slices.Sort(r)
	var c Curve
	for i, rk := range r {
		c.Add(int(rk)+1, float32(i+1)/float32(k))
	}
	return c
}

// folds is the number of parts the training queries are split into for
// cross-fitting.
const folds = 5

// MinQueries is the fewest training queries Train accepts.
const MinQueries = 50

// Train fits the policy for k results on nq training queries: feats holds
// their features (nq rows of NFeatures), curves their recall curves, in an
// index of nlist cells.
//
// Per target t, the model of log2(cells needed for recall t) is fitted on
// all queries; its shift is calibrated on out-of-fold predictions: the
// queries are split into 5 folds, each fold's predictions come from the
// model fitted on the other 4, and the shift is the smallest (to 1/64 of
// a doubling) whose mean recall over all training queries reaches t. So
// the shift corrects the errors of a model on queries it has not seen,
// as it will be used; the final model, fitted on more queries, errs a
// little less, which errs on the side of the target.
func Train(feats []float32, curves []Curve, k, nlist int) (*Policy, error) {
	nq := len(curves)
	if nq < MinQueries || len(feats) != nq*NFeatures {
		return nil, fmt.Errorf("%w: training a search policy needs at least %d sample queries, got %d", errs.InvalidArgument, MinQueries, nq)
	}
	nt := len(Targets)
	p := &Policy{k: k, targets: slices.Clone(Targets), weights: make([]float32, 0, nt*NFeatures), shifts: make([]float32, nt), caps: make([]float32, nt)}
	need, oof := make([]float64, nq), make([]float64, nq)
	rows := make([]int, 0, nq)
	for i, t := range Targets {
		most := 0
		for q := range curves {
			c := curves[q].need(t, nlist)
			need[q], most = math.Log2(float64(c)), max(most, c)
		}
		for f := range folds {
			rows = rows[:0]
			for q := range nq {
				if q%folds != f {
					rows = append(rows, q)
				}
			}
			w := leastSquares(feats, need, rows, 1e-3)
			for q := f; q < nq; q += folds {
				oof[q] = dot(w, feats[q*NFeatures:(q+1)*NFeatures])
			}
		}
		rows = rows[:0]
		for q := range nq {
			rows = append(rows, q)
		}
		p.weights = append(p.weights, leastSquares(feats, need, rows, 1e-3)...)
		p.caps[i] = float32(max(most, Start))
		p.shifts[i] = calibrate(oof, curves, float64(t), float64(p.caps[i]), nlist)
	}
	return p, nil
}

func dot(w []float32, f []float32) float64 {
	var s float64
	for j, v := range w {
		s += float64(v) * float64(f[j])
	}
	return s
}

// meanRecall is the training queries' mean recall when query q gets
// 2^(pred[q]+shift) cells, bounded as a search bounds them.
func meanRecall(pred []float64, curves []Curve, shift, cp float64, nlist int) float64 {
	var s float64
	for q := range curves {
		s += float64(curves[q].At(clampCells(math.Ceil(math.Exp2(pred[q]+shift)), cp, nlist)))
	}
	return s / float64(len(curves))
}

// calibrate returns the smallest shift (to 1/64 of a doubling) whose mean
// recall reaches target, or the shift that gives every query the cap
// when none does.
func calibrate(pred []float64, curves []Curve, target, cp float64, nlist int) float32 {
	lo, hi := -32.0, 32.0
	if meanRecall(pred, curves, hi, cp, nlist) < target {
		return float32(hi)
	}
	for hi-lo > 1.0/64 {
		mid := (lo + hi) / 2
		if meanRecall(pred, curves, mid, cp, nlist) >= target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return float32(hi)
}

// leastSquares solves min |X w - y|^2 + lambda n |w|^2 over the given rows
// of X (rows of NFeatures) by the normal equations (the system is small)
// with Gaussian elimination and partial pivoting.
func leastSquares(X []float32, y []float64, rows []int, lambda float64) []float32 {
	const m = NFeatures
	a := make([]float64, m*(m+1)) // [X'X + lambda n I | X'y]
	for _, r := range rows {
		row := X[r*m : (r+1)*m]
		for i := range m {
			for j := range m {
				a[i*(m+1)+j] += float64(row[i]) * float64(row[j])
			}
			a[i*(m+1)+m] += float64(row[i]) * y[r]
		}
	}
	for i := range m {
		a[i*(m+1)+i] += lambda * float64(len(rows))
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
