package text

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestTerms_SplitsFoldsDropsStopWordsAndStems(t *testing.T) {
	cases := map[string][]string{
		"":                              nil,
		"The cat is running":            {"cat", "run"},
		"gzip.open(filename) read_file": {"gzip", "open", "filenam", "read", "file"},
		"Café NAÏVE Ørsted's":           {"cafe", "naiv", "ørsted"},
		"don't stop":                    {"don't", "stop"},
		"it’s":                          {"it"},
		"'quoted' words":                {"quot", "word"},
		"IPv6 addresses, 3.14":          {"ipv6", "address", "3", "14"},
		"日本語のテキスト":                      {"日本語のテキスト"},
		"generously connections":        {"generous", "connect"},
	}
	for in, want := range cases {
		if got := Terms(in, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("Terms(%q) = %q, want %q", in, got, want)
		}
	}
}

// ref scores every document directly from the BM25 formula.
func ref(docs []string, query string, p Params, alive []bool) map[int64]float64 {
	var toks [][]string
	df := map[string]int{}
	n, total := 0, 0
	for i, d := range docs {
		ts := Terms(d, nil)
		toks = append(toks, ts)
		if !alive[i] || len(ts) == 0 {
			continue
		}
		n++
		total += len(ts)
		seen := map[string]bool{}
		for _, t := range ts {
			if !seen[t] {
				df[t]++
				seen[t] = true
			}
		}
	}
	avg := float64(total) / float64(n)
	out := map[int64]float64{}
	for _, q := range Terms(query, nil) {
		if df[q] == 0 {
			continue
		}
		idf := math.Log(1 + (float64(n)-float64(df[q])+0.5)/(float64(df[q])+0.5))
		for i, ts := range toks {
			if !alive[i] {
				continue
			}
			tf := 0
			for _, t := range ts {
				if t == q {
					tf++
				}
			}
			if tf > 0 {
				out[int64(i)] += idf * float64(tf) * (p.K1 + 1) / (float64(tf) + p.K1*(1-p.B+p.B*float64(len(ts))/avg))
			}
		}
	}
	return out
}

func randomDocs(r *rand.Rand, n int) []string {
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau the of and")
	docs := make([]string, n)
	for i := range docs {
		var b strings.Builder
		for j := r.Intn(30); j >= 0; j-- {
			b.WriteString(words[int(math.Sqrt(float64(r.Intn(len(words)*len(words)))))] + " ")
		}
		docs[i] = b.String()
	}
	return docs
}

func TestSearch_MatchesTheFormulaThroughAddsAndRemoves(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	docs := randomDocs(r, 400)
	x := New()
	alive := make([]bool, len(docs))
	for i, d := range docs {
		if err := x.Add(int64(i), d); err != nil {
			t.Fatal(err)
		}
		alive[i] = true
	}
	for i := 0; i < len(docs); i += 3 {
		x.Remove(int64(i), docs[i])
		alive[i] = false
	}
	// reuse some removed ids for new text, as the store does
	for i := 0; i < 60; i += 3 {
		docs[i] = "sigma sigma tau rho " + docs[i+1]
		x.Add(int64(i), docs[i])
		alive[i] = true
	}
	for _, p := range []Params{DefaultParams(), {K1: 0.9, B: 0.4}, {K1: 2, B: 0}} {
		for _, q := range []string{"alpha", "sigma tau", "pi pi rho", "the", "unknown words", "xi omicron kappa beta"} {
			want := ref(docs, q, p, alive)
			got := x.Search(q, 1000, p, nil)
			if len(got) != len(want) {
				t.Fatalf("%v %q: %d hits, want %d", p, q, len(got), len(want))
			}
			for i, h := range got {
				if math.Abs(float64(h.Score)-want[h.ID]) > 1e-4*math.Max(1, want[h.ID]) {
					t.Fatalf("%v %q: doc %d scores %g, want %g", p, q, h.ID, h.Score, want[h.ID])
				}
				if i > 0 && worse(got[i-1], h) {
					t.Fatalf("%q: results out of order at %d", q, i)
				}
			}
			top := x.Search(q, 5, p, nil)
			if len(got) > 5 {
				got = got[:5]
			}
			if !reflect.DeepEqual(top, got) {
				t.Fatalf("%q: top 5 %v differs from the head of the full list %v", q, top, got)
			}
		}
	}
}

