package testkit

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// importPath is this package's import path.
const importPath = "scuttle/topology/testkit"

// TestOnlyTestsImport fails if a file of the module other than a _test.go
// file imports testkit: it is for tests, and must never reach the binary.
func TestOnlyTestsImport(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// The go command ignores these directories too.
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			if p, err := strconv.Unquote(imp.Path.Value); err == nil && p == importPath {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s, which only _test.go files may import", rel, importPath)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the module at %s: %v", root, err)
	}
	if checked == 0 {
		t.Fatalf("no .go files found under %s", root)
	}
}

// moduleRoot returns the directory of the go.mod above the test's
// working directory (the package's directory).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}
