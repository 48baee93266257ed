//go:build !unix

package applog

import (
	"fmt"
	"os"
)

// fewFilesChild is TestManyLogsFewFiles's child process, which needs
// RLIMIT_NOFILE (scale_test.go, Unix only); the test does not run here.
func fewFilesChild(string, bool) {
	fmt.Fprintln(os.Stderr, "fewFilesChild: needs RLIMIT_NOFILE, a Unix feature")
	os.Exit(2)
}
