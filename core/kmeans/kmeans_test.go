package kmeans

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// blobs returns n points around k well separated centres, and each point's centre.
func blobs(n, k, dim int, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float32, k*dim)
	for i := range centres {
		centres[i] = float32(r.NormFloat64() * 10)
	}
	x, lab := make([]float32, n*dim), make([]int, n)
	for i := range n {
		lab[i] = r.IntN(k)
		for j := range dim {
			x[i*dim+j] = centres[lab[i]*dim+j] + float32(r.NormFloat64()*0.1)
		}
	}
	return x, lab
}

func nearestOf(c []float32, dim int, p []float32) int {
	best, bd := -1, math.Inf(1)
	for i := 0; i < len(c)/dim; i++ {
		if d := sq(p, c[i*dim:(i+1)*dim]); d < bd {
			best, bd = i, d
		}
	}
	return best
}

func TestTrain_FindsSeparatedClusters(t *testing.T) {
	const n, k, dim = 4000, 16, 8
	x, lab := blobs(n, k, dim, 3)
	res, err := Train(context.Background(), x, dim, Params{K: k})
	if err != nil {
		t.Fatal(err)
	}
	// every true cluster maps to exactly one centroid
	m := map[int]int{}
	for i := range n {
		c := nearestOf(res.Centroids, dim, x[i*dim:(i+1)*dim])
		if prev, ok := m[lab[i]]; ok && prev != c {
			t.Fatalf("cluster %d split between centroids %d and %d", lab[i], prev, c)
		}
		m[lab[i]] = c
	}
	if len(m) != k {
		t.Fatalf("%d clusters found", len(m))
	}
	total := 0
	for _, s := range res.Sizes {
		if s == 0 {
			t.Fatal("empty cluster left")
		}
		total += s
	}
	if total != n {
		t.Fatalf("sizes sum to %d", total)
	}
}

func TestTrain_IsReproducibleFromTheSeed(t *testing.T) {
	x, _ := blobs(3000, 10, 6, 5)
	a, _ := Train(context.Background(), x, 6, Params{K: 10, Seed: 7})
	b, _ := Train(context.Background(), x, 6, Params{K: 10, Seed: 7})
	for i := range a.Centroids {
		if a.Centroids[i] != b.Centroids[i] {
			t.Fatal("same seed, different centroids")
		}
	}
}

func TestTrain_RepairsEmptyClustersAndRejectsTooFewPoints(t *testing.T) {
	// 64 points on only 4 distinct positions, 8 clusters: seeding must pick
	// duplicates, whose clusters empty and get split back in
	x := make([]float32, 64*2)
	for i := range 64 {
		x[2*i], x[2*i+1] = float32(i%4), float32(i%4*3)
	}
	res, err := Train(context.Background(), x, 2, Params{K: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Centroids) != 16 {
		t.Fatal("wrong centroid count")
	}
	for _, v := range res.Centroids {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN centroid")
		}
	}
	if _, err := Train(context.Background(), x[:10], 2, Params{K: 8}); err == nil {
		t.Fatal("5 points for 8 clusters accepted")
	}
}

func TestTrain_SamplesLargeInputs(t *testing.T) {
	x, _ := blobs(20000, 4, 4, 9)
	res, err := Train(context.Background(), x, 4, Params{K: 4, MaxPerCentroid: 100})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range res.Sizes {
		total += s
	}
	if total != 400 {
		t.Fatalf("trained on %d points, want the 400 sampled", total)
	}
}

func TestNearest_SmallDimsAgreeWithBruteForce(t *testing.T) {
	for _, dim := range []int{1, 4, 8, 13} {
		r := rand.New(rand.NewPCG(uint64(dim), 2))
		c, x := make([]float32, 256*dim), make([]float32, 1003*dim) // 1003: a last group of 3 points
		for i := range c {
			c[i] = float32(r.NormFloat64())
		}
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		assign, dist := make([]int64, 1003), make([]float32, 1003)
		if err := Nearest(context.Background(), c, x, dim, assign, dist); err != nil {
			t.Fatal(err)
		}
		for i := range assign {
			p := x[i*dim : (i+1)*dim]
			want := nearestOf(c, dim, p)
			got, dw := sq(p, c[int(assign[i])*dim:(int(assign[i])+1)*dim]), sq(p, c[want*dim:(want+1)*dim])
			if got > dw+1e-4 { // another centroid only on a float32 near-tie
				t.Fatalf("dim %d point %d: centroid %d at %v, nearest is %d at %v", dim, i, assign[i], got, want, dw)
			}
			if math.Abs(float64(dist[i])-got) > 1e-3*(1+got) {
				t.Fatalf("dim %d point %d: distance %v, want %v", dim, i, dist[i], got)
			}
		}
	}
}
