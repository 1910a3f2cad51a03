package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

// TestIdempotencyKeys proves the Idempotency-Key promise on both stores: a
// write retried with its key is answered with the first outcome and never
// made twice, also by a client that lost the first answer with its cookie,
// and also when the retries race; a key is scoped to its reader, bound to
// its request, bounded in size, and pruned a day after its write.
func TestIdempotencyKeys(t *testing.T) {
	dsn, schema := pgSchema(t)
	envs := []struct {
		name string
		e    *env
	}{{"sqlite", newEnv(t, envOpts{})}, {"postgres", newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})}}
	for _, store := range envs {
		e := store.e
		t.Run(store.name, func(t *testing.T) {
			for _, tc := range idempotencyCases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, e) })
			}
		})
	}
}

// key returns a unique idempotency key.
func key(t *testing.T, n int) string {
	t.Helper()
	return fmt.Sprintf("%032x-%d", time.Now().UnixNano(), n)
}

// pageComments returns every comment of the article page, in any status.
func (e *env) pageComments(t *testing.T) []*parley.Comment {
	t.Helper()
	p, err := e.db.Page(context.Background(), "news", strings.Split(articleURL, "?")[0])
	if err != nil {
		t.Fatalf("Page: %v", err)
	}
	cs, err := e.db.PageComments(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// withText counts the comments with the text.
func withText(cs []*parley.Comment, text string) int {
	n := 0
	for _, c := range cs {
		if c.Text == text {
			n++
		}
	}
	return n
}

func (r *reader) keyedPost(text, k string) resp {
	return r.do("POST", "/api/v1/comments",
		map[string]any{"site": "news", "url": articleURL, "title": "Article", "text": text, "name": r.name}, "Idempotency-Key", k)
}

var idempotencyCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"a retry of a lost answer replays it, session cookie included", func(t *testing.T, e *env) {
		k, text := key(t, 1), "first answer lost "+key(t, 0)
		first := e.reader("Ann").keyedPost(text, k)
		if first.status != 201 || first.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first post: %d %v %s", first.status, first.header, first.body)
		}
		// The client lost the answer, and with it the cookie of the
		// reader the post created: a new client retries.
		retry := e.reader("Ann")
		again := retry.keyedPost(text, k)
		if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %v %s", again.status, again.header, again.body)
		}
		if string(again.body) != string(first.body) {
			t.Errorf("retry answered\n%s\nwant the first answer\n%s", again.body, first.body)
		}
		if n := withText(e.pageComments(t), text); n != 1 {
			t.Errorf("comments stored: %d, want 1", n)
		}
		// The replayed cookie is the author's: the retrying client may edit.
		id := int64(again.json(t)["comment"].(map[string]any)["id"].(float64))
		if res := retry.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]any{"text": text + " (edited)"}); res.status != 200 {
			t.Errorf("edit by the retrying client: %d %s", res.status, res.body)
		}
	}},
	{"a retry that got the new session cookie but not the answer replays it", func(t *testing.T, e *env) {
		ann := e.reader("Ann")
		k, text := key(t, 10), "cookie kept "+key(t, 0)
		first := ann.keyedPost(text, k) // anonymous: creates Ann's reader and sets its cookie
		again := ann.keyedPost(text, k) // with the cookie now
		if first.status != 201 || again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
			t.Errorf("post and retry with the new cookie: %d %s / %d %v %s", first.status, first.body, again.status, again.header, again.body)
		}
		if n := withText(e.pageComments(t), text); n != 1 {
			t.Errorf("comments stored: %d, want 1", n)
		}
	}},
	{"a signed-in reader's retries write once; another reader's same key is theirs", func(t *testing.T, e *env) {
		ann, bob := e.reader("Ann"), e.reader("Bob")
		ann.post("warm-up "+key(t, 0), nil) // Ann has a session from here on
		k, text := key(t, 2), "signed in "+key(t, 0)
		var ids []any
		for range 3 {
			res := ann.keyedPost(text, k)
			if res.status != 201 {
				t.Fatalf("post: %d %s", res.status, res.body)
			}
			ids = append(ids, res.json(t)["comment"].(map[string]any)["id"])
		}
		if ids[0] != ids[1] || ids[1] != ids[2] {
			t.Errorf("ids of three tries: %v, want one", ids)
		}
		res := bob.keyedPost(text, k)
		if res.status != 201 || res.header.Get("Idempotent-Replayed") != "" || res.json(t)["comment"].(map[string]any)["id"] == ids[0] {
			t.Errorf("another reader with the same key: %d %v %s; want a comment of their own", res.status, res.header, res.body)
		}
		if n := withText(e.pageComments(t), text); n != 2 {
			t.Errorf("comments stored: %d, want 2 (Ann's and Bob's)", n)
		}
	}},
	{"racing retries write once and all get the one answer", func(t *testing.T, e *env) {
		ann := e.reader("Ann")
		ann.post("warm-up "+key(t, 0), nil)
		k, text := key(t, 3), "racing "+key(t, 0)
		const n = 8
		got := make([]resp, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", e.url+"/api/v1/comments", strings.NewReader(
					fmt.Sprintf(`{"site":"news","url":%q,"title":"Article","text":%q}`, articleURL, text)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", k)
				res, err := ann.client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				got[i] = resp{status: res.StatusCode}
			}()
		}
		wg.Wait()
		statuses := map[int]int{}
		for i, r := range got {
			statuses[r.status]++
			if r.status != 201 && r.status != 409 {
				t.Errorf("racing try %d: status %d, want 201 (or 409 while the first is in flight)", i, r.status)
			}
		}
		t.Logf("statuses of %d racing tries: %v", n, statuses)
		if c := withText(e.pageComments(t), text); c != 1 {
			t.Errorf("comments stored: %d, want 1", c)
		}
	}},
	{"the same key with another request is refused", func(t *testing.T, e *env) {
		ann := e.reader("Ann")
		ann.post("warm-up "+key(t, 0), nil) // keys are scoped to the reader
		k := key(t, 4)
		if res := ann.keyedPost("one "+k, k); res.status != 201 {
			t.Fatalf("post: %d %s", res.status, res.body)
		}
		res := ann.keyedPost("another "+k, k)
		if res.status != 409 || errCode(t, res) != parley.EConflict || !strings.Contains(string(res.body), "Idempotency-Key") {
			t.Errorf("reused key: %d %s; want 409 naming the key", res.status, res.body)
		}
		if n := withText(e.pageComments(t), "another "+k); n != 0 {
			t.Errorf("the refused request was stored %d times", n)
		}
	}},
	{"keys out of bounds get a 400", func(t *testing.T, e *env) {
		for _, bad := range []string{"short", strings.Repeat("k", 129), "sixteen chars ok but spaces", "ünïcødé-ünïcødé-ünïcødé"} {
			res := e.reader("Ann").keyedPost("bounded "+bad, bad)
			if res.status != 400 || errCode(t, res) != parley.EInvalid || !strings.Contains(string(res.body), "Idempotency-Key") {
				t.Errorf("key %q: %d %s; want 400 naming the key", bad, res.status, res.body)
			}
		}
		if res := e.reader("Ann").keyedPost("bounded max", strings.Repeat("k", 128)); res.status != 201 {
			t.Errorf("a key of 128 characters: %d %s", res.status, res.body)
		}
	}},
	{"vote, report and edit replay too", func(t *testing.T, e *env) {
		ann, bob := e.reader("Ann"), e.reader("Bob")
		text := "target " + key(t, 0)
		id := int64(ann.post(text, nil).json(t)["comment"].(map[string]any)["id"].(float64))
		base := fmt.Sprintf("/api/v1/comments/%d", id)

		kv := key(t, 5)
		v1 := e.reader("Bob").do("POST", base+"/vote", map[string]any{"value": 1}, "Idempotency-Key", kv)
		v2 := e.reader("Bob").do("POST", base+"/vote", map[string]any{"value": 1}, "Idempotency-Key", kv)
		if v1.status != 200 || string(v1.body) != string(v2.body) {
			t.Errorf("vote and its retry: %d %s / %d %s", v1.status, v1.body, v2.status, v2.body)
		}
		if c, _ := e.db.Comment(context.Background(), id); c.Score != 1 {
			t.Errorf("score after a vote and its retry: %d, want 1", c.Score)
		}
		if res := e.reader("Bob").do("POST", base+"/vote", map[string]any{"value": -1}, "Idempotency-Key", kv); res.status != 409 {
			t.Errorf("the vote's key with another value: %d %s, want 409", res.status, res.body)
		}

		kr := key(t, 6)
		for i := range 2 {
			res := bob.do("POST", base+"/report", map[string]any{"reason": "spam"}, "Idempotency-Key", kr)
			if res.status != 202 {
				t.Errorf("report try %d: %d %s", i, res.status, res.body)
			}
		}
		if rs, err := e.db.Reports(context.Background(), id); err != nil || len(rs) != 1 {
			t.Errorf("reports stored: %d, %v; want 1", len(rs), err)
		}

		ke := key(t, 7)
		e1 := ann.do("PATCH", base, map[string]any{"text": text + " edited"}, "Idempotency-Key", ke)
		e.now = e.now.Add(time.Second)
		e2 := ann.do("PATCH", base, map[string]any{"text": text + " edited"}, "Idempotency-Key", ke)
		if e1.status != 200 || string(e1.body) != string(e2.body) || e2.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("edit and its retry: %d %s / %d %v %s", e1.status, e1.body, e2.status, e2.header, e2.body)
		}
	}},
	{"keys expire a day after their write", func(t *testing.T, e *env) {
		ann := e.reader("Ann")
		k, text := key(t, 8), "expiring "+key(t, 0)
		if res := ann.keyedPost(text, k); res.status != 201 {
			t.Fatalf("post: %d %s", res.status, res.body)
		}
		e.now = e.now.Add(25 * time.Hour)
		// Any keyed write prunes (at most once a minute); this one's key
		// is pruned, so its retry is a new comment.
		if res := ann.keyedPost("pruning "+k, key(t, 9)); res.status != 201 {
			t.Fatalf("post: %d %s", res.status, res.body)
		}
		res := ann.keyedPost(text, k)
		if res.status != 201 || res.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("a pruned key's retry: %d %v %s; want a new write", res.status, res.header, res.body)
		}
	}},
}

