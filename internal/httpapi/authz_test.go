package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// principal is one kind of caller of the authorisation matrix.
type principal struct {
	name string
	do   func(method, path string, body any) resp
}

// matrixEnv is a Parley with two sites, news and sport, every comment held
// for a moderator (pre_all), a moderator of each, an author and another
// reader with sessions.
type matrixEnv struct {
	*env
	author, other *reader
	authorID      string
	principals    []principal
}

const sportURL = "https://sport.example.com/match"

func newMatrixEnv(t *testing.T) *matrixEnv {
	t.Helper()
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	if err := e.svc.CreateSite(ctx, &parley.Site{ID: "sport", Name: "Sport", Origins: []string{"https://sport.example.com"}}); err != nil {
		t.Fatal(err)
	}
	admin := e.reader("")
	for _, site := range []string{"news", "sport"} {
		if res := admin.do("PATCH", "/api/v1/admin/sites/"+site+"/policy", map[string]any{"mode": "pre_all"}, bearer...); res.status != 200 {
			t.Fatalf("policy of %s: %d %s", site, res.status, res.body)
		}
	}
	e.addStaff(parley.RoleModerator, "news", "news-mod@example.com")
	e.addStaff(parley.RoleModerator, "sport", "sport-mod@example.com")
	m := &matrixEnv{env: e, author: e.reader("Ann"), other: e.reader("Bob")}
	_, m.authorID = postID(t, m.author, "Ann's first", nil)
	postID(t, m.other, "Bob's first", nil) // Bob has a session too
	modThis, modOther := e.signIn("news-mod@example.com"), e.signIn("sport-mod@example.com")
	m.principals = []principal{
		{"author", func(method, path string, body any) resp { return m.author.do(method, path, body) }},
		{"other reader", func(method, path string, body any) resp { return m.other.do(method, path, body) }},
		{"anonymous", func(method, path string, body any) resp { return e.reader("").do(method, path, body) }},
		{"moderator of this site", modThis.act},
		{"moderator of another site", modOther.act},
		{"admin token", func(method, path string, body any) resp { return e.reader("").do(method, path, body, bearer...) }},
	}
	return m
}

// approved posts a comment by the author on news and approves it.
func (m *matrixEnv) approved(t *testing.T, text string) int64 {
	t.Helper()
	id, _ := postID(t, m.author, text, nil)
	m.decide(t, id, "approve")
	return id
}

func (m *matrixEnv) decide(t *testing.T, id int64, action string) {
	t.Helper()
	res := m.reader("").do("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": action}, bearer...)
	if res.status != 200 {
		t.Fatalf("%s %d: %d %s", action, id, res.status, res.body)
	}
}

// publicText returns the text of comment id as the public thread shows it
// to a reader without a session, "" when it is not shown.
func (m *matrixEnv) publicText(t *testing.T, pageURL, site string, id int64) string {
	t.Helper()
	res := m.reader("").do("GET", "/api/v1/threads?site="+site+"&url="+escape(pageURL)+"&limit=200", nil)
	if res.status != 200 {
		t.Fatalf("thread: %d %s", res.status, res.body)
	}
	for _, c := range commentsOf(res.json(t)) {
		if int64(c["id"].(float64)) == id {
			s, _ := c["html"].(string)
			if s == "" {
				s, _ = c["text"].(string)
			}
			return s
		}
	}
	return ""
}

