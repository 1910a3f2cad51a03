package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// TestReaderExportAndErase: a reader downloads everything held about them
// and erases themselves; their thread stays, by "a former reader".
func TestReaderExportAndErase(t *testing.T) {
	e := newEnv(t, envOpts{})
	ann, bob := e.reader("Ann Erasable"), e.reader("Bob")
	first := ann.post("Ann's first words", nil).json(t)["comment"].(map[string]any)
	firstID := int64(first["id"].(float64))
	ann.post("Ann's second words", nil)
	reply := bob.post("Bob replies", map[string]any{"parent": firstID}).json(t)["comment"].(map[string]any)
	replyID := int64(reply["id"].(float64))
	if res := ann.do("POST", fmt.Sprintf("/api/v1/comments/%d/vote", replyID), map[string]any{"value": 1}); res.status != 200 {
		t.Fatalf("vote: %d %s", res.status, res.body)
	}
	if res := ann.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", replyID), map[string]any{"reason": "spam", "note": "Ann's note"}); res.status != 202 {
		t.Fatalf("report: %d %s", res.status, res.body)
	}
	me := ann.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)
	annID := me["id"].(string)

	// The export holds every row about her: compared with the store's.
	res := ann.do("GET", "/api/v1/me/export", nil)
	if res.status != 200 || !strings.Contains(res.header.Get("Content-Disposition"), "attachment") || !strings.Contains(res.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("export: %d %v %s", res.status, res.header, res.body)
	}
	var doc struct {
		Profile  struct{ ID, Name string }
		Comments []struct {
			ID     int64
			Text   string
			Status string
			URL    string
		}
		Votes []struct {
			CommentID int64 `json:"comment_id"`
		}
		Reports  []struct{ Note string }
		Sessions struct{ Stored bool }
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.ReaderRows(context.Background(), annID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Profile.ID != annID || doc.Profile.Name != "Ann Erasable" || len(doc.Comments) != len(rows.Comments) || len(doc.Comments) != 2 ||
		len(doc.Votes) != len(rows.Votes) || len(doc.Votes) != 1 || doc.Votes[0].CommentID != replyID ||
		len(doc.Reports) != len(rows.Reports) || len(doc.Reports) != 1 || doc.Reports[0].Note != "Ann's note" {
		t.Fatalf("export: %s", res.body)
	}
	for i, c := range rows.Comments {
		if doc.Comments[i].ID != c.ID || doc.Comments[i].Text != c.Text || doc.Comments[i].Status != c.Status || !strings.HasPrefix(doc.Comments[i].URL, "https://news.example.com/") {
			t.Errorf("exported comment %d: %+v, stored %+v", i, doc.Comments[i], c)
		}
	}
	if strings.Contains(string(res.body), "Bob replies") {
		t.Errorf("the export holds another reader's text: %s", res.body)
	}

	for _, tc := range []struct {
		name   string
		who    *reader
		body   any
		hdr    []string
		status int
	}{
		{"no confirmation", ann, map[string]any{}, nil, 400},
		{"wrong confirmation", ann, map[string]any{"confirm": "yes"}, nil, 400},
		{"not JSON", ann, "confirm=erase", nil, 400},
		{"another origin (CSRF)", ann, map[string]any{"confirm": "erase"}, []string{"Origin", "https://evil.example"}, 403},
		{"nobody signed in", e.reader(""), map[string]any{"confirm": "erase"}, nil, 401},
		{"huge body", ann, map[string]any{"confirm": strings.Repeat("x", 1<<20)}, nil, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.who.do("DELETE", "/api/v1/me", tc.body, tc.hdr...)
			if res.status != tc.status {
				t.Errorf("got %d %s, want %d", res.status, res.body, tc.status)
			}
			errCode(t, res)
		})
	}
	if res := e.reader("").do("GET", "/api/v1/me/export", nil); res.status != 401 {
		t.Errorf("export without a session: %d", res.status)
	}

	res = ann.do("DELETE", "/api/v1/me", map[string]any{"confirm": "erase"})
	if res.status != 200 || !strings.Contains(string(res.body), `"anonymised":2`) || !strings.Contains(string(res.body), `"votes":1`) {
		t.Fatalf("erase: %d %s", res.status, res.body)
	}
	if me := ann.do("GET", "/api/v1/me", nil).json(t)["me"]; me != nil {
		t.Errorf("me after the erasure: %v", me)
	}
	if res := ann.do("GET", "/api/v1/me/export", nil); res.status != 401 {
		t.Errorf("export after the erasure: %d", res.status)
	}
	// The thread keeps its shape, by a former reader; Bob's reply keeps its parent.
	names := map[string]int{}
	for _, c := range commentsOf(bob.thread("")) {
		a, _ := c["author"].(map[string]any)
		if a != nil {
			names[fmt.Sprint(a["name"])]++
		}
		if int64(c["id"].(float64)) == replyID && int64(c["parent"].(float64)) != firstID {
			t.Errorf("the reply lost its parent: %v", c)
		}
	}
	if names["a former reader"] != 2 || names["Ann Erasable"] != 0 {
		t.Errorf("authors after the erasure: %v", names)
	}
	acts, err := e.db.Actions(context.Background(), store.ActionQuery{SiteID: "news"})
	if err != nil || len(acts) == 0 || acts[0].Action != "erase" || acts[0].UserID != "" || strings.Contains(acts[0].Note, "Ann") {
		t.Errorf("audit after the erasure: %+v, %v", acts, err)
	}
	_, err = e.db.User(context.Background(), annID)
	if parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("the user after the erasure: %v", err)
	}
}

