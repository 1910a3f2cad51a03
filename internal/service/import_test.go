package service_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/importer"
	"github.com/parleyhq/parley/internal/service"
)

// records is an importer.Reader over a list of records.
type records []importer.Record

func (r *records) Next() (importer.Record, error) {
	if len(*r) == 0 {
		return importer.Record{}, io.EOF
	}
	rec := (*r)[0]
	*r = (*r)[1:]
	return rec, nil
}

// TestImportOrder: comments are numbered in the order they were written
// whatever the order of the export, a reply dated before its parent still
// follows it, a cycle of parents is broken (its comments come last), and
// text is repaired.
func TestImportOrder(t *testing.T) {
	w := newWorld(t)
	at := func(min int) time.Time { return time.Date(2020, 1, 1, 10, min, 0, 0, time.UTC) }
	c := func(id, parent string, min int, body string) importer.Record {
		return importer.Record{Comment: &importer.Comment{ID: id, PageKey: "p", ParentID: parent, Body: body,
			Status: importer.StatusApproved, Created: at(min), Author: importer.Author{Name: "N\u200b\x01 " + id}}}
	}
	long := strings.Repeat("é", service.MaxTextBytes) // twice the cap in bytes
	in := records{
		c("late", "", 30, "written last"),
		c("reply-early", "parent", 5, "a reply dated before its parent"),
		c("parent", "", 10, "the parent"),
		{Page: &importer.Page{Key: "p", URL: "https://news.example.com/story?utm_source=x", Title: "Story"}},
		c("cyc-a", "cyc-b", 40, "cycle a"),
		c("cyc-b", "cyc-a", 41, "cycle b"),
		c("bad", "", 50, "bad \xff bytes \x00 here"),
		c("long", "", 60, long),
		c("empty", "", 70, "   "),
	}
	rep, err := w.svc.Import(w.ctx, &in, service.ImportOptions{SiteID: "news", Source: "test", BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 7 || rep.Skipped["no text"] != 1 || rep.Truncated != 1 || rep.UsersCreated != 7 {
		t.Errorf("report: %+v", rep)
	}
	v, err := w.svc.Thread(w.ctx, service.ThreadRequest{SiteID: "news", URL: "https://news.example.com/story", Sort: "oldest", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	byNum := map[int]*parley.Comment{}
	byID := map[int64]*parley.Comment{}
	for _, c := range v.Thread.Comments {
		byNum[c.Number], byID[c.ID] = c, c
	}
	text := func(n int) string {
		if byNum[n] == nil {
			return ""
		}
		if t := byNum[n].Text; len(t) > 40 {
			return t[:20] + "…" + t[len(t)-10:]
		}
		return byNum[n].Text
	}
	for n, want := range []string{1: "the parent", 2: "a reply dated before its parent", 3: "written last", 6: "cycle a", 7: "cycle b"} {
		if want != "" && text(n) != want {
			t.Errorf("#%d: got %q, want %q", n, text(n), want)
		}
	}
	if p := byID[byNum[2].ParentID]; p == nil || p.Number != 1 {
		t.Errorf("the early reply's parent: got %+v, want #1", p)
	}
	if byNum[6] == nil || byNum[7] == nil || byNum[6].ParentID != 0 || byID[byNum[7].ParentID] != byNum[6] {
		t.Errorf("cycle: want #6 top-level and #7 its reply")
	}
	if got := text(4); got != "bad \uFFFD bytes \uFFFD here" {
		t.Errorf("repaired text: got %q", got)
	}
	if got := byNum[5].Text; len(got) > service.MaxTextBytes || !strings.HasSuffix(got, " […]") {
		t.Errorf("long text: %d bytes, ends %q; want cut to the cap and marked", len(got), got[len(got)-10:])
	}
	if got := byNum[1].AuthorName; got != "N parent" {
		t.Errorf("cleaned name: got %q", got)
	}
	if v.Page.Title != "Story" || v.Page.URL != "https://news.example.com/story" {
		t.Errorf("page: %+v", v.Page)
	}
}
