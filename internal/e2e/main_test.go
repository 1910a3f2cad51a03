package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBinary()
	os.Exit(code)
}

// adminToken is the bearer token every test server runs with.
const adminToken = "e2e-admin-token-0123456789abcdef"

// instance is a running Parley: in this process (startServer), or a child
// process (startProcess) where the test is about the process.
type instance struct {
	t       *testing.T
	URL     string // base URL, e.g. http://127.0.0.1:41234
	DataDir string
	srv     *server.Server  // in this process, or
	proc    *server.Process // a child
}

// serveArgs are the flags of every test server: `serve --demo` on a free
// loopback port over dataDir, without the demo's seeded data, then args.
func serveArgs(dataDir string, args []string) []string {
	return append([]string{"--demo", "--demo-data=false", "--addr", "127.0.0.1:0", "--data", dataDir, "--admin-token", adminToken}, args...)
}

// startServer runs Parley in this process as `parley serve --demo` with
// args would (rate limits off), until the test ends.
func startServer(t *testing.T, dataDir string, args ...string) *instance {
	t.Helper()
	srv := servertest.Start(t, servertest.Config(t, serveArgs(dataDir, args)...), server.Options{})
	return &instance{t: t, URL: srv.URL(), DataDir: dataDir, srv: srv}
}

// startProcess runs the parley binary as `parley serve --demo` with args
// (rate limits off) and waits until it is listening. The process is
// stopped when the test ends.
func startProcess(t *testing.T, dataDir string, args ...string) *instance {
	t.Helper()
	bin := testenv.Binary(t) // built once, outside the start's time limit
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append([]string{"serve"}, serveArgs(dataDir, args)...)
	proc, err := server.StartProcess(ctx, bin, argv, "PARLEY_RATE_LIMIT=off", "PARLEY_LOG_LEVEL=warn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := proc.Stop(); err != nil {
			t.Error(err)
		}
	})
	return &instance{t: t, URL: proc.URL, DataDir: dataDir, proc: proc}
}

// kill sends SIGKILL to a child process and waits for it to be gone.
func (s *instance) kill() {
	s.t.Helper()
	if s.proc == nil {
		s.t.Fatal("kill: the server runs in this process (start it with startProcess)")
	}
	if err := s.proc.Kill(); err != nil {
		s.t.Fatal(err)
	}
}

// checkAlive fails the test with the server's log if it has stopped.
func (s *instance) checkAlive() {
	s.t.Helper()
	if s.proc != nil {
		if err := s.proc.Alive(); err != nil {
			s.t.Fatal(err)
		}
		return
	}
	res, err := http.Get(s.URL + "/healthz")
	if err != nil {
		s.t.Fatalf("the server stopped answering: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /healthz: %d", res.StatusCode)
	}
}

// logs is a child's stderr; an in-process server's log is shown by
// servertest when the test fails.
func (s *instance) logs() string {
	if s.proc != nil {
		return s.proc.Logs()
	}
	return "(in-process: see the server log below)"
}

// client is one reader's browser session: its own cookies, keep-alive.
type client struct {
	srv  *instance
	http *http.Client
}

func (s *instance) client() *client {
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
