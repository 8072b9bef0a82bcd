package tenant

// CrashPoint, when set, is called at the moments of an administrative
// change where a crash is most interesting (go_tests/tenant_crash_test.go
// kills a child process there):
//
//	tenant:dir            a new tenant's directory exists, the catalog is old
//	tenant:dropped        the catalog no longer names the tenant, its files remain
//	collection:store      a new collection's store exists, the catalog is old
//	collection:dropped    the catalog no longer names the collection, its files remain
var CrashPoint func(name string)

func crashPoint(name string) {
	if CrashPoint != nil {
		CrashPoint(name)
	}
}
