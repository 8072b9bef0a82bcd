module github.com/oxvec/oxvec

go 1.25

require (
	github.com/klauspost/compress v1.20.3
	github.com/klauspost/cpuid/v2 v2.4.2
	github.com/kljensen/snowball v0.10.0
	golang.org/x/crypto v0.36.0
	golang.org/x/text v0.23.0
	gonum.org/v1/gonum v0.17.0
)

require golang.org/x/sys v0.41.0
