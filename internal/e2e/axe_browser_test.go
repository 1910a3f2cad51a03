package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// runAxe injects axe-core into b's page (through the protocol, which the
// page's CSP does not govern) and returns the violations of any impact,
// widget shadow DOM included.
func runAxe(t *testing.T, b *browser, src string) []axeViolation {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;true")); err != nil {
		t.Fatalf("%s: inject axe-core: %v", b.name, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, { resultTypes: ['violations'] }).then((r) => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", b.name, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// setColorScheme makes the page see prefers-color-scheme: scheme.
func setColorScheme(t *testing.T, b *browser, scheme string) {
	t.Helper()
	b.do("prefers-color-scheme: "+scheme, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

func reportAxe(t *testing.T, where string, vs []axeViolation) {
	t.Helper()
	for _, v := range vs {
		var nodes []string
		for i, n := range v.Nodes {
			if i == 5 {
				nodes = append(nodes, fmt.Sprintf("… %d more", len(v.Nodes)-5))
				break
			}
			nodes = append(nodes, fmt.Sprint(n.Target)+": "+strings.ReplaceAll(n.Summary, "\n", " "))
		}
		t.Errorf("%s: axe %s (%s): %s\n\t%s", where, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n\t"))
	}
}

// TestBrowserAxe runs axe-core on /demo (with comments, a held one, a reply
// form open) and on every view of the moderator UI, as a moderator and as
// an admin (who also gets the sign-in, erasure and webhook forms), in the light and the
// dark colour scheme, and fails on any violation, whatever its impact.
func TestBrowserAxe(t *testing.T) {
	chrome := testenv.Chromium(t)
	axeSrc, err := os.ReadFile(testenv.Axe(t))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const email, password = "mo@example.com", "a long enough password"
	addModerator(t, dataDir, "demo", "Mo", email, password)
	const adminEmail = "ada@example.com"
	addStaff(t, dataDir, "admin", "", "Ada Admin", adminEmail, password)
	api := srv.client()
	var first apiPosted
	res, err := api.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": "T", "name": "Ann", "text": "The open doors weekend was a **good** idea, see https://example.org."})
	if err != nil || res.Status != http.StatusCreated || res.decode(&first) != nil {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	for _, text := range []string{"> The open doors weekend was a good idea\n\nAgreed, and the library did well.", "A third view, held back."} {
		body := map[string]any{"site": "demo", "url": demo, "title": "T", "name": "Bob", "text": text, "parent": first.Comment.ID}
		if res, err := api.do("POST", "/api/v1/comments", body); err != nil || res.Status != http.StatusCreated {
			t.Fatalf("reply: %v %d %.300s", err, res.Status, res.Body)
		}
	}

	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			reader := newBrowser(t, chrome, "reader "+scheme)
			setColorScheme(t, reader, scheme)
			reader.open(demo)
			reader.do("open a reply form", chromedp.Click(inWidget(".parley-reply-btn")))
			waitFor[bool](reader, "the reply form", shadowRoot+`.querySelector('.parley-form-reply') !== null`)
			reportAxe(t, "/demo "+scheme, runAxe(t, reader, string(axeSrc)))

			mod := newBrowser(t, chrome, "moderator "+scheme)
			setColorScheme(t, mod, scheme)
			mod.do("open /admin", chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`#signin-form`)))
			reportAxe(t, "/admin sign-in "+scheme, runAxe(t, mod, string(axeSrc)))
			signIn(mod, srv, email, password)
			for _, view := range []string{"queue", "pages", "settings", "stats"} {
				mod.click("the "+view+" view", `.view-btn[data-view=`+view+`]`)
				waitFor[bool](mod, "the "+view+" view", `!document.querySelector('#`+view+`-view').hidden`)
				if view == "queue" {
					waitFor[bool](mod, "a queue item", `document.querySelector('#queue li') !== null || !document.querySelector('#empty').hidden`)
				}
				if view == "pages" {
					waitFor[bool](mod, "the pages list", `document.querySelector('#pages-list li') !== null`)
				}
				if view == "settings" {
					waitFor[bool](mod, "the site and its moderators", `!document.querySelector('#site-form').hidden && document.querySelector('#staff-list tr') !== null`)
				}
				if view == "stats" {
					waitFor[bool](mod, "the statistics", `document.querySelector('#stats-days tr') !== null`)
				}
				reportAxe(t, "/admin "+view+" "+scheme, runAxe(t, mod, string(axeSrc)))
			}

			// An admin's views hold what a moderator's do not: the sign-in
			// (SSO, OpenID Connect) and erasure forms, the invitation of
			// moderators, and the webhooks.
			adm := newBrowser(t, chrome, "admin "+scheme)
			setColorScheme(t, adm, scheme)
			signIn(adm, srv, adminEmail, password)
			for _, view := range []string{"queue", "pages", "settings", "webhooks", "stats"} {
				adm.click("the "+view+" view", `.view-btn[data-view=`+view+`]`)
				waitFor[bool](adm, "the "+view+" view", `!document.querySelector('#`+view+`-view').hidden`)
				switch view {
				case "queue":
					waitFor[bool](adm, "a queue item", `document.querySelector('#queue li') !== null || !document.querySelector('#empty').hidden`)
				case "pages":
					waitFor[bool](adm, "the pages list", `document.querySelector('#pages-list li') !== null`)
				case "settings":
					waitFor[bool](adm, "the admin's forms", `['#site-form', '#invite-form', '#sso-form', '#oidc-form', '#erasure-form'].every((f) => { const e = document.querySelector(f); return e && !e.hidden && !e.closest('[hidden]'); }) && document.querySelector('#staff-list tr') !== null`)
				case "webhooks":
					waitFor[bool](adm, "the webhook form", `!document.querySelector('#webhook-form').hidden`)
				case "stats":
					waitFor[bool](adm, "the statistics", `document.querySelector('#stats-days tr') !== null`)
				}
				reportAxe(t, "/admin "+view+" (admin) "+scheme, runAxe(t, adm, string(axeSrc)))
			}
			reader.checkNoErrors()
			mod.checkNoErrors()
			adm.checkNoErrors()
		})
	}
	srv.checkAlive()
}