// TestAuthorizationMatrix proves promise 5's matrix: for a comment of site
// news and its author, each principal × action is allowed or refused as the
// table says, and a refused action changes nothing the public sees.
func TestAuthorizationMatrix(t *testing.T) {
	m := newMatrixEnv(t)
	type action struct {
		name    string
		call    func(id int64) (method, path string, body any)
		allowed []string
		changes bool // when allowed, the comment leaves or changes on the public thread
	}
	comment := func(method, suffix string, body any) func(int64) (string, string, any) {
		return func(id int64) (string, string, any) {
			return method, fmt.Sprintf("/api/v1/comments/%d%s", id, suffix), body
		}
	}
	admin := func(method, suffix string, body any) func(int64) (string, string, any) {
		return func(id int64) (string, string, any) {
			return method, fmt.Sprintf("/api/v1/admin/comments/%d%s", id, suffix), body
		}
	}
	user := func(method, suffix string, body any) func(int64) (string, string, any) {
		return func(int64) (string, string, any) {
			return method, "/api/v1/admin/users/" + m.authorID + suffix, body
		}
	}
	mods := []string{"moderator of this site", "admin token"}
	actions := []action{
		{"read (audit trail)", admin("GET", "/audit", nil), mods, false},
		{"read (reader panel)", user("GET", "?site=news", nil), mods, false},
		{"edit", comment("PATCH", "", map[string]any{"text": "EDITED"}), []string{"author"}, true},
		// A moderator removes a comment with a decision (below); the
		// reader's DELETE takes a reader session or the admin token.
		{"delete", comment("DELETE", "", nil), []string{"author", "admin token"}, true},
		{"moderate (reject)", admin("POST", "/decision", map[string]any{"action": "reject"}), mods, true},
		{"moderate (feature)", admin("POST", "/decision", map[string]any{"action": "feature"}), mods, false},
		{"moderate the author (note)", user("POST", "/notes", map[string]any{"site": "news", "text": "watch"}), mods, false},
		{"moderate the author (sanction)", user("POST", "/sanction", map[string]any{"site": "news", "action": "premoderate", "note": "x"}), mods, false},
	}
	rows := 0
	for _, a := range actions {
		for _, p := range m.principals {
			allowed := false
			for _, name := range a.allowed {
				allowed = allowed || name == p.name
			}
			t.Run(a.name+"/"+p.name, func(t *testing.T) {
				rows++
				text := fmt.Sprintf("matrix %s %s", a.name, p.name)
				id := m.approved(t, text)
				method, path, body := a.call(id)
				res := p.do(method, path, body)
				after := m.publicText(t, articleURL, "news", id)
				switch {
				case allowed && (res.status < 200 || res.status > 299):
					t.Errorf("%s %s: %d %s, want allowed", method, path, res.status, res.body)
				case allowed && a.changes && strings.Contains(after, text):
					t.Errorf("%s %s allowed, but the public still sees %q", method, path, after)
				case !allowed && res.status != 401 && res.status != 403 && res.status != 404:
					t.Errorf("%s %s: %d %s, want 401, 403 or 404", method, path, res.status, res.body)
				case !allowed && !strings.Contains(after, text):
					t.Errorf("%s %s refused (%d), but the public comment changed to %q", method, path, res.status, after)
				case !allowed && strings.Contains(string(res.body), "watch") || !allowed && res.status != 401 && strings.Contains(string(res.body), m.authorID) && method == "GET":
					t.Errorf("%s %s refused but leaked: %s", method, path, res.body)
				}
			})
		}
	}
	if want := len(actions) * len(m.principals); rows != want {
		t.Errorf("ran %d rows, want %d", rows, want)
	}
}

