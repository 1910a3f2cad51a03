// Package storetest is the conformance suite of store.Store: every backend
// runs it unchanged from its own tests,
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openEmpty(t) })
//	}
//
// so that SQLite and PostgreSQL keep the same invariants: per-page numbering
// under concurrent writers, approved counts across status changes, one report
// and one vote per reader and comment, the event log, and the rows that the
// shared thread builder turns into readers' views.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call and
// close it when the test ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Sites", siteTests},
		{"Pages", pageTests},
		{"PageList", pageListTests},
		{"Users", userTests},
		{"Comments", commentTests},
		{"Numbering", numberingTests},
		{"Counts", countTests},
		{"Thread", threadTests},
		{"Reports", reportTests},
		{"Votes", voteTests},
		{"Activity", activityTests},
		{"History", historyTests},
		{"PostContext", postContextTests},
		{"Queue", queueTests},
		{"Events", eventTests},
		{"Staff", staffTests},
		{"StaffSessions", staffSessionTests},
		{"ReaderSessions", readerSessionTests},
		{"Sanctions", sanctionTests},
		{"Audit", auditTests},
		{"UnitOfWork", unitTests},
		{"Consumers", consumerTests},
		{"Notes", noteTests},
		{"Reporters", reporterTests},
		{"Priority", priorityTests},
		{"Import", importTests},
		{"Snapshot", snapshotTests},
		{"SiteModels", siteModelTests},
		{"Decisions", decisionTests},
		{"SSO", ssoTests},
		{"BanMarks", banMarkTests},
		{"AdminViews", adminViewTests},
		{"Idempotency", idempotencyTests},
		{"Webhooks", webhookTests},
		{"Mail", mailTests},
		{"OIDC", oidcTests},
		{"Erase", eraseTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					tt.run(t, newFixture(t, open(t)))
				})
			}
		})
	}
}

// test is one named case of the suite.
type test struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// fixture is a store with one site ("news") and one page on it.
type fixture struct {
	t    *testing.T
	s    store.Store
	ctx  context.Context
	site *parley.Site
	page *parley.Page
	seq  int // for unique texts
}

func newFixture(t *testing.T, s store.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, s: s, ctx: t.Context()}
	f.site = f.newSite("news")
	f.page = f.newPage(f.site.ID, "https://news.example.com/2026/story", "A story")
	return f
}

// newSite creates a site with the id.
func (f *fixture) newSite(id string) *parley.Site {
	f.t.Helper()
	s := &parley.Site{ID: id, Name: "Site " + id, Origins: []string{"https://" + id + ".example.com"}}
	if err := f.s.CreateSite(f.ctx, s); err != nil {
		f.t.Fatalf("CreateSite(%q): %v", id, err)
	}
	return s
}

// newPage ensures a page.
func (f *fixture) newPage(site, url, title string) *parley.Page {
	f.t.Helper()
	p, err := f.s.EnsurePage(f.ctx, site, url, title)
	if err != nil {
		f.t.Fatalf("EnsurePage(%q, %q): %v", site, url, err)
	}
	return p
}

// spec describes a comment to create.
type spec struct {
	page    *parley.Page // f.page when nil
	parent  *parley.Comment
	author  string // "alice" when empty
	status  string // approved when empty
	text    string // a unique text when empty
	created time.Time
	ip      string
}

// add creates a comment as spec says.
func (f *fixture) add(sp spec) *parley.Comment {
	f.t.Helper()
	c := f.build(sp)
	if err := f.s.CreateComment(f.ctx, c); err != nil {
		f.t.Fatalf("CreateComment(%+v): %v", sp, err)
	}
	return c
}

// build returns the comment spec describes, not yet stored.
func (f *fixture) build(sp spec) *parley.Comment {
	if sp.page == nil {
		sp.page = f.page
	}
	if sp.author == "" {
		sp.author = "alice"
	}
	if sp.status == "" {
		sp.status = parley.StatusApproved
	}
	if sp.text == "" {
		f.seq++
		sp.text = fmt.Sprintf("comment %d", f.seq)
	}
	c := &parley.Comment{
		PageID: sp.page.ID, AuthorID: sp.author, AuthorName: strings.ToUpper(sp.author[:1]) + sp.author[1:],
		IPHash: sp.ip, Text: sp.text, HTML: "<p>" + sp.text + "</p>", Status: sp.status, Created: sp.created,
	}
	if sp.parent != nil {
		c.ParentID = sp.parent.ID
	}
	return c
}

