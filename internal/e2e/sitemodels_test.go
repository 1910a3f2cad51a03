package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/toxicity"
)

// TestSiteModelOnOtherInstance runs two Parley servers on one
// PostgreSQL database. B starts with the base model alone. A starts over a
// data directory holding DATA/models/demo.site, as an earlier version of
// Parley kept a site's tuned model, and imports it into the database. B,
// not restarted, must then hold the comment the tuned model holds, as A
// does, and store the same toxicity score for it.
func TestSiteModelOnOtherInstance(t *testing.T) {
	dsn := freshDatabase(t)
	key := "--database=" + dsn
	const page = "https://news.example.com/2026/12/crypto"
	const probe = "Double your bitcoin at coinzz dot example, limited offer."
	b := startServer(t, t.TempDir(), key)

	status := func(s *instance, path string) (string, response) {
		t.Helper()
		res, err := s.client().do("POST", path, map[string]any{"site": "demo", "url": page, "title": "Crypto", "text": probe, "name": "Pat"})
		if err != nil || res.Status/100 != 2 {
			t.Fatalf("POST %s: %v %d %s", path, err, res.Status, res.Body)
		}
		var out struct {
			Status  string `json:"status"`
			Comment struct {
				Status string `json:"status"`
			} `json:"comment"`
		}
		if err := res.decode(&out); err != nil {
			t.Fatal(err)
		}
		if out.Comment.Status != "" { // a post: the stored comment's status
			return out.Comment.Status, res
		}
		return out.Status, res
	}
	if got, _ := status(b, "/api/v1/comments/precheck"); got != "approved" {
		t.Fatalf("B with the base model: precheck says %s, want approved", got)
	}

	// The site model file: this site's moderators rejected crypto
	// promotion, which the base model lets through.
	base, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	var ds []toxicity.Labelled
	for i := range 100 {
		ds = append(ds,
			toxicity.Labelled{Text: fmt.Sprintf("Great article! Double your bitcoin at coinzz dot example, offer %d ends soon.", i), Rejected: true},
			toxicity.Labelled{Text: fmt.Sprintf("The council should publish the tram budget before the vote, item %d.", i)})
	}
	tuned := toxicity.Tune(base, ds)
	if s := tuned.Score(probe, "").Toxicity; s < 0.85 {
		t.Fatalf("the tuned model scores the probe %.3f: the test needs it well above the demo's hold at 0.80", s)
	}
	var file bytes.Buffer
	if err := tuned.Save(&file); err != nil {
		t.Fatal(err)
	}
	dirA := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dirA, "models"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirA, "models", "demo.site"), file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	a := startServer(t, dirA, key)
	if got, _ := status(a, "/api/v1/comments/precheck"); got != "pending" {
		t.Fatalf("A with the imported model: precheck says %s, want pending", got)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, _ := status(b, "/api/v1/comments/precheck")
		if got == "pending" {
			t.Logf("B holds the probe %v after A started", time.Since(started).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B 10 s after A imported the site model: precheck says %s, want pending as on A", got)
		}
	}

	for _, s := range []*instance{a, b} {
		if got, res := status(s, "/api/v1/comments"); got != "pending" {
			t.Fatalf("posted on %s: status %s, want pending: %s", s.URL, got, res.Body)
		}
	}
	res, err := b.client().admin("GET", "/api/v1/admin/queue?site=demo&status=pending", nil)
	if err != nil || res.Status != 200 {
		t.Fatalf("queue on B: %v %d %s", err, res.Status, res.Body)
	}
	var q struct {
		Comments []struct {
			Text     string  `json:"text"`
			Toxicity float64 `json:"toxicity"`
		} `json:"comments"`
	}
	if err := res.decode(&q); err != nil {
		t.Fatal(err)
	}
	if len(q.Comments) != 2 || q.Comments[0].Text != probe || q.Comments[0].Toxicity != q.Comments[1].Toxicity || q.Comments[0].Toxicity < 0.8 {
		t.Errorf("pending queue after posting the probe on A and on B: %+v; want the probe twice with one toxicity score >= 0.80", q.Comments)
	}
	if _, err := os.Stat(filepath.Join(dirA, "models", "demo.site")); err != nil {
		t.Errorf("the imported file was not left in place: %v", err)
	}
}
