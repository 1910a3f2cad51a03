package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHugeDeclaredBody proves that a body declared larger than Parley reads
// is refused with 413 before it is read: the answer comes within 100 ms of
// the headers, while the client has sent none of the 100 MB.
func TestHugeDeclaredBody(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, path := range []string{"/api/v1/comments", "/api/v1/comments/1/report", "/api/v1/admin/login", "/api/v1/admin/sites/news/policy"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		method := "POST"
		if strings.HasSuffix(path, "/policy") {
			method = "PUT"
		}
		start := time.Now()
		defer conn.Close()
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", method, path, 100<<20)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		if res.StatusCode != 413 || !bytes.Contains(body, []byte(`"too_large"`)) {
			t.Errorf("%s with 100 MB declared: %d %s, want 413 too_large", path, res.StatusCode, body)
		}
		if took > 100*time.Millisecond {
			t.Errorf("%s: 413 after %v, want within 100ms", path, took)
		}
		t.Logf("%s: 100 MB declared → %d in %v", path, res.StatusCode, took)
	}
}

// TestHugeChunkedBody proves that a chunked body (no length declared) is
// read only up to the limit: 100 MB offered, the server answers 413 having
// taken little of it, and this process's resident memory (server and
// client both) grows by less than 10 MB.
func TestHugeChunkedBody(t *testing.T) {
	e := newEnv(t, envOpts{})
	before := rss(t)
	var offered atomic.Int64
	body := &zeros{left: 100 << 20, read: &offered}
	req, _ := http.NewRequest("POST", e.url+"/api/v1/comments", io.MultiReader(strings.NewReader(`{"site":"news","text":"`), body))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Errorf("100 MB chunked: %d %s, want 413", res.StatusCode, b)
		}
	} // else the server closed the connection while the client was still sending, after its 413
	grew := rss(t) - before
	t.Logf("100 MB chunked: client had produced %d KiB when the server hung up; RSS grew %d KiB", offered.Load()>>10, grew>>10)
	if n := offered.Load(); n > 32<<20 {
		t.Errorf("the server read %d MiB of a chunked body, want it to stop near the limit", n>>20)
	}
	if grew > 10<<20 {
		t.Errorf("RSS grew by %d MiB, want under 10", grew>>20)
	}
}

// zeros is a body of "a"s.
type zeros struct {
	left int64
	read *atomic.Int64
}

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	for i := range p[:n] {
		p[i] = 'a'
	}
	z.left -= n
	z.read.Add(n)
	return int(n), nil
}

// rss returns this process's resident set size in bytes.
func rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// TestHostileJSON proves that JSON built to be expensive is refused fast:
// deep nesting, long strings and long arrays, over the body limit (413)
// and under it (400, with a message).
func TestHostileJSON(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	arr := func(n int) string { return "[" + strings.Repeat("1,", n-1) + "1]" }
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"nested 100,000 deep", `{"site":"news","text":` + deep(100000) + `}`, 413},
		{"objects nested 100,000 deep", `{"site":` + deepObj(100000) + `}`, 413},
		{"10 MB string", `{"site":"news","url":"` + articleURL + `","name":"A","text":"` + strings.Repeat("x", 10<<20) + `"}`, 413},
		{"1 M-element array", `{"site":"news","text":` + arr(1000000) + `}`, 413},
		{"nested 30,000 deep, under the limit", `{"site":"news","text":` + deep(30000) + `}`, 400},
		{"objects nested 10,000 deep", `{"site":` + deepObj(10000) + `}`, 400},
		{"30,000-element array", `{"site":"news","text":` + arr(30000) + `}`, 400},
		{"60 KB name", `{"site":"news","url":"` + articleURL + `","text":"hi","name":"` + strings.Repeat("n", 60<<10) + `"}`, 400},
		{"60 KB url", `{"site":"news","url":"https://news.example.com/` + strings.Repeat("u", 60<<10) + `","text":"hi","name":"A"}`, 400},
		{"60 KB title", `{"site":"news","url":"` + articleURL + `","title":"` + strings.Repeat("t", 60<<10) + `","text":"hi","name":"A"}`, 400},
		{"60 KB site", `{"site":"` + strings.Repeat("s", 60<<10) + `","url":"` + articleURL + `","text":"hi","name":"A"}`, 400},
		{"many escapes", `{"site":"news","url":"` + articleURL + `","name":"A","text":"` + strings.Repeat(`\u00e9`, 10<<10) + `"}`, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := r.do("POST", "/api/v1/comments", tt.body)
			took := time.Since(start)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %.200s", res.status, tt.status, res.body)
			}
			if tt.status >= 400 {
				errCode(t, res) // a JSON error with a message
			}
			if took > time.Second {
				t.Errorf("took %v, want well under a second", took)
			}
		})
	}
}

