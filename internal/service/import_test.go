package service_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/importer"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
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

// TestImportPagePolicy: a page's policy override in Parley's own export is
// given to the page, before its comments are moderated, with an audit
// entry; one this site cannot apply is left out with a warning; an
// override the page already has here is kept; a page with settings and no
// comments is made; and a second run changes nothing.
func TestImportPagePolicy(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) {})
	const base = "https://news.example.com/2026/"
	// A page that has an override here already.
	if _, err := w.svc.UpdatePage(w.ctx, admin, service.PageRef{SiteID: "news", URL: base + "kept"},
		service.PageUpdate{Policy: override(`{"max_links":2}`), Create: true}); err != nil {
		t.Fatal(err)
	}
	page := func(name, policy string, closed bool) importer.Record {
		var raw json.RawMessage
		if policy != "" {
			raw = json.RawMessage(policy)
		}
		return importer.Record{Page: &importer.Page{Key: name, URL: base + name, Title: name, Closed: closed, Policy: raw}}
	}
	comment := func(id, page string) importer.Record {
		return importer.Record{Comment: &importer.Comment{ID: id, PageKey: page, Body: "comment " + id,
			Status: importer.StatusApproved, Created: time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC), Author: importer.Author{ID: "u1", Name: "Ann"}}}
	}
	export := func() *records {
		return &records{
			page("held", `{"mode":"pre_all"}`, false), comment("1", "held"),
			page("unknown", `{"mode":"pre_all","shiny":true}`, false), comment("2", "unknown"),
			page("closes", `{"closed":true}`, false), comment("3", "closes"),
			page("bad", `{"max_links":5000}`, false), comment("4", "bad"),
			page("kept", `{"mode":"pre_all"}`, false), comment("5", "kept"),
			page("empty", `{"banned_words":["spoiler"]}`, true),
			page("closed", ``, true),
			page("plain", ``, false),
		}
	}
	rep, err := w.svc.Import(w.ctx, export(), service.ImportOptions{SiteID: "news", Source: importer.FormatParley, Moderate: true})
	if err != nil {
		t.Fatal(err)
	}
	warned := strings.Join(rep.Warnings, "\n")
	for _, want := range []string{
		`page "` + base + `unknown": its policy override was not imported: it is not a policy override this version knows: json: unknown field "shiny"`,
		`page "` + base + `closes": its policy override was not imported: closed is set beside`,
		`page "` + base + `bad": its policy override was not imported: max_links must be between`,
		`page ` + base + `kept keeps the policy override it has here`,
	} {
		if !strings.Contains(warned, want) {
			t.Errorf("warnings lack %q:\n%s", want, warned)
		}
	}
	if rep.WarningCount != 4 || rep.Pages != 7 {
		t.Errorf("report: %d warnings, %d pages; want 4 warnings and 7 pages (6 with comments or settings, and kept)", rep.WarningCount, rep.Pages)
	}

	st := w.db
	settings := func() map[string]string {
		out := map[string]string{}
		for _, name := range []string{"held", "unknown", "closes", "bad", "kept", "empty", "closed", "plain"} {
			p, err := st.Page(w.ctx, "news", base+name)
			if parley.ErrorCode(err) == parley.ENotFound {
				out[name] = "no page"
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			out[name] = fmt.Sprintf("closed=%v policy=%s", p.Closed, p.Policy)
		}
		return out
	}
	want := map[string]string{
		"held":    `closed=false policy={"mode":"pre_all"}`,
		"unknown": `closed=false policy=`,
		"closes":  `closed=false policy=`,
		"bad":     `closed=false policy=`,
		"kept":    `closed=false policy={"max_links":2}`,
		"empty":   `closed=true policy={"banned_words":["spoiler"]}`,
		"closed":  `closed=true policy=`,
		"plain":   `no page`,
	}
	got := settings()
	if !maps.Equal(got, want) {
		t.Errorf("pages after the import:\ngot  %v\nwant %v", got, want)
	}
	// The override held the page's comment under --moderate; the others
	// were published by the site's policy.
	held, err := st.Page(w.ctx, "news", base+"held")
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := st.PageComments(w.ctx, held.ID); err != nil || len(cs) != 1 || cs[0].Status != parley.StatusPending {
		t.Errorf("comment on the pre_all page: %v, %v; want it pending", cs, err)
	}
	if rep.Held != 1 {
		t.Errorf("held by --moderate: %d, want 1", rep.Held)
	}

	// The settings the import gave are in the audit trail.
	acts, err := st.Actions(w.ctx, store.ActionQuery{SiteID: "news"})
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, a := range acts {
		if a.Action == service.AuditPage && a.ActorName == "import (parley)" {
			audited = append(audited, string(a.After))
		}
	}
	slices.Sort(audited)
	wantAudit := []string{
		`{"closed":true,"page":"` + base + `closed"}`,
		`{"closed":true,"page":"` + base + `empty","policy":{"banned_words":["spoiler"]}}`,
		`{"page":"` + base + `held","policy":{"mode":"pre_all"}}`,
	}
	if !slices.Equal(audited, wantAudit) {
		t.Errorf("audit entries of the import:\ngot  %q\nwant %q", audited, wantAudit)
	}

	// Again: nothing changes, nothing more is audited.
	if _, err := w.svc.Import(w.ctx, export(), service.ImportOptions{SiteID: "news", Source: importer.FormatParley, Moderate: true}); err != nil {
		t.Fatal(err)
	}
	if again := settings(); !maps.Equal(again, want) {
		t.Errorf("pages after the second import:\ngot  %v\nwant %v", again, want)
	}
	if again, _ := st.Actions(w.ctx, store.ActionQuery{SiteID: "news"}); len(again) != len(acts) {
		t.Errorf("the second import was audited: %d entries, want %d", len(again), len(acts))
	}

	// Another source's threads without comments are not made.
	rep, err = w.svc.Import(w.ctx, &records{page("other", `{"mode":"pre_all"}`, true)}, service.ImportOptions{SiteID: "news", Source: "test"})
	if err != nil || rep.Pages != 0 {
		t.Errorf("a commentless page of another source: %d pages, %v; want none", rep.Pages, err)
	}
}
