package go_tests

// The tenancy catalog under kill -9: a child process creates and drops
// tenants, collections and API keys in a loop, printing "begin" before and
// "ok" after each call; the parent SIGKILLs it at random moments and at each
// of core/tenant's crash points, reopens the database and checks that the
// catalog opens, agrees with the directories (Database.Verify), and holds
// every acknowledged change, the one in flight entirely or not at all.

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oxvec/oxvec/core/store"
	"github.com/oxvec/oxvec/core/tenant"
)

const tenantChildEnv = "OXVEC_TENANT_CRASH_CHILD"

var tenantCrashPoints = []string{"tenant:dir", "tenant:dropped", "collection:store", "collection:dropped"}

func tenantOptions() tenant.Options {
	return tenant.Options{KeyCost: 2, Store: store.Options{Durability: store.Always}}
}

func TestTenantCrashChild(t *testing.T) {
	dir := os.Getenv(tenantChildEnv)
	if dir == "" {
		t.Skip("the child of TestTenantCrash")
	}
	if p := os.Getenv("OXVEC_TENANT_CRASH_POINT"); p != "" {
		tenant.CrashPoint = func(name string) {
			if name == p {
				fmt.Printf("at %s\n", name)
				time.Sleep(time.Hour)
			}
		}
	}
	db, err := tenant.Open(dir, tenantOptions())
	if err != nil {
		fmt.Printf("open failed: %v\n", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; ; i++ {
		ts, _ := db.Tenants(nil)
		name := fmt.Sprintf("n%d-%d", os.Getpid(), i)
		var op, tn, cn string
		var call func() error
		switch r := rng.Intn(10); {
		case len(ts) == 0 || r < 2:
			op, tn = "create_tenant", name
			call = func() error { return db.CreateTenant(nil, tn, tenant.Quota{}, tenant.Policy{}) }
		case r < 3 && len(ts) > 2:
			op, tn = "drop_tenant", ts[rng.Intn(len(ts))].Name
			call = func() error { return db.DropTenant(nil, tn) }
		case r < 6:
			op, tn, cn = "create_collection", ts[rng.Intn(len(ts))].Name, name
			call = func() error { return db.CreateCollection(nil, tn, cn, store.Config{Dim: 4}) }
		case r < 8:
			tn = ts[rng.Intn(len(ts))].Name
			cs, _ := db.Collections(nil, tn)
			if len(cs) == 0 {
				continue
			}
			op, cn = "drop_collection", cs[rng.Intn(len(cs))].Name
			call = func() error { return db.DropCollection(nil, tn, cn) }
		default:
			op, tn, cn = "create_key", ts[rng.Intn(len(ts))].Name, name
			call = func() error { _, _, err := db.CreateKey(nil, tn, "reader", cn, tenant.KeyOptions{}); return err }
		}
		fmt.Printf("begin %s %s %s\n", op, tn, cn)
		if err := call(); err != nil {
			fmt.Printf("failed: %v\n", err)
			os.Exit(4)
		}
		fmt.Printf("ok %s %s %s\n", op, tn, cn)
	}
}

// tenantModel is what the acknowledged calls made: tenant -> collections
// and keys (names).
type tenantModel map[string]map[string]bool

func (m tenantModel) apply(op, tn, cn string) {
	switch op {
	case "create_tenant":
		m[tn] = map[string]bool{}
	case "drop_tenant":
		delete(m, tn)
	case "create_collection", "create_key":
		m[tn][cn] = true
	case "drop_collection":
		delete(m[tn], cn)
	}
}

func (m tenantModel) clone() tenantModel {
	n := tenantModel{}
	for t, cs := range m {
		n[t] = map[string]bool{}
		for c := range cs {
			n[t][c] = true
		}
	}
	return n
}

// observeTenants reads the database into the model's shape.
func observeTenants(t *testing.T, db *tenant.Database) tenantModel {
	m := tenantModel{}
	ts, err := db.Tenants(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range ts {
		m[ti.Name] = map[string]bool{}
		cs, _ := db.Collections(nil, ti.Name)
		for _, c := range cs {
			m[ti.Name][c.Name] = true
		}
		ks, _ := db.Keys(nil, ti.Name)
		for _, k := range ks {
			m[ti.Name][k.Name] = true
		}
	}
	return m
}

func TestTenantCrash_CatalogIsNeverHalfWritten(t *testing.T) {
	if os.Getenv(tenantChildEnv) != "" {
		t.Skip("in the child")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	model := tenantModel{}
	kills, atPoint := 16, 0
	for k := 0; k < kills; k++ {
		point := ""
		if k%2 == 1 {
			point = tenantCrashPoints[(k/2)%len(tenantCrashPoints)]
		}
		lines := runTenantChild(t, dir, point, rng)
		var flight []string
		for _, l := range lines {
			if strings.HasPrefix(l, "at ") {
				atPoint++
			}
			f := strings.Fields(l)
			switch {
			case len(f) >= 3 && f[0] == "begin":
				flight = append(f[1:], "", "")[:3]
			case len(f) >= 3 && f[0] == "ok":
				g := append(f[1:], "", "")[:3]
				model.apply(g[0], g[1], g[2])
				flight = nil
			case strings.HasPrefix(l, "failed") || strings.HasPrefix(l, "open failed"):
				t.Fatalf("kill %d: the child said %q", k, l)
			}
		}
		db, err := tenant.Open(dir, tenantOptions())
		if err != nil {
			t.Fatalf("kill %d (at %q): reopening: %v", k, point, err)
		}
		if err := db.Verify(); err != nil {
			t.Fatalf("kill %d (at %q): %v", k, point, err)
		}
		got := observeTenants(t, db)
		db.Close()
		with := model
		if flight != nil {
			with = model.clone()
			with.apply(flight[0], flight[1], flight[2])
		}
		switch {
		case fmt.Sprint(got) == fmt.Sprint(model):
		case fmt.Sprint(got) == fmt.Sprint(with):
			model = with
		default:
			t.Fatalf("kill %d (at %q, in flight %v): the database holds %v, acknowledged %v", k, point, flight, got, model)
		}
	}
	t.Logf("%d kills, %d of them at a crash point; %d tenants at the end", kills, atPoint, len(model))
}

func runTenantChild(t *testing.T, dir, point string, rng *rand.Rand) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTenantCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), tenantChildEnv+"="+dir, "OXVEC_TENANT_CRASH_POINT="+point)
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
	var timer <-chan time.Time
	deadline := time.After(time.Minute)
	// with a crash point: kill when the child is there, or after 3 s if the
	// random operations have not reached it; else a random while after ready
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the child exited before it was killed: %v", got)
			}
			got = append(got, l)
			if l == "ready" && timer == nil {
				if point == "" {
					timer = time.After(time.Duration(5+rng.Intn(150)) * time.Millisecond)
				} else {
					timer = time.After(3 * time.Second)
				}
			}
			if strings.HasPrefix(l, "at ") {
				timer = time.After(0)
			}
			continue
		case <-timer:
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("the child hung")
		}
		break
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	for l := range lines {
		got = append(got, l)
	}
	return got
}
