package kmeans

import "context"

// Assigner is k-means' assignment step: each row of x's nearest centroid
// (rows of c) by l2 and its squared distance. Nearest is the CPU's; a GPU
// provides another (core/accel).
type Assigner func(ctx context.Context, c, x []float32, dim int, assign []int64, dist []float32) error

type assignerKey struct{}

// WithAssigner returns a context under which Train assigns with a instead
// of Nearest: how an index's training (IVF lists, PQ codebooks) reaches a
// GPU without each index type knowing of devices.
func WithAssigner(ctx context.Context, a Assigner) context.Context {
	return context.WithValue(ctx, assignerKey{}, a)
}

// assignerOf is the assignment step Train uses under ctx.
func assignerOf(ctx context.Context) Assigner {
	if a, ok := ctx.Value(assignerKey{}).(Assigner); ok && a != nil {
		return a
	}
	return Nearest
}
