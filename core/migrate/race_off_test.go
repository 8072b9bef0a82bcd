//go:build !race

package migrate

const stride = 1