func TestAdminReaderExportAndErase(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Rae")
	r.post("Rae's words", nil)
	id := r.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)["id"].(string)
	admin := e.reader("")
	bearer := []string{"Authorization", "Bearer " + adminToken}
	if res := admin.do("GET", "/api/v1/admin/users/"+id+"/export", nil, bearer...); res.status != 200 || !strings.Contains(string(res.body), "Rae's words") {
		t.Fatalf("admin export: %d %s", res.status, res.body)
	}
	e.addStaff(parley.RoleModerator, "news", "m@news.example.com")
	m := e.signIn("m@news.example.com")
	if res := m.do("GET", "/api/v1/admin/users/"+id+"/export", nil); res.status != 403 {
		t.Errorf("moderator export: %d", res.status)
	}
	if res := m.do("DELETE", "/api/v1/admin/users/"+id, nil, "X-CSRF-Token", m.csrf); res.status != 403 {
		t.Errorf("moderator erase: %d", res.status)
	}
	if res := admin.do("PUT", "/api/v1/admin/sites/news/erasure", map[string]any{"erasure": "shred"}, bearer...); res.status != 400 {
		t.Errorf("bad erasure mode: %d", res.status)
	}
	if res := admin.do("PUT", "/api/v1/admin/sites/news/erasure", map[string]any{"erasure": "remove"}, bearer...); res.status != 200 {
		t.Fatalf("erasure mode: %d %s", res.status, res.body)
	}
	if res := admin.do("DELETE", "/api/v1/admin/users/"+id, nil, bearer...); res.status != 200 || !strings.Contains(string(res.body), `"removed":1`) {
		t.Fatalf("admin erase: %d %s", res.status, res.body)
	}
	if res := admin.do("DELETE", "/api/v1/admin/users/"+id, nil, bearer...); res.status != 404 {
		t.Errorf("erase twice: %d", res.status)
	}
	if strings.Contains(string(r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil).body), "Rae's words") {
		t.Error("the removed comment's text is still served")
	}
}

// TestEraseMeRateLimited: erasure attempts are charged like posts.
func TestEraseMeRateLimited(t *testing.T) {
	e := newEnv(t, envOpts{rateLimit: true})
	r := e.reader("Lim")
	if res := r.post("hello", nil); res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	var got []int
	for range 4 {
		got = append(got, r.do("DELETE", "/api/v1/me", map[string]any{"confirm": "no"}).status)
	}
	if got[len(got)-1] != 429 {
		t.Errorf("statuses of repeated erasure attempts: %v, want the last 429", got)
	}
}

