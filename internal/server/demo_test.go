package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
)

// TestDemoData starts `serve --demo` as the README's first command does:
// the demo article has a discussion with a reply, a quote and votes, the
// moderators have a held comment (with its reasons) and a reported one,
// the demo moderator can sign in, and a second start seeds nothing again.
func TestDemoData(t *testing.T) {
	dir := t.TempDir()
	const token = "demo-test-admin-token-0123456789"
	args := []string{"--demo", "--demo-data=true", "--data", dir, "--admin-token", token}
	srv := servertest.Start(t, servertest.Config(t, args...), server.Options{})
	base := srv.URL()
	up := srv.Startup()
	if !up.DemoSeeded || up.DemoPosted != 7 || up.DemoHeld != 1 || up.DemoEmail == "" || up.DemoLoginFile != filepath.Join(dir, "demo-login") {
		t.Errorf("first start: %+v; want 7 comments seeded, 1 held, and the moderator's login in DATA/demo-login", up)
	}
	published := up.DemoPosted - up.DemoHeld
	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	type comment struct {
		Number int             `json:"number"`
		Parent *int64          `json:"parent"`
		Quote  json.RawMessage `json:"quote"`
		Score  int             `json:"score"`
		HTML   string          `json:"html"`
	}
	threadPath := "/api/v1/threads?site=demo&url=" + url.QueryEscape(base+"/demo")
	var th struct {
		Page struct {
			Count int `json:"count"`
		} `json:"page"`
		Comments []comment `json:"comments"`
	}
	get(threadPath, &th)
	if th.Page.Count != published || len(th.Comments) != th.Page.Count {
		t.Fatalf("demo thread: count %d, %d comments; want %d published", th.Page.Count, len(th.Comments), published)
	}
	var replies, quotes, votes int
	for _, c := range th.Comments {
		if c.Parent != nil {
			replies++
		}
		if len(c.Quote) > 0 && string(c.Quote) != "null" {
			quotes++
		}
		votes += c.Score
		if strings.Contains(c.HTML, "vermin") {
			t.Errorf("the hateful demo comment is published: #%d", c.Number)
		}
	}
	if replies != 2 || quotes != 1 || votes != 7 {
		t.Errorf("demo thread: %d replies, %d quotes, %d votes; want 2, 1, 7", replies, quotes, votes)
	}

	type queue struct {
		Items []struct {
			Text    string `json:"text"`
			Reasons []struct {
				Rule string `json:"rule"`
			} `json:"reasons"`
			Reports []json.RawMessage `json:"reports"`
		} `json:"comments"`
	}
	var pending, reported queue
	get("/api/v1/admin/queue?site=demo&status=pending", &pending)
	if len(pending.Items) != 1 || !strings.Contains(pending.Items[0].Text, "vermin") || len(pending.Items[0].Reasons) == 0 {
		t.Errorf("pending queue: %+v; want the hateful comment with its reasons", pending.Items)
	}
	get("/api/v1/admin/queue?site=demo&status=reported", &reported)
	if len(reported.Items) != 1 || len(reported.Items[0].Reports) != 2 {
		t.Errorf("reported queue: %+v; want one comment with two reports", reported.Items)
	}

	login, err := os.ReadFile(filepath.Join(dir, "demo-login"))
	if err != nil {
		t.Fatal(err)
	}
	email, password, _ := strings.Cut(strings.TrimSpace(string(login)), "\n")
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, err := http.Post(base+"/api/v1/admin/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("demo moderator sign-in: %d", res.StatusCode)
	}

	// A second start on the same data seeds nothing and keeps the login.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	again := servertest.Start(t, servertest.Config(t, args...), server.Options{})
	if up := again.Startup(); up != (server.Startup{}) {
		t.Errorf("second start: %+v; want nothing created", up)
	}
	base = again.URL() // a new port; threadPath still names the page seeded above
	get(threadPath, &th)
	if th.Page.Count != published {
		t.Errorf("after a restart: %d comments, want %d", th.Page.Count, published)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "demo-login")); !bytes.Equal(after, login) {
		t.Errorf("demo login changed on restart")
	}
}
