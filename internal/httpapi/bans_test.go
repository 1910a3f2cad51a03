package httpapi_test

import (
	"net/http/cookiejar"
	"strings"
	"testing"
)

// TestBanSticksWithoutTheCookie: a banned reader deletes their cookie and
// posts again at once. The comment is held, not published; the author is
// told only that new readers are reviewed; the moderator's queue names the
// banned reader and links them.
func TestBanSticksWithoutTheCookie(t *testing.T) {
	e := newEnv(t, envOpts{})
	bob := e.reader("Bob Stone")
	_, author := postID(t, bob, "Everyone who writes for this rag should be ashamed of themselves", nil)
	staff := e.reader("")
	if res := staff.do("POST", "/api/v1/admin/users/"+author+"/sanction", map[string]any{"site": "news", "action": "ban", "note": "abuse"}, bearer...); res.status != 200 {
		t.Fatalf("ban: %d %s", res.status, res.body)
	}
	if res := bob.post("I am back", nil); res.status != 403 || !strings.Contains(string(res.body), "banned") {
		t.Fatalf("banned reader with their cookie: %d %s, want 403", res.status, res.body)
	}

	// The cookie goes, and with it the reader's identity; the name too.
	bob.client.Jar, _ = cookiejar.New(nil)
	bob.name = "Robert"
	res := bob.post("Nothing wrong with this comment at all", nil)
	if res.status != 201 {
		t.Fatalf("post without the cookie: %d %s", res.status, res.body)
	}
	body := res.json(t)
	c := body["comment"].(map[string]any)
	if body["status"] != "pending" {
		t.Fatalf("post without the cookie: status %v, want pending: %s", body["status"], res.body)
	}
	if newID := c["author"].(map[string]any)["id"]; newID == author {
		t.Fatalf("the test lost the cookie but kept the identity %v", newID)
	}
	if s := strings.ToLower(string(res.body)); strings.Contains(s, "ban") || strings.Contains(s, author) {
		t.Errorf("the author's answer speaks of the ban: %s", res.body)
	}
	if !strings.Contains(string(res.body), `"rule":"premod_new"`) {
		t.Errorf("the author's reasons: %s, want premod_new", res.body)
	}
	for _, pub := range commentsOf(e.reader("Ann").thread("")) {
		if pub["id"] == c["id"] {
			t.Errorf("the held comment is published: %v", pub)
		}
	}

	q := staff.do("GET", "/api/v1/admin/queue?site=news&status=pending", nil, bearer...)
	if q.status != 200 {
		t.Fatalf("queue: %d %s", q.status, q.body)
	}
	var found bool
	for _, it := range q.json(t)["comments"].([]any) {
		it := it.(map[string]any)
		if it["id"] != c["id"] {
			continue
		}
		for _, r := range it["reasons"].([]any) {
			r := r.(map[string]any)
			if r["rule"] == "ban_evasion" {
				found = true
				msg, _ := r["message"].(string)
				if r["user"] != author || !strings.Contains(msg, `banned reader "Bob Stone"`) || !strings.Contains(msg, "same network address") {
					t.Errorf("moderator's reason %v, want a link to %s and the evidence", r, author)
				}
			}
		}
	}
	if !found {
		t.Fatalf("the queue does not show the held comment with ban_evasion: %s", q.body)
	}
	// The link opens the banned reader's panel.
	if res := staff.do("GET", "/api/v1/admin/users/"+author+"?site=news", nil, bearer...); res.status != 200 || !strings.Contains(string(res.body), "Bob Stone") {
		t.Errorf("banned reader's panel: %d %s", res.status, res.body)
	}
}

// TestHatefulDisplayName: a display name in the site's lists is refused
// with a 400 that names the policy point, not the words; nothing is stored.
func TestHatefulDisplayName(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, name := range []string{"Muzzie Hunter", "F.u.c.k You", "Sh1thead"} {
		res := e.reader(name).post("A perfectly civil comment", nil)
		if res.status != 400 || errCode(t, res) != "invalid" {
			t.Fatalf("%q: %d %s, want 400 invalid", name, res.status, res.body)
		}
		body := string(res.body)
		if !strings.Contains(body, "uses language this site does not allow") || !strings.Contains(body, "name_refused") {
			t.Errorf("%q: %s, want the point and the reason", name, body)
		}
		if strings.Contains(strings.ToLower(body), "muzzie") || strings.Contains(strings.ToLower(body), "fuck") {
			t.Errorf("%q: the answer repeats the words: %s", name, body)
		}
	}
	if got := commentsOf(e.reader("Ann").thread("")); len(got) != 0 {
		t.Errorf("thread after refused names: %v", got)
	}
	if res := e.reader("Dick Smith").post("A perfectly civil comment", nil); res.status != 201 {
		t.Errorf("Dick Smith: %d %s", res.status, res.body)
	}
}
