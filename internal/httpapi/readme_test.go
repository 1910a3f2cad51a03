package httpapi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/testenv"
)

// readmeBlock returns the fenced code block of lang that follows marker in
// the README's section on signing tokens.
func readmeBlock(t *testing.T, marker, lang string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "#### Signing a token")
	if i < 0 {
		t.Fatal("the README has no section on signing tokens")
	}
	j := strings.Index(s[i:], marker)
	if j < 0 {
		t.Fatalf("the README's token section has no %s snippet", marker)
	}
	rest := s[i+j:]
	open := strings.Index(rest, "```"+lang+"\n")
	if open < 0 {
		t.Fatalf("no %s code block after %s", lang, marker)
	}
	code := rest[open+len("```"+lang+"\n"):]
	return code[:strings.Index(code, "```")]
}

// TestREADMETokenSnippets runs the README's Go and Node token-signing
// snippets as a publisher would, with the site's secret, and signs in with
// their tokens: a snippet that does not run, or signs a token Parley
// refuses, fails. (PHP is not installed here; its snippet is the Node one
// line for line.)
func TestREADMETokenSnippets(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	dir := t.TempDir()
	try := func(lang, token, wantName string) {
		t.Helper()
		token = strings.TrimSpace(token)
		r := e.reader("")
		res := r.signIn("news", token)
		if res.status != 200 {
			t.Fatalf("%s snippet's token: %d %s", lang, res.status, res.body)
		}
		me := r.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)
		if me["name"] != wantName || me["badge"] != "staff" {
			t.Errorf("%s snippet's reader: %v, want %s with the staff badge", lang, me, wantName)
		}
	}

	t.Run("node", func(t *testing.T) {
		node, err := exec.LookPath("node")
		if err != nil {
			if testenv.InCI() {
				t.Fatal("node is not installed")
			}
			t.Skip("node is not installed")
		}
		src := readmeBlock(t, "**Node**", "js") + "\nprocess.stdout.write(parleyToken(process.argv[2], \"readme-node\", \"Node Reader\", true));\n"
		file := filepath.Join(dir, "sign.js")
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(node, file, ssoSecret).Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		try("Node", string(out), "Node Reader")
	})

	t.Run("php", func(t *testing.T) {
		php, err := exec.LookPath("php")
		if err != nil {
			if testenv.InCI() {
				t.Fatal("php is not installed")
			}
			t.Skip("php is not installed")
		}
		src := "<?php\n" + readmeBlock(t, "**PHP**", "php") + "\necho parley_token($argv[1], 'readme-php', 'PHP Reader', true);\n"
		file := filepath.Join(dir, "sign.php")
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(php, file, ssoSecret).Output()
		if err != nil {
			t.Fatalf("php: %v", err)
		}
		try("PHP", string(out), "PHP Reader")
	})

	t.Run("go", func(t *testing.T) {
		src := "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\n" + readmeBlock(t, "**Go**", "go") + `
func main() {
	tok, err := parleyToken([]byte(os.Args[1]), "readme-go", "Go Reader", true)
	if err != nil {
		panic(err)
	}
	fmt.Print(tok)
}
`
		sub := filepath.Join(dir, "gosnippet")
		if err := os.MkdirAll(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(sub, "main.go")
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		// Built in this module, which requires golang-jwt already.
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "run", file, ssoSecret)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := cmd.Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("go run: %v\n%s", err, msg)
		}
		try("Go", string(out), "Go Reader")
	})
}