// TestIdempotentAdminWrites: the admin API's writes that create something,
// a note on a reader and a webhook endpoint, happen once per
// Idempotency-Key: a retry gets the first answer (the generated webhook
// secret included) and stores nothing; the same key with another request
// is 409; a malformed key is 400. Both stores.
func TestIdempotentAdminWrites(t *testing.T) {
	dsn, schema := pgSchema(t)
	for _, be := range []struct {
		name string
		e    *env
	}{{"sqlite", newEnv(t, envOpts{})}, {"postgres", newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})}} {
		e := be.e
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			admin := e.reader("")
			author := e.reader("Ann")
			posted := author.post("A comment to take note of. "+key(t, 0), nil)
			authorID := posted.json(t)["comment"].(map[string]any)["author"].(map[string]any)["id"].(string)
			with := func(k string) []string { return append(append([]string{}, bearer...), "Idempotency-Key", k) }

			k := key(t, 1)
			note := map[string]any{"site": "news", "text": "Watch this reader. " + k}
			first := admin.do("POST", "/api/v1/admin/users/"+authorID+"/notes", note, with(k)...)
			again := admin.do("POST", "/api/v1/admin/users/"+authorID+"/notes", note, with(k)...)
			if first.status != 201 && first.status != 200 || again.status != first.status || string(again.body) != string(first.body) {
				t.Errorf("note and retry: %d %s / %d %s", first.status, first.body, again.status, again.body)
			}
			if notes, err := e.db.Notes(ctx, authorID, "news"); err != nil || len(notes) != 1 {
				t.Errorf("notes stored: %d (%v), want 1", len(notes), err)
			}
			other := map[string]any{"site": "news", "text": "Another note."}
			if res := admin.do("POST", "/api/v1/admin/users/"+authorID+"/notes", other, with(k)...); res.status != 409 {
				t.Errorf("the same key with another note: %d %s, want 409", res.status, res.body)
			}
			if res := admin.do("POST", "/api/v1/admin/users/"+authorID+"/notes", other, with("short")...); res.status != 400 {
				t.Errorf("a malformed key: %d %s, want 400", res.status, res.body)
			}

			k = key(t, 2)
			hook := map[string]any{"url": "https://hooks.example.com/parley"}
			first = admin.do("POST", "/api/v1/admin/sites/news/webhooks", hook, with(k)...)
			again = admin.do("POST", "/api/v1/admin/sites/news/webhooks", hook, with(k)...)
			if first.status != 201 || again.status != 201 || string(again.body) != string(first.body) {
				t.Errorf("webhook and retry: %d %s / %d %s", first.status, first.body, again.status, again.body)
			}
			if hooks, err := e.db.Webhooks(ctx, "news"); err != nil || len(hooks) != 1 {
				t.Errorf("webhooks stored: %d (%v), want 1", len(hooks), err)
			}
			// Without a key, each request is its own.
			admin.do("POST", "/api/v1/admin/sites/news/webhooks", hook, bearer...)
			if hooks, _ := e.db.Webhooks(ctx, "news"); len(hooks) != 2 {
				t.Errorf("webhooks after a keyless add: %d, want 2", len(hooks))
			}
		})
	}
}

