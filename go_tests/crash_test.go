package go_tests

// The crash harness: a child process (this test binary, re-executed) writes
// to a store in a loop and prints a line after each call returns; the parent
// SIGKILLs it - at random moments, and at each of the store's crash points
// (mid-commit, mid-snapshot) - then reopens the store and checks that every
// acknowledged change is there, intact, that the one change in flight is
// there entirely or not at all, and that the index agrees with the records.
//
//	go test ./go_tests -run TestCrash                  # the CI run (60 kills)
//	OXVEC_CRASH_KILLS=1000 go test ./go_tests -run TestCrash -timeout 1h

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oxvec/oxvec/core/store"
)

const (
	crashDim   = 16
	crashBatch = 40
	childEnv   = "OXVEC_CRASH_CHILD"
)

// crashPoints are the moments the store names (store.CrashPoint).
var crashPoints = []string{"commit:appended", "commit:durable", "snapshot:rotated", "snapshot:written", "snapshot:swapped"}

func crashOptions(create bool) store.Options {
	o := store.Options{SnapshotEvery: 48 << 10} // snapshots every few batches
	if create {
		o.Create = &store.Config{Dim: crashDim, Metric: "l2", Index: []byte(`{"type":"hnsw","m":8,"ef_construction":40}`)}
	}
	return o
}

