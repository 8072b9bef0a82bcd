package hnsw

import (
	"testing"

	"github.com/oxvec/oxvec/core/metric"
)

func TestChurn_UpperListsStayWithinThePeakOfLiveNodes(t *testing.T) {
	// adds and removes with a bounded number of live vectors (the server
	// soak's write mix): slots are reused, and so must the upper-level list
	// regions be; they used to be appended for every upper-level node ever
	// added
	const d, live, rounds, batch = 8, 500, 200, 20
	vecs := clustered(7, live+rounds*batch, d)
	ids := make([]int64, live)
	for i := range ids {
		ids[i] = int64(i)
	}
	h := build(t, metric.L2, d, vecs[:live*d], Params{M: 4})
	peak := len(h.upper)
	next := int64(live)
	for r := 0; r < rounds; r++ {
		gone := ids[:batch]
		if n, err := h.Remove(bg, gone); err != nil || n != batch {
			t.Fatalf("round %d: removed %d, %v", r, n, err)
		}
		add := make([]int64, batch)
		for i := range add {
			add[i] = next
			next++
		}
		if err := h.Add(bg, vecs[add[0]*d:(add[batch-1]+1)*d], add, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids[batch:], add...)
	}
	// M=4: about a quarter of the nodes have upper levels; 4,000 adds after
	// the first 500 appended ~1,300 regions before
	wu := 1 + h.p.M
	if len(h.upper) > 2*peak+16*wu {
		t.Fatalf("upper holds %d values after churn; %d after the first %d adds", len(h.upper), peak, live)
	}
	if err := h.Verify(); err != nil {
		t.Fatal(err)
	}
	if h.Len() != live {
		t.Fatalf("%d live, want %d", h.Len(), live)
	}
	// and Compact still packs it: exactly the live nodes' levels
	if err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	want := 0
	for node := 0; node < h.used; node++ {
		want += int(h.levels[node]) * wu
	}
	if len(h.upper) != want || h.Verify() != nil {
		t.Fatalf("after Compact: upper %d values, live levels %d", len(h.upper), want)
	}
}
