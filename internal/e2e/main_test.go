package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"
)

// binary is the parley executable built once by TestMain for every test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parley-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-o", binary, "./cmd/parley")
	build.Dir = testenv.Root()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/parley: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// adminToken is the bearer token every test server runs with.
const adminToken = "e2e-admin-token-0123456789abcdef"

// server is a running parley process.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	URL     string // base URL, e.g. http://127.0.0.1:41234
	DataDir string
	logs    *syncBuffer
	exited  chan struct{} // closed when the process has been waited for
	waitErr error
}

// syncBuffer collects a child's stderr for the failure report.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep the report readable and memory bounded
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listenLine = regexp.MustCompile(`listening on (http://\S+)`)

// startServer runs `parley serve --demo` on a free loopback port over
// dataDir, with rate limits off, and waits until it is listening. The
// process is stopped when the test ends.
func startServer(t *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	argv := append([]string{"serve", "--demo", "--demo-data=false", "--addr", "127.0.0.1:0", "--data", dataDir, "--admin-token", adminToken}, args...)
	cmd := exec.Command(binary, argv...)
	cmd.Env = append(os.Environ(), "PARLEY_RATE_LIMIT=off", "PARLEY_LOG_LEVEL=warn")
	s := &server{t: t, cmd: cmd, DataDir: dataDir, logs: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.stop)

	found := make(chan string, 1)
	go func() { // exits when the child closes its stdout
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.URL = <-found:
	case <-s.exited:
		t.Fatalf("parley exited before listening (%v):\n%s", s.waitErr, s.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("parley did not print its address within 30 s:\n%s", s.logs)
	}
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.t.Fatal("parley did not die within 10 s of SIGKILL")
	}
}

// stop ends the process gracefully (SIGTERM), killing it if it lingers.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("parley ignored SIGTERM for 15 s:\n%s", s.logs)
	}
}

// checkAlive fails the test with the server's log if it has exited.
func (s *server) checkAlive() {
	s.t.Helper()
	select {
	case <-s.exited:
		s.t.Fatalf("parley exited (%v):\n%s", s.waitErr, s.logs)
	default:
	}
}

// client is one reader's browser session: its own cookies, keep-alive.
type client struct {
	srv  *server
	http *http.Client
}

func (s *server) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{srv: s, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode unmarshals a JSON body into v.
func (r response) decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("response %d is not the JSON expected: %v: %.300s", r.Status, err, r.Body)
	}
	return nil
}

// do sends body (nil, []byte sent as is, or a value encoded as JSON).
func (c *client) do(method, path string, body any, header ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{res.StatusCode, res.Header, b}, nil
}

// admin sends a request with the admin token.
func (c *client) admin(method, path string, body any) (response, error) {
	return c.do(method, path, body, "Authorization", "Bearer "+adminToken)
}

// Wire shapes of the public API (issue 2), as far as these tests read them.
type (
	apiComment struct {
		ID     int64  `json:"id"`
		Parent *int64 `json:"parent"`
		Quote  *struct {
			ID      int64  `json:"id"`
			Number  int    `json:"number"`
			HTML    string `json:"html"`
			Removed bool   `json:"removed"`
		} `json:"quote"`
		Number int `json:"number"`
		Author *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"author"`
		HTML   string `json:"html"`
		Status string `json:"status"`
	}
	apiThread struct {
		Page struct {
			URL   string `json:"url"`
			Title string `json:"title"`
			Count int    `json:"count"`
		} `json:"page"`
		Comments []apiComment `json:"comments"`
		Cursor   string       `json:"cursor"`
	}
	apiPosted struct {
		Comment apiComment `json:"comment"`
		Status  string     `json:"status"`
	}
	apiError struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
)

// thread reads every comment of a page, following the cursor.
func (c *client) thread(site, pageURL string) (*apiThread, error) {
	var all *apiThread
	cursor := ""
	for range 1000 {
		res, err := c.do("GET", "/api/v1/threads?limit=1000&site="+site+"&url="+url.QueryEscape(pageURL)+"&cursor="+url.QueryEscape(cursor), nil)
		if err != nil {
			return nil, err
		}
		if res.Status != http.StatusOK {
			return nil, fmt.Errorf("GET thread: %d %.300s", res.Status, res.Body)
		}
		var th apiThread
		if err := res.decode(&th); err != nil {
			return nil, err
		}
		if all == nil {
			all = &th
		} else {
			all.Comments = append(all.Comments, th.Comments...)
		}
		if th.Cursor == "" {
			return all, nil
		}
		cursor = th.Cursor
	}
	return nil, fmt.Errorf("thread %s: cursor never ended", pageURL)
}