// TestIdempotentAdminDecisions (issue 13, promise 1): the admin API's
// writes that change state — a decision on one comment and in bulk, a
// sanction on a site and the global ban, reject-pending, the site's policy
// (PUT and PATCH) and a page's settings — happen once per Idempotency-Key:
// a retry gets the first answer (a suspension's end included) and neither
// changes nor audits anything again; the same key with another request is
// 409 and changes nothing. Both stores.
func TestIdempotentAdminDecisions(t *testing.T) {
	dsn, schema := pgSchema(t)
	for _, be := range []struct {
		name string
		e    *env
	}{{"sqlite", newEnv(t, envOpts{})}, {"postgres", newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})}} {
		e := be.e
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			admin := e.reader("")
			with := func(k string) []string { return append(append([]string{}, bearer...), "Idempotency-Key", k) }
			// audited counts the audit entries of the query with the action.
			audited := func(q store.ActionQuery, action string) int {
				t.Helper()
				q.Limit = 1000
				as, err := e.db.Actions(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, a := range as {
					if a.Action == action {
						n++
					}
				}
				return n
			}
			// twice sends the request and its retry with one key, and
			// checks the retry got the first answer.
			twice := func(what, method, path string, body any, k string) resp {
				t.Helper()
				first := admin.do(method, path, body, with(k)...)
				again := admin.do(method, path, body, with(k)...)
				if first.status/100 != 2 || again.status != first.status || string(again.body) != string(first.body) {
					t.Errorf("%s and its retry: %d %s / %d %s", what, first.status, first.body, again.status, again.body)
				}
				return first
			}
			conflict := func(what, method, path string, body any, k string) {
				t.Helper()
				if res := admin.do(method, path, body, with(k)...); res.status != 409 || errCode(t, res) != "conflict" {
					t.Errorf("%s with the key of another request: %d %s, want 409", what, res.status, res.body)
				}
			}
			author := e.reader("Ann")
			ids := make([]int64, 3)
			var authorID string
			for i := range ids {
				res := author.post(fmt.Sprintf("Comment %d to decide on. %s", i, key(t, i)), nil)
				c := res.json(t)["comment"].(map[string]any)
				ids[i], authorID = int64(c["id"].(float64)), c["author"].(map[string]any)["id"].(string)
			}

			// One decision.
			k := key(t, 1)
			path := fmt.Sprintf("/api/v1/admin/comments/%d/decision", ids[0])
			twice("reject", "POST", path, map[string]any{"action": "reject", "note": "off topic"}, k)
			if n := audited(store.ActionQuery{CommentID: ids[0]}, "reject"); n != 1 {
				t.Errorf("reject audited %d times, want 1", n)
			}
			conflict("approve", "POST", path, map[string]any{"action": "approve"}, k)
			if c, err := e.db.Comment(ctx, ids[0]); err != nil || c.Status != parley.StatusRejected {
				t.Errorf("after the conflicting approve: %v %v, want rejected", c.Status, err)
			}

			// A bulk decision.
			k = key(t, 2)
			bulk := map[string]any{"ids": []int64{ids[1], ids[2]}, "action": "reject", "note": "spam run"}
			res := twice("bulk reject", "POST", "/api/v1/admin/comments/bulk", bulk, k)
			if done := res.json(t)["done"]; done != float64(2) {
				t.Errorf("bulk done %v, want 2", done)
			}
			for _, id := range ids[1:] {
				if n := audited(store.ActionQuery{CommentID: id}, "reject"); n != 1 {
					t.Errorf("comment %d: bulk reject audited %d times, want 1", id, n)
				}
			}
			conflict("bulk approve", "POST", "/api/v1/admin/comments/bulk", map[string]any{"ids": []int64{ids[1]}, "action": "approve"}, k)

			// A suspension on the site: the retry gets the first end.
			k = key(t, 3)
			sanction := "/api/v1/admin/users/" + authorID + "/sanction"
			first := admin.do("POST", sanction, map[string]any{"site": "news", "action": "suspend", "duration": "24h", "note": "cool off"}, with(k)...)
			e.now = e.now.Add(time.Hour) // a second suspension would end an hour later
			again := admin.do("POST", sanction, map[string]any{"site": "news", "action": "suspend", "duration": "24h", "note": "cool off"}, with(k)...)
			if first.status != 200 || again.status != 200 || string(again.body) != string(first.body) {
				t.Errorf("suspend and its retry: %d %s / %d %s", first.status, first.body, again.status, again.body)
			}
			if n := audited(store.ActionQuery{UserID: authorID, SiteID: "news"}, "suspend"); n != 1 {
				t.Errorf("suspend audited %d times, want 1", n)
			}
			conflict("ban", "POST", sanction, map[string]any{"site": "news", "action": "ban"}, k)
			if sn, err := e.db.Sanction(ctx, authorID, "news"); err != nil || sn.SuspendedUntil.Sub(e.now) > 48*time.Hour {
				t.Errorf("after the conflicting ban: suspended until %v (%v), want the 24 h suspension", sn.SuspendedUntil, err)
			}

			// The global ban, a write of no one site.
			bob := e.reader("Bob")
			bobID := bob.post("Bob's comment. "+key(t, 0), nil).json(t)["comment"].(map[string]any)["author"].(map[string]any)["id"].(string)
			k = key(t, 4)
			twice("global ban", "POST", "/api/v1/admin/users/"+bobID+"/sanction", map[string]any{"action": "ban", "note": "troll"}, k)
			if n := audited(store.ActionQuery{UserID: bobID}, "ban"); n != 1 {
				t.Errorf("global ban audited %d times, want 1", n)
			}
			conflict("global lift", "POST", "/api/v1/admin/users/"+bobID+"/sanction", map[string]any{"action": "lift"}, k)
			if u, err := e.db.User(ctx, bobID); err != nil || !u.Banned(e.now) {
				t.Errorf("after the conflicting lift: banned %v (%v), want banned", u != nil && u.Banned(e.now), err)
			}

			// Reject-pending.
			k = key(t, 5)
			twice("reject-pending", "POST", "/api/v1/admin/users/"+authorID+"/reject-pending", map[string]any{"site": "news", "note": "all of it"}, k)
			if n := audited(store.ActionQuery{UserID: authorID, SiteID: "news"}, "reject_pending"); n != 1 {
				t.Errorf("reject-pending audited %d times, want 1", n)
			}
			conflict("reject-pending", "POST", "/api/v1/admin/users/"+authorID+"/reject-pending", map[string]any{"site": "news", "note": "other"}, k)

			// The site's policy, replaced and patched.
			policy := admin.do("GET", "/api/v1/admin/sites/news/policy", nil, bearer...).json(t)
			policy["max_length"] = float64(4000)
			k = key(t, 6)
			twice("policy PUT", "PUT", "/api/v1/admin/sites/news/policy", policy, k)
			policy["max_length"] = float64(3000)
			conflict("policy PUT", "PUT", "/api/v1/admin/sites/news/policy", policy, k)
			k = key(t, 7)
			twice("policy PATCH", "PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"max_links": 7}, k)
			conflict("policy PATCH", "PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"max_links": 8}, k)
			if n := audited(store.ActionQuery{SiteID: "news"}, "policy"); n != 2 {
				t.Errorf("policy changes audited %d times, want 2", n)
			}
			if got := admin.do("GET", "/api/v1/admin/sites/news/policy", nil, bearer...).json(t); got["max_length"] != float64(4000) || got["max_links"] != float64(7) {
				t.Errorf("policy after the conflicts: max_length %v, max_links %v; want 4000, 7", got["max_length"], got["max_links"])
			}

			// A page's settings.
			k = key(t, 8)
			page := "/api/v1/admin/sites/news/pages/policy?url=" + url.QueryEscape(articleURL)
			twice("page PUT", "PUT", page, map[string]any{"closed": true, "note": "closed for the night"}, k)
			conflict("page PUT", "PUT", page, map[string]any{"closed": false}, k)
			if n := audited(store.ActionQuery{SiteID: "news"}, "page"); n != 1 {
				t.Errorf("page change audited %d times, want 1", n)
			}
			if got := admin.do("GET", page, nil, bearer...).json(t)["page"].(map[string]any); got["closed"] != true {
				t.Errorf("page after the conflict: %v, want closed", got)
			}
		})
	}
}