// crashVectors are batch b's vectors, the same in child and parent.
func crashVectors(b int) []float32 {
	rng := rand.New(rand.NewSource(int64(b)))
	v := make([]float32, crashBatch*crashDim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func crashKeys(b int) []string {
	k := make([]string, crashBatch)
	for j := range k {
		k[j] = fmt.Sprintf("b%d-%d", b, j)
	}
	return k
}

// op is the child's schedule: step s is an add of batch s, and every few
// steps also an update, a delete by filter, or a snapshot of older batches.
type op struct {
	kind  string // add, upd, del, snap
	batch int
}

func schedule(step int) []op {
	ops := []op{{"add", step}}
	if step >= 2 && step%3 == 0 {
		ops = append(ops, op{"upd", step - 2})
	}
	if step >= 8 {
		ops = append(ops, op{"del", step - 8}) // keeps the store at about 8 batches
	}
	if step%7 == 0 {
		ops = append(ops, op{"snap", 0})
	}
	return ops
}

// TestCrashChild is the child: it runs only when the parent asks.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("the child of TestCrash")
	}
	if p := os.Getenv("OXVEC_CRASH_POINT"); p != "" {
		store.CrashPoint = func(name string) {
			if name == p {
				fmt.Printf("at %s\n", name)
				time.Sleep(time.Hour) // wait for the kill
			}
		}
	}
	start, _ := strconv.Atoi(os.Getenv("OXVEC_CRASH_START"))
	s, err := store.Open(dir, crashOptions(start == 0))
	if err != nil {
		fmt.Printf("open failed: %v\n", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	ctx := context.Background()
	for step := start; ; step++ {
		for _, o := range schedule(step) {
			fmt.Printf("begin %s %d\n", o.kind, o.batch)
			var err error
			switch o.kind {
			case "add":
				b := store.Batch{Keys: crashKeys(o.batch), Vectors: crashVectors(o.batch)}
				for j := 0; j < crashBatch; j++ {
					doc := fmt.Sprintf("batch %d record %d", o.batch, j)
					b.Docs = append(b.Docs, &doc)
					b.Metas = append(b.Metas, store.Meta{"batch": int64(o.batch), "j": int64(j)})
				}
				err = s.Add(ctx, b)
			case "upd":
				b := store.Batch{Keys: crashKeys(o.batch)}
				for j := 0; j < crashBatch; j++ {
					b.Metas = append(b.Metas, store.Meta{"batch": int64(o.batch), "j": int64(j), "touched": true})
				}
				err = s.Update(ctx, b)
			case "del":
				_, err = s.Delete(ctx, nil, map[string]any{"batch": int64(o.batch)}, nil)
			case "snap":
				err = s.Snapshot()
			}
			if err != nil {
				fmt.Printf("error %v\n", err)
				os.Exit(4)
			}
			fmt.Printf("ack %s %d\n", o.kind, o.batch)
		}
	}
}

// batchState is what the parent knows of a batch.
type batchState int

const (
	absent batchState = iota
	present
	touched
)

type crashModel struct {
	batches map[int]batchState
	next    int // the child's next step
}

// apply moves the model past an acknowledged operation.
func (m *crashModel) apply(o op) {
	switch o.kind {
	case "add":
		m.batches[o.batch] = present
	case "upd":
		m.batches[o.batch] = touched
	case "del":
		m.batches[o.batch] = absent
	}
}

func TestCrash_AcknowledgedWritesSurviveKill9(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	kills := 60
	if v, err := strconv.Atoi(os.Getenv("OXVEC_CRASH_KILLS")); err == nil && v > 0 {
		kills = v
	}
	if testing.Short() {
		kills = 10
	}
	dir := filepath.Join(t.TempDir(), "store")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	m := &crashModel{batches: map[int]batchState{}}
	var atPoint, random int
	inFlightKinds := map[string]int{}
	for k := 0; k < kills; k++ {
		// every third kill stops at a named crash point, in turn; the others
		// land at a random moment of the child's loop
		point := ""
		if k%3 == 2 {
			point = crashPoints[(k/3)%len(crashPoints)]
			atPoint++
		} else {
			random++
		}
		lines := runChild(t, dir, m.next, point, rng)
		inFlight := m.replay(t, lines)
		inFlightKinds[inFlight.kind]++
		m.verify(t, dir, inFlight, k)
		if (k+1)%100 == 0 {
			t.Logf("%d kills, %d batches written, all acknowledged changes present", k+1, m.next)
		}
	}
	t.Logf("%d kills (%d at crash points, %d at random moments); operations in flight at the kill: %v; %d batches written, %d records present at the end",
		kills, atPoint, random, inFlightKinds, m.next, m.count())
}

// runChild starts the child from step `start`, kills it, and returns its
// output lines.
func runChild(t *testing.T, dir string, start int, point string, rng *rand.Rand) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "OXVEC_CRASH_START="+strconv.Itoa(start), "OXVEC_CRASH_POINT="+point)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1<<16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	// wait for "ready" (or the crash point), then let it run a random while
	killAt := time.Duration(0)
	if point == "" {
		killAt = time.Duration(rng.Intn(60)) * time.Millisecond
	}
	deadline := time.After(2 * time.Minute) // guards against a hang only
	var timer <-chan time.Time
	for timer == nil || point != "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the child exited before it was killed: %v", got)
			}
			got = append(got, l)
			if strings.HasPrefix(l, "open failed") || strings.HasPrefix(l, "error ") {
				t.Fatalf("child: %s", l)
			}
			if point == "" && l == "ready" {
				timer = time.After(killAt)
			}
			if point != "" && l == "at "+point {
				goto kill
			}
		case <-deadline:
			t.Fatalf("the child never reached %q", point)
		}
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the child exited before it was killed: %v", got)
			}
			got = append(got, l)
		case <-timer:
			goto kill
		}
	}
kill:
	cmd.Process.Signal(syscall.SIGKILL)
	for l := range lines {
		got = append(got, l)
	}
	cmd.Wait()
	return got
}

// replay moves the model through the acknowledged operations and returns
// the operation in flight at the kill (kind "" if none).
func (m *crashModel) replay(t *testing.T, lines []string) op {
	var inFlight op
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 || (f[0] != "begin" && f[0] != "ack") {
			continue
		}
		b, _ := strconv.Atoi(f[2])
		o := op{f[1], b}
		if f[0] == "begin" {
			inFlight = o
			continue
		}
		if o != inFlight {
			t.Fatalf("ack %v without begin", o)
		}
		m.apply(o)
		inFlight = op{}
		if o.kind == "add" {
			m.next = o.batch + 1
		}
	}
	return inFlight
}

func (m *crashModel) count() int {
	n := 0
	for _, s := range m.batches {
		if s != absent {
			n += crashBatch
		}
	}
	return n
}

