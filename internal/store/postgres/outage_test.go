package postgres

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// proxy forwards TCP connections to a PostgreSQL server until it is cut,
// which closes every connection and refuses new ones, as a database that
// goes away would; restore listens again on the same address.
type proxy struct {
	t      *testing.T
	addr   string // where the proxy listens
	target string // the server

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.restore()
	t.Cleanup(func() { p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[s] = true, true
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			p.wg.Go(func() { pipe(s, c) })
			p.wg.Go(func() { pipe(c, s) })
		}
	})
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// TestOutage cuts the database away from an open store: every method
// answers EUnavailable, and the store recovers by itself once the database
// is back.
func TestOutage(t *testing.T) {
	dsn, schema := newSchema(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("PARLEY_TEST_POSTGRES is not a postgres:// URL with a host: %v", err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	db := openIn(t, withParam(u.String(), "connect_timeout", "2"), schema, nil)
	page := seed(t, db)
	ctx := t.Context()
	// The events this store has just committed are read from memory (see
	// store.EventTail); a read after the newest needs the database.
	newest, err := db.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	p.cut()
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"Ping", func() error { return db.Ping(ctx) }},
		{"PageByID", func() error { _, err := db.PageByID(ctx, page.ID); return err }},
		{"CreateComment", func() error {
			return db.CreateComment(ctx, &parley.Comment{PageID: page.ID, AuthorID: "a", Text: "x", Status: parley.StatusApproved})
		}},
		{"SetStatus", func() error { _, err := db.SetStatus(ctx, 1, parley.StatusRejected, nil, true); return err }},
		{"EventsSince", func() error { _, err := db.EventsSince(ctx, newest, 10); return err }},
	} {
		if code := parley.ErrorCode(tc.do()); code != parley.EUnavailable {
			t.Errorf("%s during the outage: got code %q, want %q", tc.name, code, parley.EUnavailable)
		}
	}

	p.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.Ping(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping 10 s after the database came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := &parley.Comment{PageID: page.ID, AuthorID: "a", Text: "back", Status: parley.StatusApproved}
	if err := db.CreateComment(ctx, c); err != nil {
		t.Fatalf("CreateComment after the outage: %v", err)
	}
	if c.Number != 1 {
		t.Errorf("the first comment after the outage: got number %d, want 1 (nothing was half-written)", c.Number)
	}
}