// TestNULAndInvalidUTF8 proves that NUL bytes and invalid UTF-8, in every
// field and query parameter, get the same 400 (code and message) from a
// SQLite-backed and a PostgreSQL-backed Parley: PostgreSQL cannot store a
// NUL in text, so a check missed would show as a 500 there only.
func TestNULAndInvalidUTF8(t *testing.T) {
	dsn, schema := pgSchema(t)
	envs := map[string]*env{"sqlite": newEnv(t, envOpts{}), "postgres": newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})}
	body := func(kv ...string) string {
		m := map[string]string{"site": "news", "url": articleURL, "title": "T", "text": "hello", "name": "Ann"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		var b strings.Builder
		b.WriteString("{")
		first := true
		for _, k := range []string{"site", "url", "title", "text", "name"} {
			if !first {
				b.WriteString(",")
			}
			first = false
			fmt.Fprintf(&b, "%q:\"%s\"", k, m[k])
		}
		b.WriteString("}")
		return b.String()
	}
	u := escape(articleURL)
	tests := []struct {
		name, method, path, body string
	}{
		{"NUL in text", "POST", "/api/v1/comments", body("text", `hel\u0000lo`)},
		{"NUL in name", "POST", "/api/v1/comments", body("name", `A\u0000nn`)},
		{"NUL in title", "POST", "/api/v1/comments", body("title", `T\u0000`)},
		{"NUL in url", "POST", "/api/v1/comments", body("url", `https://news.example.com/a\u0000b`)},
		{"NUL in site", "POST", "/api/v1/comments", body("site", `ne\u0000ws`)},
		{"raw invalid UTF-8 in text", "POST", "/api/v1/comments", body("text", "caf\xe9")},
		{"raw invalid UTF-8 in name", "POST", "/api/v1/comments", body("name", "\xff")},
		{"raw invalid UTF-8 in site", "POST", "/api/v1/comments", body("site", "n\xc3")},
		{"NUL in precheck", "POST", "/api/v1/comments/precheck", body("text", `x\u0000`)},
		{"NUL in report note", "POST", "/api/v1/comments/1/report", `{"reason":"spam","note":"a\u0000b"}`},
		{"invalid UTF-8 in report note", "POST", "/api/v1/comments/1/report", "{\"reason\":\"spam\",\"note\":\"a\xffb\"}"},
		{"NUL in edit", "PATCH", "/api/v1/comments/1", `{"text":"a\u0000b"}`},
		{"NUL in thread site", "GET", "/api/v1/threads?site=ne%00ws&url=" + u, ""},
		{"NUL in thread url", "GET", "/api/v1/threads?site=news&url=https://news.example.com/a%00b", ""},
		{"invalid UTF-8 in thread site", "GET", "/api/v1/threads?site=n%ff&url=" + u, ""},
		{"invalid UTF-8 in thread url", "GET", "/api/v1/threads?site=news&url=https://news.example.com/%ff%fe", ""},
		{"NUL in counts", "GET", "/api/v1/counts?site=ne%00ws&url=" + u, ""},
		{"invalid UTF-8 in counts url", "GET", "/api/v1/counts?site=news&url=https://news.example.com/%c3", ""},
		{"NUL in stream site", "GET", "/api/v1/stream?site=ne%00ws&url=" + u, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			for name, e := range envs {
				r := e.reader("Ann")
				// Comment 1 exists on each, posted by this reader.
				if p := r.post("first", nil); p.status != 201 {
					t.Fatalf("%s: seed post: %d %s", name, p.status, p.body)
				}
				var res resp
				if tt.body == "" {
					res = r.do(tt.method, tt.path, nil)
				} else {
					res = r.do(tt.method, tt.path, []byte(tt.body))
				}
				if res.status != 400 {
					t.Errorf("%s: %d %s, want 400", name, res.status, res.body)
					continue
				}
				errCode(t, res)
				got[name] = string(res.body)
			}
			if len(got) == 2 && got["sqlite"] != got["postgres"] {
				t.Errorf("different answers:\n sqlite   %s\n postgres %s", got["sqlite"], got["postgres"])
			}
		})
	}
}
