package diskann

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// partitioned is the build under a memory budget, as in the DiskANN
// paper: k-means splits the vectors into k partitions, each vector goes
// into its 2 nearest, each partition's Vamana graph is built in memory
// alone (its vectors copied out, so only one partition's vectors and
// graph are held at a time) and its lists, in global node numbers, are
// written to a scratch file at the node's slot (first or second
// partition). Writing the image then reads each node's two lists, takes
// their union and prunes it back to r on the exact vectors.
type partitioned struct {
	x       *DiskANN
	xv      []float32
	scratch *os.File
	slot    int // bytes of one list slot: count + r neighbours
	medoid  uint32
}

// partitionCount is how many partitions keep one partition's build
// within budget: each holds about 2n/k nodes, each costing its vector
// copy and its list. A quarter of slack covers uneven k-means cells.
func partitionCount(n, dim, r int, budget int64) int {
	per := int64(4*dim) + int64(4*r+32)
	k := int((2*int64(n)*per*5/4 + budget - 1) / budget)
	return max(2, min(k, max(2, n/64)))
}

func (x *DiskANN) buildPartitioned(ctx context.Context, xv []float32, n int) (*partitioned, error) {
	dim, r := x.Dim(), x.p.R
	k := partitionCount(n, dim, r, x.p.BuildMemory)
	rows := min(n, 256*k)
	sample := make([]float32, rows*dim)
	rng := rand.New(rand.NewPCG(x.p.Seed, 23))
	for i := range rows {
		src := i
		if n > rows {
			src = rng.IntN(n)
		}
		copy(sample[i*dim:(i+1)*dim], xv[src*dim:(src+1)*dim])
	}
	res, err := kmeans.Train(ctx, sample, dim, kmeans.Params{K: k, Seed: x.p.Seed})
	if err != nil {
		return nil, err
	}
	l2, err := metric.New(metric.L2, dim, metric.Params{})
	if err != nil {
		return nil, err
	}
	// the two nearest partitions of every vector, 64Ki vectors at a time
	members := make([][]uint32, k)
	near, dist := make([]int64, 2<<16), make([]float32, 2<<16)
	for lo := 0; lo < n; lo += 1 << 16 {
		hi := min(n, lo+1<<16)
		if err := flat.KNN(ctx, l2, res.Centroids, xv[lo*dim:hi*dim], 2, near[:2*(hi-lo)], dist[:2*(hi-lo)]); err != nil {
			return nil, err
		}
		for i := range hi - lo {
			for j := range 2 {
				if c := near[2*i+j]; c >= 0 {
					members[c] = append(members[c], uint32(lo+i))
				}
			}
		}
	}
	dir := os.TempDir()
	if x.path != "" {
		dir = filepath.Dir(x.path)
	}
	f, err := os.CreateTemp(dir, ".diskann-build-*")
	if err != nil {
		return nil, fmt.Errorf("%w: scratch file of the partitioned build: %v", errs.IO, err)
	}
	os.Remove(f.Name()) // unnamed: it goes away with the descriptor
	pb := &partitioned{x: x, xv: xv, scratch: f, slot: 4 * (1 + r), medoid: medoid(xv, dim, kernels.Current())}
	filled := make([]uint8, n) // lists written per node: its next slot
	for c, nodes := range members {
		if len(nodes) == 0 {
			continue
		}
		if err := pb.buildOne(ctx, nodes, filled, uint64(c)); err != nil {
			pb.close()
			return nil, err
		}
	}
	return pb, nil
}

// buildOne builds the graph of one partition and writes its lists.
func (pb *partitioned) buildOne(ctx context.Context, nodes []uint32, filled []uint8, seed uint64) error {
	dim, r := pb.x.Dim(), pb.x.p.R
	vecs := make([]float32, len(nodes)*dim)
	for i, v := range nodes {
		copy(vecs[i*dim:(i+1)*dim], pb.xv[int(v)*dim:int(v+1)*dim])
	}
	g := newGraph(dim, r, vecs)
	if err := g.build(ctx, pb.x.p.LBuild, float32(pb.x.p.Alpha), pb.x.p.Seed+seed); err != nil {
		return err
	}
	buf := make([]byte, pb.slot)
	for i, v := range nodes {
		clear(buf)
		binary.LittleEndian.PutUint32(buf, uint32(len(g.adj[i])))
		for j, u := range g.adj[i] {
			binary.LittleEndian.PutUint32(buf[4+4*j:], nodes[u])
		}
		at := (int64(v)*2 + int64(filled[v])) * int64(pb.slot)
		if _, err := pb.scratch.WriteAt(buf, at); err != nil {
			return fmt.Errorf("%w: scratch file of the partitioned build: %v", errs.IO, err)
		}
		filled[v]++
	}
	return nil
}

// source is the image writer's chunk source: per node the union of its
// two lists, pruned to r on the exact vectors, in parallel over the chunk.
func (pb *partitioned) source(ctx context.Context, lo, hi int, vecs []float32, out [][]uint32) error {
	dim, r := pb.x.Dim(), pb.x.p.R
	copy(vecs, pb.xv[lo*dim:hi*dim])
	raw := make([]byte, (hi-lo)*2*pb.slot)
	if _, err := pb.scratch.ReadAt(raw, int64(lo)*2*int64(pb.slot)); err != nil {
		return fmt.Errorf("%w: scratch file of the partitioned build: %v", errs.IO, err)
	}
	g := &graph{dim: dim, r: r, vecs: pb.xv, ks: kernels.Current()}
	alpha := float32(pb.x.p.Alpha)
	return parallel.For(ctx, hi-lo, 64, func(a, b int) error {
		var cand []item
		var w walk
		for i := a; i < b; i++ {
			p := uint32(lo + i)
			q := g.vec(p)
			cand = cand[:0]
			for s := range 2 {
				slot := raw[(2*i+s)*pb.slot:]
				c := min(int(binary.LittleEndian.Uint32(slot)), r)
				for j := range c {
					v := binary.LittleEndian.Uint32(slot[4+4*j:])
					if v != p && int(v) < len(pb.xv)/dim {
						cand = append(cand, item{g.dist(q, v), v})
					}
				}
			}
			slices.SortFunc(cand, less)
			cand = slices.CompactFunc(cand, func(a, b item) bool { return a.node == b.node })
			if len(cand) <= r {
				l := make([]uint32, len(cand))
				for j, c := range cand {
					l[j] = c.node
				}
				out[i] = l
				continue
			}
			out[i] = g.prune(p, cand, alpha, nil, &w)
		}
		return nil
	})
}

func (pb *partitioned) close() { pb.scratch.Close() }
