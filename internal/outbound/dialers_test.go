package outbound

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
)

// dialers are the standard library's ways of making a connection or an
// HTTP request without this package's guard.
var dialers = map[string]map[string]bool{
	"net/http":   {"Get": true, "Post": true, "Head": true, "PostForm": true, "DefaultClient": true, "DefaultTransport": true},
	"net":        {"Dial": true, "DialTimeout": true, "Dialer": true, "DialTCP": true, "DialUDP": true, "DialIP": true, "DialUnix": true},
	"crypto/tls": {"Dial": true, "DialWithDialer": true, "Dialer": true},
	"net/smtp":   {"Dial": true, "SendMail": true},
}

// literals are types whose zero or literal value dials unguarded: a field of
// type *http.Client (handed an outbound client) is fine, http.Client{} is not.
var literals = map[string]map[string]bool{
	"net/http": {"Client": true, "Transport": true},
	"net":      {"Dialer": true},
}

// allowedDialers are the files outside this package that may dial, and why:
// none of them fetches on behalf of the server.
var allowedDialers = map[string]string{
	"internal/bench/bench.go": "parley bench drives a local child server it started",
	"internal/bench/sse.go":   "parley bench --sse opens streams to that child",
	// Generated from the OpenAPI description; only tests import it, to
	// call a Parley they started.
	"internal/httpapi/parleyclient/client.gen.go": "the generated API client, a client of Parley, not the server's",
}

// TestOnlyOutboundDials enumerates every component that dials: it parses
// every non-test Go file of the module and fails on any use of a standard
// library dialer or HTTP client outside this package and the allowed
// files, so a new server-side fetch (a JWKS cache, a webhook sender) cannot
// bypass the guard unnoticed.
func TestOnlyOutboundDials(t *testing.T) {
	root := testenv.Root()
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "internal/outbound" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		names := map[string]string{} // local name → import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if dialers[p] == nil && literals[p] == nil {
				continue
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		if len(names) == 0 {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			table := dialers
			if lit, ok := n.(*ast.CompositeLit); ok {
				n, table = lit.Type, literals
			}
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok || !table[names[x.Name]][sel.Sel.Name] {
				return true
			}
			found++
			if _, ok := allowedDialers[rel]; !ok {
				t.Errorf("%s uses %s.%s: server-side requests must use outbound.NewClient", rel, names[x.Name], sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatalf("found no dialer at all, not even in %v: the scan is broken", allowedDialers)
	}
}
