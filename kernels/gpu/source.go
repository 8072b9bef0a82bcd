package gpu

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// Source is the CUDA C of every kernel: compiled at run time by NVRTC for
// the GPU at hand, and as C++ under emulate/cuda_emu.h in the tests.
//
//go:embed kernels.cu
var Source string

// Kernels are the entry points of Source, in the order compile reports them.
var Kernels = []string{"oxv_pairwise", "oxv_topk", "oxv_assign"}

// The launch shapes Source is written for (its #defines of the same names;
// TestSource_ShapesMatchTheDefines keeps the two equal).
const (
	PairTile        = 16  // pairwise block: PairTile x PairTile threads, one pair each
	SelThreads      = 128 // threads of a top-k block (one block per query)
	KMax            = 256 // the largest k the device top-k keeps
	AssignRows      = 128 // rows per assignment block (one thread per row)
	AssignCentroids = 32  // centroids a thread scores at once
)

// SourceHash names Source in the module cache: an edit of the kernels
// never meets a module compiled from an older text.
func SourceHash() string {
	h := sha256.Sum256([]byte(Source))
	return hex.EncodeToString(h[:8])
}
