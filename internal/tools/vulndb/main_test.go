package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBuild: two OSV entries become the layout govulncheck reads: each entry
// under ID/, the modules index with the latest fix that no later
// introduction supersedes, and the database's modification time.
func TestBuild(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "db")
	write := func(id, body string) {
		if err := os.WriteFile(filepath.Join(src, id+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("GO-2026-0001", `{"id":"GO-2026-0001","modified":"0001-01-01T00:00:00Z","affected":[
		{"package":{"name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.25.10"},{"introduced":"1.26.0-0"},{"fixed":"1.26.9"}]}]},
		{"package":{"name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"1.3.0"}]}]}]}`)
	write("GO-2026-0002", `{"id":"GO-2026-0002","modified":"2026-10-01T00:00:00Z","affected":[
		{"package":{"name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.10"}]}]}]}`)
	at := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	n, err := build(src, out, at)
	if err != nil || n != 2 {
		t.Fatalf("build: %d, %v", n, err)
	}
	var mods []moduleMeta
	b, _ := os.ReadFile(filepath.Join(out, "index", "modules.json"))
	if err := json.Unmarshal(b, &mods); err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || mods[0].Path != "example.com/m" || mods[1].Path != "stdlib" {
		t.Fatalf("modules index: %s", b)
	}
	if v := mods[0].Vulns; len(v) != 1 || v[0].Fixed != "" {
		t.Errorf("a fix superseded by a later introduction: %+v, want no fixed version", v)
	}
	if v := mods[1].Vulns; len(v) != 2 || v[0].Fixed != "1.26.9" || v[1].Fixed != "1.26.10" || !v[0].Modified.Equal(at) {
		t.Errorf("stdlib vulns: %+v", v)
	}
	var db struct{ Modified time.Time }
	b, _ = os.ReadFile(filepath.Join(out, "index", "db.json"))
	if json.Unmarshal(b, &db); !db.Modified.Equal(at) {
		t.Errorf("db.json %s, want modified %v", b, at)
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "GO-2026-0002.json")); err != nil {
		t.Error(err)
	}
	// A file not named by its entry's id is refused.
	write("GO-2026-0003", `{"id":"GO-2026-0004"}`)
	if _, err := build(src, out, at); err == nil {
		t.Error("a misnamed entry was accepted")
	}
}

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.26.9", "1.26.10", -1}, {"1.26.0-0", "1.26.0", -1}, {"1.2.3", "1.2.3", 0},
		{"0.58.1-0.20261009181718-2f1f834330b2", "0.58.0", 1}, {"1.0.0-alpha", "1.0.0-beta", -1},
		{"1.0.0-1", "1.0.0-alpha", -1}, {"2.0.0", "10.0.0", -1},
	} {
		if got := compare(c.a, c.b); (got > 0) != (c.want > 0) || (got < 0) != (c.want < 0) {
			t.Errorf("compare(%s, %s) = %d, want sign %d", c.a, c.b, got, c.want)
		}
	}
	if got := pseudoTime("v0.0.0-20261105234957-e22db6528018"); !got.Equal(time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)) {
		t.Errorf("pseudoTime: %v", got)
	}
}