func TestSearch_AllowListRestrictsAndStillFillsK(t *testing.T) {
	x := New()
	for i := range 100 {
		x.Add(int64(i), fmt.Sprintf("common word %d", i%7))
	}
	var odd []int64
	for i := int64(1); i < 100; i += 2 {
		odd = append(odd, i)
	}
	hits := x.Search("common", 20, DefaultParams(), NewAllow(odd, 100))
	if len(hits) != 20 {
		t.Fatalf("%d hits", len(hits))
	}
	ids := []int{}
	for _, h := range hits {
		if h.ID%2 == 0 {
			t.Fatalf("id %d is not allowed", h.ID)
		}
		ids = append(ids, int(h.ID))
	}
	if !sort.IntsAreSorted(ids) { // equal scores: lower ids first
		t.Fatalf("ties not broken by id: %v", ids)
	}
}

func TestIndex_EmptyAndStopWordOnlyDocumentsAreNotIndexed(t *testing.T) {
	x := New()
	x.Add(0, "")
	x.Add(1, "the and of")
	x.Add(2, "real words")
	if x.Len() != 1 {
		t.Fatalf("Len %d", x.Len())
	}
	x.Remove(1, "the and of") // not indexed: no effect
	if x.Len() != 1 || len(x.Search("words", 5, DefaultParams(), nil)) != 1 {
		t.Fatal("remove of an unindexed document changed the index")
	}
	if err := x.Add(2, "again"); err == nil {
		t.Fatal("adding an indexed id twice succeeded")
	}
	if err := x.Add(-1, "x"); err == nil {
		t.Fatal("negative id accepted")
	}
}

func TestIndex_ChurnKeepsTheVocabularyOfTheDocumentsIndexed(t *testing.T) {
	// records whose text holds a unique token, added and removed for ever
	// (a store under churn): the vocabulary must follow the live documents,
	// and scores must equal a fresh index over the same documents
	x := New()
	live := map[int64]string{}
	for round := 0; round < 50; round++ {
		for i := 0; i < 40; i++ {
			id := int64(i)
			if old, ok := live[id]; ok {
				x.Remove(id, old)
			}
			doc := fmt.Sprintf("record r%d-%d about Running dogs %d", round, i, round*1000+i)
			if err := x.Add(id, doc); err != nil {
				t.Fatal(err)
			}
			live[id] = doc
		}
	}
	fresh := New()
	for id, doc := range live {
		if err := fresh.Add(id, doc); err != nil {
			t.Fatal(err)
		}
	}
	if len(x.termID) != len(fresh.termID) || len(x.words) != len(fresh.words) {
		t.Fatalf("after churn: %d terms, %d words; the same documents fresh: %d, %d", len(x.termID), len(x.words), len(fresh.termID), len(fresh.words))
	}
	if len(x.postings) > 2*len(fresh.postings) {
		t.Fatalf("%d term slots for %d terms", len(x.postings), len(x.termID))
	}
	for _, q := range []string{"running dog", "r49-7", "record 49007", "about"} {
		a, b := x.Search(q, 10, DefaultParams(), nil), fresh.Search(q, 10, DefaultParams(), nil)
		if !slices.Equal(a, b) {
			t.Fatalf("%q: churned %v, fresh %v", q, a, b)
		}
	}
	for id, doc := range live { // and all the way down to nothing
		x.Remove(id, doc)
	}
	if len(x.termID) != 0 || len(x.words) != 0 || x.Len() != 0 {
		t.Fatalf("empty index keeps %d terms, %d words, %d documents", len(x.termID), len(x.words), x.Len())
	}
}
