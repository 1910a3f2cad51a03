package toxicity

import (
	"go/build"
	"strings"
	"testing"
)

// TestServeDoesNotImportLab: the server links the runtime model only;
// training, data loading and evaluation (internal/toxicity/lab) stay out of
// what `serve` needs.
func TestServeDoesNotImportLab(t *testing.T) {
	const module = "github.com/parleyhq/parley"
	seen := map[string]bool{}
	var walk func(path string, chain []string)
	walk = func(path string, chain []string) {
		if seen[path] {
			return
		}
		seen[path] = true
		if path == module+"/internal/toxicity/lab" {
			t.Errorf("the server imports the training package: %s", strings.Join(append(chain, path), " → "))
			return
		}
		p, err := build.Import(path, "../..", 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, imp := range p.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				walk(imp, append(chain, path))
			}
		}
	}
	walk(module+"/internal/server", nil)
	if !seen[module+"/internal/toxicity"] {
		t.Fatal("the walk never reached internal/toxicity: the import graph was not read")
	}
}
