package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/server"
)

// TestStartProcess starts small shell scripts that behave as a serving
// child might: StartProcess must report where a loopback child listens,
// refuse any other address, report a child that dies before listening with
// what it wrote to stderr, and give up when its context ends.
func TestStartProcess(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		wantURL string // "" when StartProcess must fail
		wantErr string
	}{
		{"loopback", `echo "Parley dev listening on http://127.0.0.1:4321"; exec sleep 30`, 10 * time.Second, "http://127.0.0.1:4321", ""},
		{"not loopback", `echo "listening on http://192.0.2.1:80"; exec sleep 30`, 10 * time.Second, "", "not a loopback address"},
		{"exits first", `echo "open store: disk full" >&2; exit 3`, 10 * time.Second, "", "disk full"},
		{"never listens", `exec sleep 30`, 200 * time.Millisecond, "", "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			p, err := server.StartProcess(ctx, "/bin/sh", []string{"-c", tt.script})
			if tt.wantURL == "" {
				if err == nil {
					p.Stop()
					t.Fatalf("started, listening on %s; want an error", p.URL)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q; want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.URL != tt.wantURL {
				t.Errorf("URL %q, want %q", p.URL, tt.wantURL)
			}
			if err := p.Alive(); err != nil {
				t.Errorf("Alive: %v", err)
			}
			if err := p.Stop(); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if err := p.Alive(); err == nil {
				t.Error("Alive after Stop: nil, want an error")
			}
		})
	}
}
