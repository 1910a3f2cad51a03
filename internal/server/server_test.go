package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/testenv"
)

// backends are the stores a server runs on: SQLite in its data directory,
// and PostgreSQL in a schema of its own (whose store the test opens, as the
// configuration cannot name a schema).
var backends = []struct {
	name string
	opts func(t *testing.T) server.Options
}{
	{"sqlite", func(t *testing.T) server.Options { return server.Options{} }},
	{"postgres", func(t *testing.T) server.Options {
		dsn, schema := testenv.PostgresSchema(t, "parley_server_")
		db := postgres.New(dsn)
		db.Schema = schema
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return server.Options{Store: db}
	}},
}

// TestCloseStopsEverything serves a reader who posts, reads and follows the
// page's event stream, then closes the server while the stream is open:
// Serve returns nil, Close can be called again with the same result, the
// listener is gone, and no goroutine Open or Serve started is left — the
// broker, the PostgreSQL listener, the site models, the API's housekeeping,
// the HTTP server and its connections.
func TestCloseStopsEverything(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			opts := be.opts(t)
			cfg := servertest.Config(t, "--demo", "--demo-data=false")
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			before := testenv.RunningGoroutines()

			srv, err := server.Open(context.Background(), cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(context.Background()) }()
			base := srv.URL()
			page := base + "/demo"
			stream, err := client.Get(base + "/api/v1/stream?site=demo&url=" + url.QueryEscape(page))
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Body.Close()
			body, _ := json.Marshal(map[string]string{"site": "demo", "url": page, "title": "Demo", "text": "A first comment.", "name": "Ann"})
			res, err := client.Post(base+"/api/v1/comments", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("POST comment: %d", res.StatusCode)
			}
			// The comment reaches the open stream: the broker runs.
			created := regexp.MustCompile(`^event: comment\.created`)
			sc := bufio.NewScanner(stream.Body)
			for found := false; !found; {
				if !sc.Scan() {
					t.Fatalf("stream ended before comment.created: %v", sc.Err())
				}
				found = created.MatchString(sc.Text())
			}

			first := srv.Close()
			if first != nil {
				t.Errorf("Close: %v", first)
			}
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve after Close: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10 s of Close")
			}
			if again := srv.Close(); !errors.Is(again, first) {
				t.Errorf("second Close: %v, want the first's %v", again, first)
			}
			if c, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after Close", srv.Addr())
			}
			stream.Body.Close()
			client.CloseIdleConnections()
			before.CheckStopped(t)
		})
	}
}

// TestCloseWithoutServe closes a server that never served, and one whose
// Serve ends with its context: nothing is left running either way.
func TestCloseWithoutServe(t *testing.T) {
	cfg := servertest.Config(t, "--no-model")
	before := testenv.RunningGoroutines()
	srv, err := server.Open(context.Background(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	before.CheckStopped(t)

	srv, err = server.Open(context.Background(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve after its context ended: %v", err)
	}
	before.CheckStopped(t)
}

// TestOpenFails reports a configuration Open cannot serve, and leaves
// nothing running: the listener it opened first is closed again.
func TestOpenFails(t *testing.T) {
	cfg := servertest.Config(t)
	cfg.SecretKey = "not hex"
	before := testenv.RunningGoroutines()
	if srv, err := server.Open(context.Background(), cfg, server.Options{}); err == nil {
		srv.Close()
		t.Fatal("Open with a bad secret key succeeded")
	}
	before.CheckStopped(t)
}

// TestStartup reports a generated admin token once: on the first start,
// saved in the data directory, and not on the next.
func TestStartup(t *testing.T) {
	dir := t.TempDir()
	cfg := servertest.Config(t, "--data", dir, "--no-model")
	cfg.AdminToken = ""
	a := servertest.Start(t, cfg, server.Options{})
	if up := a.Startup(); up.AdminTokenFile == "" || a.AdminToken() == "" {
		t.Fatalf("first start: %+v, token %q; want a generated token", up, a.AdminToken())
	}
	a.Close()
	b := servertest.Start(t, cfg, server.Options{})
	if up := b.Startup(); up.AdminTokenFile != "" || b.AdminToken() != a.AdminToken() {
		t.Errorf("second start: %+v, token %q; want the first start's token, not reported again", up, b.AdminToken())
	}
	if got := b.Config().BaseURL; got != b.URL() {
		t.Errorf("base URL %q; want the listener's %q for a :0 address", got, b.URL())
	}
}