// verify reopens the store and compares it with the model; the operation
// in flight may have happened or not, but entirely.
func (m *crashModel) verify(t *testing.T, dir string, inFlight op, kill int) {
	t.Helper()
	s, err := store.Open(dir, crashOptions(false))
	if err != nil {
		t.Fatalf("kill %d: reopening failed: %v", kill, err)
	}
	defer s.Close()
	if inFlight.kind == "add" || inFlight.kind == "upd" || inFlight.kind == "del" {
		before := m.batches[inFlight.batch]
		got := observe(t, s, inFlight.batch, kill)
		after := before
		switch inFlight.kind {
		case "add":
			after = present
		case "upd":
			after = touched
		case "del":
			after = absent
		}
		if got != before && got != after {
			t.Fatalf("kill %d: %s of batch %d in flight: found state %d, want %d or %d", kill, inFlight.kind, inFlight.batch, got, before, after)
		}
		m.batches[inFlight.batch] = got
		if inFlight.kind == "add" && got == present {
			m.next = inFlight.batch + 1
		}
	}
	for b, want := range m.batches {
		if got := observe(t, s, b, kill); got != want {
			t.Fatalf("kill %d: batch %d: state %d, want %d (an acknowledged change was lost)", kill, b, got, want)
		}
	}
	if s.Count() != m.count() {
		t.Fatalf("kill %d: %d records, the acknowledged changes leave %d", kill, s.Count(), m.count())
	}
	// deleted batches are seen absent once; from then on the count check
	// catches one that comes back
	for b, st := range m.batches {
		if st == absent {
			delete(m.batches, b)
		}
	}
}

// observe reads one batch back and checks it is whole: all its records
// present with their exact vectors, documents and metadata and findable in
// the index, or none of them.
func observe(t *testing.T, s *store.Store, b int, kill int) batchState {
	t.Helper()
	keys := crashKeys(b)
	rows, err := s.Get(keys, nil, nil, 0, 0, store.Include{Documents: true, Metadatas: true, Embeddings: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Keys) == 0 {
		return absent
	}
	if len(rows.Keys) != crashBatch {
		t.Fatalf("kill %d: batch %d is partly present (%d of %d records)", kill, b, len(rows.Keys), crashBatch)
	}
	if !reflect.DeepEqual(rows.Vectors, crashVectors(b)) {
		t.Fatalf("kill %d: batch %d: vectors differ from what was written", kill, b)
	}
	nTouched := 0
	for j, meta := range rows.Metas {
		if *rows.Docs[j] != fmt.Sprintf("batch %d record %d", b, j) || meta["batch"] != int64(b) || meta["j"] != int64(j) {
			t.Fatalf("kill %d: batch %d record %d: document or metadata differ: %v", kill, b, j, meta)
		}
		if meta["touched"] == true {
			nTouched++
		}
	}
	// the index finds each record of the batch at distance 0 (a filter this
	// small is answered by an exact scan of the admitted records)
	hits, err := s.Search(context.Background(), store.SearchRequest{Vectors: rows.Vectors, K: 1, Where: map[string]any{"batch": int64(b)}})
	if err != nil {
		t.Fatal(err)
	}
	for j := range keys {
		if len(hits.Keys[j]) != 1 || hits.Keys[j][0] != keys[j] || *hits.Dists[j][0] != 0 {
			t.Fatalf("kill %d: batch %d record %d is in the records but not in the index", kill, b, j)
		}
	}
	// and the keyword index finds each document by its words
	texts := make([]string, len(keys))
	for j := range keys {
		texts[j] = fmt.Sprintf("batch %d record %d", b, j)
	}
	kw, err := s.Search(context.Background(), store.SearchRequest{Texts: texts, K: 1, Where: map[string]any{"batch": int64(b)},
		Rank: store.Ranking{Mode: "keyword"}})
	if err != nil {
		t.Fatal(err)
	}
	for j := range keys {
		if len(kw.Keys[j]) != 1 || kw.Keys[j][0] != keys[j] {
			t.Fatalf("kill %d: batch %d record %d is in the records but not in the keyword index (got %v)", kill, b, j, kw.Keys[j])
		}
	}
	switch nTouched {
	case 0:
		return present
	case crashBatch:
		return touched
	}
	t.Fatalf("kill %d: batch %d is partly updated (%d of %d records)", kill, b, nTouched, crashBatch)
	return absent
}
