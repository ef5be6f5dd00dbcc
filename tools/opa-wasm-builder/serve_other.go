//go:build !wasip1

package main

import (
	"fmt"
	"os"
)

// serve needs the host functions of keywarden's runner, which only a wasip1 build imports.
func serve() int {
	fmt.Fprintln(os.Stderr, "opa-build serve runs only as GOOS=wasip1 under keywarden")
	return 2
}
