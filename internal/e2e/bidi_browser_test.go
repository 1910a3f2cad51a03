package e2e

import (
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"
)

// bidiName is a display name that ends in an unterminated right-to-left
// override. The API refuses it now (TestNameBidiControls), but a database
// written before that, or by hand, can hold one.
const bidiName = "Eve \u202Eoverride"

// followsInLine is a script that tells whether, in Chromium's layout, the
// element after the name element (sel, within root) starts to the right
// of the name: true when the name cannot reorder the text after it in a
// left-to-right line.
func followsInLine(root, sel string) string {
	return `(() => {
		const root = ` + root + `;
		const name = [...root.querySelectorAll(` + jsString(sel) + `)].find((el) => el.textContent.includes("override"));
		if (!name) return "no name";
		let next = name.nextElementSibling;
		while (next && !next.getClientRects().length) next = next.nextElementSibling;
		if (!next) return "nothing after the name";
		const a = name.getBoundingClientRect(), b = next.getBoundingClientRect();
		return b.left >= a.right - 1 ? "ok" : "reordered: name " + a.left + "–" + a.right + ", next " + b.left + "–" + b.right;
	})()`
}

// TestBrowserBidiNameIsolated (issue 13, promise 6): a name holding a bidi
// override cannot reorder the text around it, in Chromium: in the widget
// (the name is a <bdi> in a flex line) and in the moderator UI's queue (the
// name is a flex item): what follows the name is laid out after it. The
// check itself can fail: the same name in a plain inline line, built in
// the page, does reorder what follows.
func TestBrowserBidiNameIsolated(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const email, password = "mo@example.com", "correct horse battery staple"
	addModerator(t, dataDir, "demo", "Mo", email, password)

	res, err := srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "name": "Eve", "text": "A comment whose author's name will be rewritten."})
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	var c struct {
		Comment struct{ Author struct{ ID string } } `json:"comment"`
	}
	res.decode(&c)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "parley.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE users SET name = ? WHERE id = ?`, `UPDATE comments SET author_name = ? WHERE author_id = ?`} {
		if _, err := db.Exec(q, bidiName, c.Comment.Author.ID); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	reader := newBrowser(t, chrome, "reader")
	reader.open(demo)
	shadow := `document.querySelector('#parley').shadowRoot`
	waitFor[bool](reader, "the name drawn", `(() => [...`+shadow+`.querySelectorAll('.parley-author')].some((el) => el.textContent.includes("override")))()`)
	if got := eval[string](reader, "the widget's meta line", followsInLine(shadow, ".parley-author")); got != "ok" {
		t.Errorf("widget: %s", got)
	}
	// The detector can fail: the name in an ordinary inline line.
	eval[bool](reader, "a line without isolation", `(() => {
		const p = document.createElement('p');
		p.id = 'bidi-control';
		const s = document.createElement('span');
		s.textContent = `+jsString(bidiName)+`;
		const after = document.createElement('span');
		after.textContent = ' · 3 hours ago';
		p.append('#1 ', s, after);
		document.body.append(p);
		return true;
	})()`)
	if got := eval[string](reader, "the control line", followsInLine(`document.getElementById('bidi-control')`, "span")); got == "ok" {
		t.Errorf("without isolation the name did not reorder what follows it: the check cannot fail")
	}
	reader.checkNoErrors()

	mod := newBrowser(t, chrome, "moderator")
	signIn(mod, srv, email, password)
	mod.click("the approved tab", `#tabs [data-queue="approved"]`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := eval[string](mod, "the queue's item head", followsInLine(`document`, "#queue .item-head .author"))
		if got == "ok" {
			break
		}
		if got != "no name" || time.Now().After(deadline) {
			t.Errorf("moderator UI: %s", got)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mod.checkNoErrors()
}