// TestSiteErasureSetting: an admin reads the site's erasure mode, changes
// it, and the change is in the site's audit log (before and after); a
// moderator may neither read nor change it; setting the same mode again
// audits nothing.
func TestSiteErasureSetting(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.reader("")
	bearer := []string{"Authorization", "Bearer " + adminToken}
	get := func() string {
		t.Helper()
		res := admin.do("GET", "/api/v1/admin/sites/news/erasure", nil, bearer...)
		if res.status != 200 || !strings.Contains(res.header.Get("Cache-Control"), "no-store") {
			t.Fatalf("GET erasure: %d %v %s", res.status, res.header, res.body)
		}
		return fmt.Sprint(res.json(t)["erasure"])
	}
	if got := get(); got != store.ErasureAnonymise {
		t.Errorf("a new site's erasure mode: %q, want %q", got, store.ErasureAnonymise)
	}
	if res := admin.do("PUT", "/api/v1/admin/sites/news/erasure", map[string]any{"erasure": " remove "}, bearer...); res.status != 200 || fmt.Sprint(res.json(t)["erasure"]) != "remove" {
		t.Fatalf("PUT erasure: %d %s", res.status, res.body)
	}
	if got := get(); got != store.ErasureRemove {
		t.Errorf("after PUT remove: %q", got)
	}
	audited := func() []*store.Action {
		t.Helper()
		acts, err := e.db.Actions(context.Background(), store.ActionQuery{SiteID: "news"})
		if err != nil {
			t.Fatal(err)
		}
		var out []*store.Action
		for _, a := range acts {
			if strings.Contains(string(a.After), "erasure") {
				out = append(out, a)
			}
		}
		return out
	}
	acts := audited()
	if len(acts) != 1 || acts[0].Action != "site" || string(acts[0].Before) != `{"erasure":"anonymise"}` || string(acts[0].After) != `{"erasure":"remove"}` {
		t.Fatalf("audit of the erasure change: %+v", acts)
	}
	if res := admin.do("PUT", "/api/v1/admin/sites/news/erasure", map[string]any{"erasure": "remove"}, bearer...); res.status != 200 {
		t.Fatalf("PUT the same mode: %d %s", res.status, res.body)
	}
	if n := len(audited()); n != 1 {
		t.Errorf("setting the same mode again added audit entries: %d", n)
	}
	if res := admin.do("GET", "/api/v1/admin/sites/nope/erasure", nil, bearer...); res.status != 404 {
		t.Errorf("GET erasure of an unknown site: %d %s", res.status, res.body)
	}
	e.addStaff(parley.RoleModerator, "news", "m@news.example.com")
	m := e.signIn("m@news.example.com")
	if res := m.do("GET", "/api/v1/admin/sites/news/erasure", nil); res.status != 403 {
		t.Errorf("a moderator's GET erasure: %d %s", res.status, res.body)
	}
	if res := m.do("PUT", "/api/v1/admin/sites/news/erasure", map[string]any{"erasure": "anonymise"}, "X-CSRF-Token", m.csrf); res.status != 403 {
		t.Errorf("a moderator's PUT erasure: %d %s", res.status, res.body)
	}
	if got := get(); got != store.ErasureRemove {
		t.Errorf("after the moderator's attempt: %q", got)
	}
}

// TestReaderExportHoldsModeration: the export holds the moderation about
// the reader — a decision on their comment, a sanction, a note's existence
// — with what and when, but neither the moderator nor the note's text.
func TestReaderExportHoldsModeration(t *testing.T) {
	e := newEnv(t, envOpts{})
	ann := e.reader("Ann Moderated")
	c := ann.post("Words a moderator will reject.", nil).json(t)["comment"].(map[string]any)
	cid := int64(c["id"].(float64))
	annID := ann.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)["id"].(string)
	e.addStaff(parley.RoleModerator, "news", "m@news.example.com")
	m := e.signIn("m@news.example.com")
	csrf := []string{"X-CSRF-Token", m.csrf}
	for _, call := range []struct {
		path string
		body map[string]any
	}{
		{fmt.Sprintf("/api/v1/admin/comments/%d/decision", cid), map[string]any{"action": "reject"}},
		{"/api/v1/admin/users/" + annID + "/notes", map[string]any{"site": "news", "text": "private-note-text-4711"}},
		{"/api/v1/admin/users/" + annID + "/sanction", map[string]any{"site": "news", "action": "premoderate"}},
	} {
		if res := m.do("POST", call.path, call.body, csrf...); res.status >= 300 {
			t.Fatalf("POST %s: %d %s", call.path, res.status, res.body)
		}
	}
	res := ann.do("GET", "/api/v1/me/export", nil)
	if res.status != 200 {
		t.Fatalf("export: %d %s", res.status, res.body)
	}
	var doc struct {
		Comments []struct {
			ID     int64
			Status string
		}
		Sanctions []struct {
			Site         string
			Premoderated bool
		}
		Moderation []struct {
			Action    string
			Site      string
			CommentID int64 `json:"comment_id"`
		}
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Comments) != 1 || doc.Comments[0].ID != cid || doc.Comments[0].Status != parley.StatusRejected {
		t.Errorf("exported comments: %+v", doc.Comments)
	}
	if len(doc.Sanctions) != 1 || doc.Sanctions[0].Site != "news" || !doc.Sanctions[0].Premoderated {
		t.Errorf("exported sanctions: %+v", doc.Sanctions)
	}
	actions := map[string]bool{}
	for _, a := range doc.Moderation {
		actions[a.Action] = true
		if a.Site != "news" {
			t.Errorf("moderation entry of another site: %+v", a)
		}
	}
	t.Logf("exported moderation actions: %v", actions)
	if len(doc.Moderation) < 3 || !actions["note"] || len(actions) < 3 {
		t.Errorf("exported moderation: %+v (want the decision, the note and the sanction)", doc.Moderation)
	}
	for _, secret := range []string{"private-note-text-4711", "m@news.example.com"} {
		if strings.Contains(string(res.body), secret) {
			t.Errorf("the export holds %q: %s", secret, res.body)
		}
	}
}