// TestSiteIsolation proves that no row of one site appears in another
// site's thread, counts, moderation queue, page list, export or streams.
func TestSiteIsolation(t *testing.T) {
	m := newMatrixEnv(t)
	ctx := context.Background()
	// news: an approved and a pending comment; sport: one approved.
	newsOK := m.approved(t, "NEWSAPPROVED")
	postID(t, m.author, "NEWSPENDING", nil)
	sportRes := m.author.do("POST", "/api/v1/comments", map[string]any{"site": "sport", "url": sportURL, "text": "sport words", "name": "Ann"})
	if sportRes.status != 201 {
		t.Fatalf("post on sport: %d %s", sportRes.status, sportRes.body)
	}
	sportID := int64(sportRes.json(t)["comment"].(map[string]any)["id"].(float64))
	m.decide(t, sportID, "approve")

	sportMod := m.principals[4]
	admin := m.principals[5]
	leaks := func(what string, body []byte) {
		t.Helper()
		if s := string(body); strings.Contains(s, "NEWS") {
			t.Errorf("%s shows a row of news: %.300s", what, s)
		}
	}
	surfaces := []struct {
		name string
		p    principal
		path string
	}{
		{"sport thread", m.principals[2], "/api/v1/threads?site=sport&url=" + escape(sportURL)},
		{"news URL asked of sport", m.principals[2], "/api/v1/threads?site=sport&url=" + escape(articleURL)},
		{"sport counts of the news URL", m.principals[2], "/api/v1/counts?site=sport&url=" + escape(articleURL)},
		{"sport queue (sport moderator)", sportMod, "/api/v1/admin/queue?site=sport"},
		{"sport queue (admin)", admin, "/api/v1/admin/queue?site=sport"},
		{"sport queue counts", admin, "/api/v1/admin/counts?site=sport"},
		{"sport pages", admin, "/api/v1/admin/sites/sport/pages"},
		{"sport reader panel of Ann", admin, "/api/v1/admin/users/" + m.authorID + "?site=sport"},
		{"sport moderator's sites", sportMod, "/api/v1/admin/sites"},
	}
	for _, s := range surfaces {
		res := s.p.do("GET", s.path, nil)
		if res.status >= 500 {
			t.Errorf("%s: %d %s", s.name, res.status, res.body)
		}
		leaks(s.name, res.body)
		if !strings.Contains(s.path, "news.example.com") && strings.Contains(string(res.body), "news.example.com") {
			t.Errorf("%s names a news page: %.300s", s.name, res.body)
		}
	}
	var exp strings.Builder
	if _, err := m.svc.Export(ctx, &exp, service.ExportOptions{SiteID: "sport"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(exp.String(), "sport words") {
		t.Fatalf("sport export lacks its own comment: %.300s", exp.String())
	}
	leaks("sport export", []byte(exp.String()))
	if strings.Contains(exp.String(), "news.example.com") {
		t.Errorf("sport export names a news page")
	}

	// Streams: open sport's public and admin streams, write on news, then
	// on sport; the sport streams get the sport event and nothing of news.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	public := openSiteStream(t, sctx, m.env, "/api/v1/stream?site=sport&url="+escape(sportURL), nil)
	modStream := openSiteStream(t, sctx, m.env, "/api/v1/admin/stream?site=sport", bearer)
	newsID, _ := postID(t, m.author, "NEWSLIVE", nil)
	m.decide(t, newsID, "approve")
	sentinel := m.author.do("POST", "/api/v1/comments", map[string]any{"site": "sport", "url": sportURL, "text": "sport sentinel", "name": "Ann"})
	if sentinel.status != 201 {
		t.Fatalf("sentinel: %d %s", sentinel.status, sentinel.body)
	}
	sentinelID := int64(sentinel.json(t)["comment"].(map[string]any)["id"].(float64))
	m.decide(t, sentinelID, "approve")
	for name, ch := range map[string]<-chan sseEvent{"public": public, "admin": modStream} {
		timeout := time.After(5 * time.Second)
		for seen := false; !seen; {
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatalf("sport %s stream closed", name)
				}
				leaks("sport "+name+" stream event "+ev.typ, []byte(ev.data))
				for _, id := range []int64{newsID, newsOK} {
					if strings.Contains(ev.data, fmt.Sprintf(`"comment_id":%d`, id)) || strings.Contains(ev.data, fmt.Sprintf(`"id":%d,`, id)) && strings.Contains(ev.typ, "comment") {
						t.Errorf("sport %s stream carried news comment %d: %s %s", name, id, ev.typ, ev.data)
					}
				}
				seen = strings.Contains(ev.data, fmt.Sprint(sentinelID))
			case <-timeout:
				t.Fatalf("the sport %s stream never showed the sport sentinel", name)
			}
		}
	}
}

// openSiteStream opens an event stream at path (any site) and returns its
// events.
func openSiteStream(t *testing.T, ctx context.Context, e *env, path string, hdr []string) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("stream %s: %d", path, res.StatusCode)
	}
	ch := make(chan sseEvent, 1000)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.typ != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return ch
}

