package kmeans

import (
	"context"
	"math/rand/v2"
	"testing"
)

func TestTrain_UsesTheAssignerOfItsContext(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 200*4)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	calls := 0
	ctx := WithAssigner(context.Background(), func(ctx context.Context, c, x []float32, dim int, assign []int64, dist []float32) error {
		calls++
		return Nearest(ctx, c, x, dim, assign, dist)
	})
	got, err := Train(ctx, x, 4, Params{K: 5, Iters: 7})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 7 {
		t.Fatalf("assigner called %d times, want once per iteration (7)", calls)
	}
	want, _ := Train(context.Background(), x, 4, Params{K: 5, Iters: 7})
	for i := range want.Centroids {
		if got.Centroids[i] != want.Centroids[i] {
			t.Fatal("the same assignment step must give the same centroids")
		}
	}
}
