package httpapi_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/testenv"
)

// TestSiteChangeReachesOtherInstances runs two instances, A and B, each with
// its own service, caches and broker, on one database. A closes the site
// through its policy; B, which had the site, its pipeline and the thread's
// bytes cached, must refuse a post exactly as A does and say page.closed in
// its thread, and follow A again when A reopens the site. The services'
// clocks stand still, so B's site cache never reaches its TTL: only the
// site.updated event A's write recorded in the log can tell B.
func TestSiteChangeReachesOtherInstances(t *testing.T) {
	for _, be := range instanceBackends {
		t.Run(be.name, func(t *testing.T) {
			dbA, dbB := be.open(t)
			a, b := newEnvOn(t, dbA, envOpts{}), newEnvOn(t, dbB, envOpts{})
			const other = "https://news.example.com/2026/11/never-commented"
			threadOf := func(e *env, pageURL string) bool {
				t.Helper()
				res := e.reader("").do("GET", "/api/v1/threads?site=news&url="+escape(pageURL), nil)
				if res.status != 200 {
					t.Fatalf("thread of %s: %d %s", pageURL, res.status, res.body)
				}
				closed, ok := res.json(t)["page"].(map[string]any)["closed"].(bool)
				if !ok {
					t.Fatalf("thread of %s without page.closed: %s", pageURL, res.body)
				}
				return closed
			}
			post := func(e *env, pageURL string) resp {
				return e.reader("Bob").do("POST", "/api/v1/comments", map[string]any{
					"site": "news", "url": pageURL, "title": "Article", "text": "A comment.", "name": "Bob"})
			}
			// waitFor polls B's thread until page.closed is want: the
			// event is read by B's broker within its poll (50 ms) or at
			// once on a notification; 10 s only bounds a failure.
			waitFor := func(want bool) {
				t.Helper()
				for deadline := time.Now().Add(10 * time.Second); threadOf(b, articleURL) != want; {
					if time.Now().After(deadline) {
						t.Fatalf("B's thread still says page.closed = %v 10 s after A's change", !want)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}

			// B caches the site and its pipeline (a post) and the thread's
			// bytes (two reads, the second from the cache).
			if res := b.reader("Ann").post("Before closing.", nil); res.status != 201 {
				t.Fatalf("post on B: %d %s", res.status, res.body)
			}
			for range 2 {
				if threadOf(b, articleURL) {
					t.Fatal("B's thread of an open site says page.closed = true")
				}
			}

			setSiteClosed(t, a, true)
			wantRes := post(a, articleURL)
			if wantRes.status != 403 || errCode(t, wantRes) != "forbidden" {
				t.Fatalf("post on A after A closed the site: %d %s; want 403 forbidden", wantRes.status, wantRes.body)
			}
			waitFor(true)
			for _, u := range []string{articleURL, other} {
				if got := post(b, u); got.status != wantRes.status || string(got.body) != string(wantRes.body) {
					t.Errorf("post on B of %s after A closed the site: got %d %s, want %d %s as on A",
						u, got.status, got.body, wantRes.status, wantRes.body)
				}
			}
			if !threadOf(b, other) {
				t.Error("B's thread of a page without comments: page.closed = false on a closed site")
			}

			setSiteClosed(t, a, false)
			waitFor(false)
			if res := post(b, articleURL); res.status != 201 {
				t.Errorf("post on B after A reopened the site: %d %s", res.status, res.body)
			}
		})
	}
}

// instanceBackends are the ways two instances share one database.
var instanceBackends = []struct {
	name string
	open func(t *testing.T) (a, b store.Store)
}{
	// One handle shared, as two services in one process would.
	{"sqlite", func(t *testing.T) (store.Store, store.Store) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, db
	}},
	// Two pools on one database, as two `parley serve` processes: B's
	// broker hears of A's writes through LISTEN/NOTIFY.
	{"postgres", func(t *testing.T) (store.Store, store.Store) {
		dsn, schema := pgSchema(t)
		return pgOpen(t, dsn, schema), pgOpen(t, dsn, schema)
	}},
}

// TestSiteChangeReachesOpenStreams closes the site through its policy on
// instance A while readers' streams are open on A and on B, for a page with
// comments and for one without (whose stream follows the whole site): every
// stream gets site.updated, the same for every reader, and the thread B
// serves right after its stream said so is closed, since B's broker drops
// what it cached before it hands the event on. A stream that was away
// while the site closed gets the event when it resumes; reopening sends it
// again.
func TestSiteChangeReachesOpenStreams(t *testing.T) {
	for _, be := range instanceBackends {
		t.Run(be.name, func(t *testing.T) {
			dbA, dbB := be.open(t)
			a, b := newEnvOn(t, dbA, envOpts{}), newEnvOn(t, dbB, envOpts{})
			const other = "https://news.example.com/2026/11/never-commented"
			if res := a.reader("Ann").post("The page exists.", nil); res.status != 201 {
				t.Fatalf("post on A: %d %s", res.status, res.body)
			}
			closedOn := func(e *env, pageURL string) bool {
				t.Helper()
				res := e.reader("").do("GET", "/api/v1/threads?site=news&url="+escape(pageURL), nil)
				if res.status != 200 {
					t.Fatalf("thread of %s: %d %s", pageURL, res.status, res.body)
				}
				return res.json(t)["page"].(map[string]any)["closed"].(bool)
			}
			for _, e := range []*env{a, b} { // cached, so only the event can change them
				for _, u := range []string{articleURL, other} {
					if closedOn(e, u) {
						t.Fatalf("thread of %s says closed on an open site", u)
					}
				}
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type stream struct {
				name    string
				e       *env
				pageURL string
				ch      <-chan sseEvent
				ready   string // the id the stream started at
			}
			streams := []*stream{
				{name: "A, the article", e: a, pageURL: articleURL},
				{name: "B, the article", e: b, pageURL: articleURL},
				{name: "B, a page without comments", e: b, pageURL: other},
			}
			for _, s := range streams {
				s.ch = openStreamOf(t, ctx, s.e, s.pageURL, "")
				s.ready = next(t, s.ch, 5*time.Second, "ready").id
			}
			// siteEvent waits for each stream's site.updated and checks
			// that, as the stream says so, its instance serves the thread
			// as closed is.
			siteEvent := func(closed bool) string {
				t.Helper()
				var id string
				for _, s := range streams {
					ev := next(t, s.ch, 10*time.Second, "site.updated")
					if want := fmt.Sprintf(`{"id":%s,"comment_id":0}`, ev.id); ev.data != want {
						t.Errorf("%s: site.updated data %s, want %s", s.name, ev.data, want)
					}
					if id != "" && ev.id != id {
						t.Errorf("%s: site.updated has id %s, another stream's %s", s.name, ev.id, id)
					}
					id = ev.id
					if got := closedOn(s.e, s.pageURL); got != closed {
						t.Errorf("%s: after site.updated the thread says closed = %v, want %v", s.name, got, closed)
					}
				}
				return id
			}

			setSiteClosed(t, a, true)
			closedID := siteEvent(true)
			for _, s := range streams[1:] {
				resumed := openStreamOf(t, ctx, s.e, s.pageURL, s.ready)
				if ev := next(t, resumed, 5*time.Second, "site.updated", "ready"); ev.typ != "site.updated" || ev.id != closedID {
					t.Errorf("%s, resumed from %s: first %s %s, want site.updated %s from the log", s.name, s.ready, ev.typ, ev.id, closedID)
				}
			}

			setSiteClosed(t, a, false)
			siteEvent(false)
		})
	}
}

// TestOriginAllowedRightAfterSiteChange adds an origin to the site on
// instance A, as `parley site set` does: A allows it as soon as the change
// returns, and B as soon as its reader's stream has said site.updated, with
// no wait for the periodic reload of every site's origins. Taking it off
// again refuses it the same way, unless another site still has it.
func TestOriginAllowedRightAfterSiteChange(t *testing.T) {
	for _, be := range instanceBackends {
		t.Run(be.name, func(t *testing.T) {
			dbA, dbB := be.open(t)
			a, b := newEnvOn(t, dbA, envOpts{}), newEnvOn(t, dbB, envOpts{})
			const added = "https://m.news.example.com"
			allowed := func(e *env) bool {
				t.Helper()
				return preflight(t, e, added)
			}
			setOrigins := func(siteID string, origins ...string) {
				t.Helper()
				site, err := a.svc.Site(context.Background(), siteID)
				if err != nil {
					t.Fatal(err)
				}
				site.Origins = origins
				if err := a.svc.UpdateSite(context.Background(), site); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream := openStreamOf(t, ctx, b, articleURL, "")
			next(t, stream, 5*time.Second, "ready")

			for _, e := range []*env{a, b} {
				if allowed(e) {
					t.Fatalf("%s is allowed before it was added", added)
				}
			}
			// each changes one site's origins on A and checks both
			// instances: B once the stream of a page of news says
			// site.updated, which B's broker hands on after the events
			// before it, those of the other site included.
			step := 0
			each := func(siteID string, origins []string, want bool) {
				t.Helper()
				step++
				setOrigins(siteID, origins...)
				if got := allowed(a); got != want {
					t.Errorf("step %d: A allows %s: %v, want %v right after %s's origins became %v", step, added, got, want, siteID, origins)
				}
				if siteID != "news" {
					return
				}
				next(t, stream, 10*time.Second, "site.updated")
				if got := allowed(b); got != want {
					t.Errorf("step %d: B allows %s: %v, want %v after its stream said site.updated", step, added, got, want)
				}
			}
			if err := a.svc.CreateSite(context.Background(), &parley.Site{ID: "sport", Name: "Sport"}); err != nil {
				t.Fatal(err)
			}
			each("news", []string{siteOrigin, added}, true)
			each("sport", []string{added}, true)
			each("news", []string{siteOrigin}, true) // sport still has it
			each("sport", nil, false)
			each("news", []string{siteOrigin}, false)
		})
	}
}

// TestOriginAllowedRightAfterSiteAdded adds a site on instance A, as
// `parley site add` does: creating it records site.updated, and B allows
// the site's origin, serves its threads to it and takes a comment from it as
// soon as B's broker has read that event, with no wait for the periodic
// reload of every site's origins. B had refused the origin and answered 404
// for the site's thread before, so nothing B cached of a site it had never
// seen stands in the way; A, whose service created the site, follows the
// same event. (The periodic reload runs every 5 s of real time and cannot
// be held off from here: were it to land between the creation and the
// check, the check would pass through it. It can hide a regression from a
// run now and then, never fail a good one.)
func TestOriginAllowedRightAfterSiteAdded(t *testing.T) {
	for _, be := range instanceBackends {
		t.Run(be.name, func(t *testing.T) {
			dbA, dbB := be.open(t)
			a, b := newEnvOn(t, dbA, envOpts{}), newEnvOn(t, dbB, envOpts{})
			ctx := context.Background()
			const origin, pageURL = "https://blog.example.org", "https://blog.example.org/2026/hello"
			thread := "/api/v1/threads?site=blog&url=" + escape(pageURL)

			// Both brokers have read the log as it is, so each delivers
			// the creation's event rather than start after it.
			before, err := dbA.LastEventID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []*env{a, b} {
				waitBroker(t, e, before)
				if preflight(t, e, origin) {
					t.Fatalf("%s is allowed before its site exists", origin)
				}
			}
			if res := b.reader("").do("GET", thread, nil, "Origin", origin); res.status != 404 {
				t.Fatalf("B's thread of a site that does not exist: %d %s; want 404", res.status, res.body)
			}

			if err := a.svc.CreateSite(ctx, &parley.Site{ID: "blog", Name: "Blog", Origins: []string{origin}}); err != nil {
				t.Fatal(err)
			}
			evs, err := dbA.EventsSince(ctx, before, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Type != parley.EventSiteUpdated || evs[0].SiteID != "blog" {
				t.Fatalf("events of the site's creation: got %+v, want blog's site.updated alone", evs)
			}
			for _, e := range []*env{b, a} {
				name := map[*env]string{a: "A", b: "B"}[e]
				waitBroker(t, e, evs[0].ID)
				if !preflight(t, e, origin) {
					t.Errorf("%s refuses %s after its broker read the site's creation", name, origin)
				}
			}
			r := b.reader("Bea")
			res := r.do("GET", thread, nil, "Origin", origin)
			if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("B's thread of the new site from %s: %d, Access-Control-Allow-Origin %q; want 200 and the origin",
					origin, res.status, res.header.Get("Access-Control-Allow-Origin"))
			}
			res = r.do("POST", "/api/v1/comments", map[string]any{
				"site": "blog", "url": pageURL, "title": "Hello", "text": "First!", "name": "Bea"}, "Origin", origin)
			if res.status != 201 || res.header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("comment on B from %s: %d %s, Access-Control-Allow-Origin %q; want 201 and the origin",
					origin, res.status, res.body, res.header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

// preflight asks e whether a page on origin may post a comment: true when
// the preflight is answered with the origin, false when it is refused.
func preflight(t *testing.T, e *env, origin string) bool {
	t.Helper()
	res := e.reader("").do("OPTIONS", "/api/v1/comments", nil, "Origin", origin, "Access-Control-Request-Method", "POST")
	switch {
	case res.status == 204 && res.header.Get("Access-Control-Allow-Origin") == origin:
		return true
	case res.status == 403 && res.header.Get("Access-Control-Allow-Origin") == "":
		return false
	}
	t.Fatalf("preflight from %s: %d %v %s", origin, res.status, res.header, res.body)
	return false
}

// waitBroker waits until e's broker has delivered the event id, and so has
// handed it to the service and the API (their HandleEvent). 10 s only
// bounds a failure: the broker reads the log on a notification or within
// its 50 ms poll.
func waitBroker(t *testing.T, e *env, id int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Broker().Wait(ctx, id); err != nil {
		t.Fatalf("the broker is at event %d 10 s later, want %d: %v", e.srv.Broker().LastID(), id, err)
	}
}

// setSiteClosed sets the "closed" setting of the site's policy through e's
// admin API, keeping the rest of the policy.
func setSiteClosed(t *testing.T, e *env, closed bool) {
	t.Helper()
	admin := []string{"Authorization", "Bearer " + adminToken}
	r := e.reader("")
	get := r.do("GET", "/api/v1/admin/sites/news/policy", nil, admin...)
	if get.status != 200 {
		t.Fatalf("GET policy: %d %s", get.status, get.body)
	}
	p := get.json(t)
	p["closed"] = closed
	if put := r.do("PUT", "/api/v1/admin/sites/news/policy", p, admin...); put.status != 200 {
		t.Fatalf("PUT policy: %d %s", put.status, put.body)
	}
}

// pgSchema returns the PostgreSQL test server's DSN and a new schema name,
// the schema dropped with everything in it when the test ends.
func pgSchema(t *testing.T) (dsn, schema string) {
	t.Helper()
	return testenv.PostgresSchema(t, "parley_httpapi_")
}

// pgOpen opens a store on the schema, closed when the test ends (after the
// instance on it, whose clean-ups were registered later).
func pgOpen(t *testing.T, dsn, schema string) *postgres.DB {
	t.Helper()
	db := postgres.New(dsn)
	db.Schema = schema
	if err := db.Open(context.Background()); err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