// TestHiddenCommentsInvisible proves that pending, rejected and deleted
// comments appear on no public surface, to another reader or to nobody in
// particular, however they ask: the thread in every order, counts, the
// reader's overlay, the live stream, and every route that takes a comment id
// (guessing ids): vote, report, reply, edit, delete.
func TestHiddenCommentsInvisible(t *testing.T) {
	m := newMatrixEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream := openSiteStream(t, ctx, m.env, "/api/v1/stream?site=news&url="+escape(articleURL), nil)
	visible := m.approved(t, "VISIBLE comment")
	pending, _ := postID(t, m.author, "SECRETPENDING", nil)
	rejected, _ := postID(t, m.author, "SECRETREJECTED", nil)
	m.decide(t, rejected, "reject")
	deleted := m.approved(t, "SECRETDELETED")
	if res := m.author.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", deleted), nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	hidden := map[string]int64{"pending": pending, "rejected": rejected, "deleted": deleted}
	secret := func(b []byte) bool { return strings.Contains(string(b), "SECRET") }
	u := escape(articleURL)
	viewers := []principal{m.principals[1], m.principals[2]} // other reader, anonymous
	for _, v := range viewers {
		for _, path := range []string{
			"/api/v1/threads?site=news&url=" + u,
			"/api/v1/threads?site=news&url=" + u + "&sort=newest",
			"/api/v1/threads?site=news&url=" + u + "&sort=oldest",
			"/api/v1/threads?site=news&url=" + u + "&sort=top",
			"/api/v1/threads?site=news&url=" + u + "&limit=200",
			"/api/v1/me?site=news&url=" + u,
		} {
			res := v.do("GET", path, nil)
			if res.status >= 500 || secret(res.body) {
				t.Errorf("%s GET %s: %d %.300s", v.name, path, res.status, res.body)
			}
		}
		for state, id := range hidden {
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"POST", fmt.Sprintf("/api/v1/comments/%d/vote", id), map[string]any{"value": 1}},
				{"POST", fmt.Sprintf("/api/v1/comments/%d/report", id), map[string]any{"reason": "spam"}},
				{"POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "reply", "name": "X", "parent": id}},
				{"POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "quote", "name": "X", "quote": id}},
				{"PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]any{"text": "mine now"}},
				{"DELETE", fmt.Sprintf("/api/v1/comments/%d", id), nil},
				{"GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", id), nil},
			} {
				res := v.do(c.method, c.path, c.body)
				if secret(res.body) || res.status >= 500 {
					t.Errorf("%s on %s comment: %s %s: %d %.300s", v.name, state, c.method, c.path, res.status, res.body)
				}
				// A reply or quote of a hidden comment must not be accepted.
				if c.method == "POST" && c.path == "/api/v1/comments" && res.status < 300 {
					t.Errorf("%s on %s comment: %s accepted (%d %s)", v.name, state, c.path, res.status, res.body)
				}
				if (c.method == "PATCH" || c.method == "DELETE" || strings.HasSuffix(c.path, "/vote")) && res.status < 300 {
					t.Errorf("%s on %s comment: %s %s accepted (%d)", v.name, state, c.method, c.path, res.status)
				}
			}
		}
	}
	// The public count is the number of comments the thread shows.
	th := m.reader("").do("GET", "/api/v1/threads?site=news&url="+u+"&limit=200", nil).json(t)
	shown := len(commentsOf(th))
	counts := m.reader("").do("GET", "/api/v1/counts?site=news&url="+u, nil).json(t)["counts"].(map[string]any)
	for _, n := range counts {
		if int(n.(float64)) != shown {
			t.Errorf("count %v, but the thread shows %d comments", n, shown)
		}
	}
	if shown != 1 {
		t.Errorf("thread shows %d comments, want 1 (only %d is approved)", shown, visible)
	}
	// The live stream said nothing of the hidden comments beyond their
	// removal (an id, no text).
	cancel()
	for ev := range stream {
		if secret([]byte(ev.data)) {
			t.Errorf("stream event %s carried hidden text: %s", ev.typ, ev.data)
		}
		for state, id := range hidden {
			if state != "deleted" && ev.typ == "comment.created" && strings.Contains(ev.data, fmt.Sprintf(`"comment_id":%d}`, id)) {
				t.Errorf("stream announced the %s comment %d: %s", state, id, ev.data)
			}
		}
	}
}
