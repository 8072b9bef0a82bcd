// Package indexes registers every index type the engine offers: importing
// it (for its side effect) is all a front end or a test needs to make
// index.New and index.Load know them all. Adding a type is one line here.
package indexes

import (
	_ "github.com/oxvec/oxvec/core/binary"
	_ "github.com/oxvec/oxvec/core/diskann"
	_ "github.com/oxvec/oxvec/core/flat"
	_ "github.com/oxvec/oxvec/core/hnsw"
	_ "github.com/oxvec/oxvec/core/ivf"
	_ "github.com/oxvec/oxvec/core/ivfpq"
	_ "github.com/oxvec/oxvec/core/lsh"
	_ "github.com/oxvec/oxvec/core/opq"
	_ "github.com/oxvec/oxvec/core/pq"
	_ "github.com/oxvec/oxvec/core/sq"
)
