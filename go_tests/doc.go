// Package go_tests holds tests that cross package boundaries: the
// conformance suite every registered index type must pass, and (later) the
// crash tests of durable collections.
package go_tests