// setStatus changes a comment's status, failing the test on error.
func (f *fixture) setStatus(c *parley.Comment, status string, seen bool) {
	f.t.Helper()
	if _, err := f.s.SetStatus(f.ctx, c.ID, status, nil, seen); err != nil {
		f.t.Fatalf("SetStatus(%d, %s): %v", c.ID, status, err)
	}
	c.Status = status
}

// pageCount returns the stored approved count of a page.
func (f *fixture) pageCount(p *parley.Page) int {
	f.t.Helper()
	got, err := f.s.PageByID(f.ctx, p.ID)
	if err != nil {
		f.t.Fatalf("PageByID(%d): %v", p.ID, err)
	}
	return got.Count
}

// comment reads a comment back.
func (f *fixture) comment(id int64) *parley.Comment {
	f.t.Helper()
	c, err := f.s.Comment(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Comment(%d): %v", id, err)
	}
	return c
}

// lastEvent returns the id of the newest event.
func (f *fixture) lastEvent() int64 {
	f.t.Helper()
	id, err := f.s.LastEventID(f.ctx)
	if err != nil {
		f.t.Fatalf("LastEventID: %v", err)
	}
	return id
}

// eventsAfter returns every event after id.
func (f *fixture) eventsAfter(id int64) []parley.Event {
	f.t.Helper()
	evs, err := f.s.EventsSince(f.ctx, id, 10_000)
	if err != nil {
		f.t.Fatalf("EventsSince(%d): %v", id, err)
	}
	return evs
}

// wantCode fails the test unless err carries the parley error code.
func wantCode(t *testing.T, err error, code string, what string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// ms is a millisecond-aligned UTC time, which every backend keeps exactly.
func ms(year int, month time.Month, day, hour, min, sec, milli int) time.Time {
	return time.Date(year, month, day, hour, min, sec, milli*int(time.Millisecond), time.UTC)
}

// wantTime fails the test unless got is want in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s: got location %v, want UTC", what, got.Location())
	}
}

// wantNear fails the test unless got lies in [from, to], give or take the
// millisecond a backend may round to, in UTC.
func wantNear(t *testing.T, what string, got, from, to time.Time) {
	t.Helper()
	if got.Before(from.Add(-time.Millisecond)) || got.After(to.Add(time.Millisecond)) {
		t.Errorf("%s: got %v, want between %v and %v", what, got, from, to)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s: got location %v, want UTC", what, got.Location())
	}
}

// diffComment lists the stored fields of got that differ from want (Replies,
// filled by thread queries, is not compared).
func diffComment(got, want *parley.Comment) []string {
	var d []string
	check := func(field string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s: got %v, want %v", field, g, w))
		}
	}
	check("ID", got.ID, want.ID)
	check("PageID", got.PageID, want.PageID)
	check("ParentID", got.ParentID, want.ParentID)
	check("RootID", got.RootID, want.RootID)
	check("QuoteID", got.QuoteID, want.QuoteID)
	check("Number", got.Number, want.Number)
	check("AuthorID", got.AuthorID, want.AuthorID)
	check("AuthorName", got.AuthorName, want.AuthorName)
	check("IPHash", got.IPHash, want.IPHash)
	check("Featured", got.Featured, want.Featured)
	check("Seen", got.Seen, want.Seen)
	check("Text", got.Text, want.Text)
	check("HTML", got.HTML, want.HTML)
	check("Status", got.Status, want.Status)
	check("Toxicity", got.Toxicity, want.Toxicity)
	check("Score", got.Score, want.Score)
	if !got.Created.Equal(want.Created) {
		d = append(d, fmt.Sprintf("Created: got %v, want %v", got.Created, want.Created))
	}
	if !got.Edited.Equal(want.Edited) {
		d = append(d, fmt.Sprintf("Edited: got %v, want %v", got.Edited, want.Edited))
	}
	if !equalReasons(got.Reasons, want.Reasons) {
		d = append(d, fmt.Sprintf("Reasons: got %+v, want %+v", got.Reasons, want.Reasons))
	}
	return d
}

// equalReasons compares reasons, a nil list being equal to an empty one.
func equalReasons(a, b []parley.Reason) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Rule != b[i].Rule || a[i].Message != b[i].Message || !slices.Equal(a[i].Spans, b[i].Spans) {
			return false
		}
	}
	return true
}

// ids returns the ids of comments, in order.
func ids(cs []*parley.Comment) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
