package service_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// TestChangeSite changes some of a site's settings at a time: what the
// change leaves nil stays as stored, and a change ValidateSite refuses
// stores nothing.
func TestChangeSite(t *testing.T) {
	w := newWorld(t)
	name, policy := "The News", "https://news.example.com/policy"
	origins, none := []string{"https://news.example.com"}, []string{}
	params := []string{"utm_source"}
	bad := []string{"not an origin"}
	for _, tc := range []struct {
		name   string
		id     string
		change service.SiteChange
		code   string
		want   parley.Site // Name, PolicyURL, Origins, IgnoreParams after
	}{
		{"name only", "news", service.SiteChange{Name: &name}, "",
			parley.Site{Name: name}},
		{"origins and params", "news", service.SiteChange{Origins: &origins, IgnoreParams: &params}, "",
			parley.Site{Name: name, Origins: origins, IgnoreParams: params}},
		{"policy URL, the rest kept", "news", service.SiteChange{PolicyURL: &policy}, "",
			parley.Site{Name: name, PolicyURL: policy, Origins: origins, IgnoreParams: params}},
		{"invalid origin refused", "news", service.SiteChange{Origins: &bad}, parley.EInvalid,
			parley.Site{Name: name, PolicyURL: policy, Origins: origins, IgnoreParams: params}},
		{"origins emptied", "news", service.SiteChange{Origins: &none}, "",
			parley.Site{Name: name, PolicyURL: policy, IgnoreParams: params}},
		{"unknown site", "nosuch", service.SiteChange{Name: &name}, parley.ENotFound, parley.Site{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.ChangeSite(w.ctx, tc.id, tc.change)
			if got := parley.ErrorCode(err); got != tc.code {
				t.Fatalf("ChangeSite: %v, want code %q", err, tc.code)
			}
			if tc.code == parley.ENotFound {
				return
			}
			s, err := w.db.Site(w.ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != tc.want.Name || s.PolicyURL != tc.want.PolicyURL ||
				!slices.Equal(s.Origins, tc.want.Origins) || !slices.Equal(s.IgnoreParams, tc.want.IgnoreParams) {
				t.Errorf("stored %q %q %v %v, want %q %q %v %v", s.Name, s.PolicyURL, s.Origins, s.IgnoreParams,
					tc.want.Name, tc.want.PolicyURL, tc.want.Origins, tc.want.IgnoreParams)
			}
		})
	}
}

// TestExportFile writes the export to a private file, the same bytes as
// Export writes, and leaves nothing behind when the export fails.
func TestExportFile(t *testing.T) {
	w := newWorld(t)
	if _, err := w.svc.Post(w.ctx, w.newReader(), service.PostInput{SiteID: "news", URL: article, Text: "A comment.", Name: "Reader"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "news.jsonl")
	rep, err := w.svc.ExportFile(w.ctx, path, service.ExportOptions{SiteID: "news"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Comments != 1 || rep.Pages != 1 {
		t.Errorf("report %+v, want 1 page and 1 comment", rep)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if _, err := w.svc.Export(w.ctx, &want, service.ExportOptions{SiteID: "news"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the file differs from Export's output:\n%s\nwant\n%s", got, want.Bytes())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v; want 0600 (it may hold e-mail addresses)", fi.Mode(), err)
	}

	failed := filepath.Join(dir, "nosuch.jsonl")
	if _, err := w.svc.ExportFile(w.ctx, failed, service.ExportOptions{SiteID: "nosuch"}); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("export of an unknown site: %v, want not found", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("after a failed export the directory holds %d files, want only the first export", len(entries))
	}
}