// TestIdempotentReaderDeletes (issue 13, promise 1): a reader's DELETE of
// a comment and of themselves (DELETE /api/v1/me), and the admin's removal
// of a comment, take an Idempotency-Key: a retry gets the first answer
// and audits nothing again — also the erased reader's retry, whose session
// is gone with them — and the same key for another comment is 409 and
// deletes nothing. Both stores.
func TestIdempotentReaderDeletes(t *testing.T) {
	dsn, schema := pgSchema(t)
	for _, be := range []struct {
		name string
		e    *env
	}{{"sqlite", newEnv(t, envOpts{})}, {"postgres", newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})}} {
		e := be.e
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			ann := e.reader("Ann")
			a1, _ := postID(t, ann, "Ann's first. "+key(t, 0), nil)
			a2, _ := postID(t, ann, "Ann's second. "+key(t, 0), nil)
			k := key(t, 1)
			for i := range 2 {
				if res := ann.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", a1), nil, "Idempotency-Key", k); res.status != 204 {
					t.Errorf("delete %d: %d %s", i, res.status, res.body)
				}
			}
			if res := ann.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", a2), nil, "Idempotency-Key", k); res.status != 409 {
				t.Errorf("the key of a delete for another comment: %d %s, want 409", res.status, res.body)
			}
			if c, err := e.db.Comment(ctx, a2); err != nil || c.Status == parley.StatusDeleted {
				t.Errorf("the other comment after the conflict: %v %v, want not deleted", c.Status, err)
			}

			// The admin's removal is audited once.
			admin := e.reader("")
			k = key(t, 2)
			for i := range 2 {
				res := admin.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", a2), nil, append(append([]string{}, bearer...), "Idempotency-Key", k)...)
				if res.status != 204 {
					t.Errorf("admin delete %d: %d %s", i, res.status, res.body)
				}
			}
			if as, err := e.db.Actions(ctx, store.ActionQuery{CommentID: a2}); err != nil || len(as) != 1 || as[0].Action != "delete" {
				t.Errorf("audit of the admin's removal: %d entries (%v), want one delete", len(as), err)
			}

			// A guest erases themselves; the answer is lost, and the
			// retry, with the cookie the client still has, gets it.
			cat := e.reader("Cat")
			postID(t, cat, "Cat's comment. "+key(t, 0), nil)
			cookie := cat.cookie(auth.ReaderCookie, "/")
			k = key(t, 3)
			erase := map[string]any{"confirm": "erase"}
			first := cat.do("DELETE", "/api/v1/me", erase, "Idempotency-Key", k)
			if first.status != 200 {
				t.Fatalf("erase: %d %s", first.status, first.body)
			}
			again := e.replay(auth.ReaderCookie, cookie, "DELETE", "/api/v1/me", erase, "Idempotency-Key", k)
			if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
				t.Errorf("erase and its retry: %d %s / %d %v %s", first.status, first.body, again.status, again.header, again.body)
			}
			if res := e.replay(auth.ReaderCookie, cookie, "DELETE", "/api/v1/me", erase, "Idempotency-Key", key(t, 4)); res.status != 401 {
				t.Errorf("the erased reader's cookie with a new key: %d %s, want 401", res.status, res.body)
			}
			if n := func() int {
				as, err := e.db.Actions(ctx, store.ActionQuery{SiteID: "news", Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, a := range as {
					if a.Action == "erase" {
						n++
					}
				}
				return n
			}(); n != 1 {
				t.Errorf("erasure audited %d times, want 1", n)
			}
		})
	}
}
