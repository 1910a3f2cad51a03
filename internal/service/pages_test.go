package service_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// staff returns an actor for a moderator (site "" for every site) or admin.
func staff(role, site string) service.Actor {
	return service.Actor{User: &parley.User{ID: "u-" + role + site, Name: role + " " + site, Role: role, SiteID: site}}
}

func override(js string) *moderation.PolicyOverride {
	var o moderation.PolicyOverride
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		panic(err)
	}
	return &o
}

func TestUpdatePage(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) {})
	r := w.newReader()
	w.mustPost(&r, "the first comment")
	// changed lists the pages whose page.updated this instance has
	// delivered (to its caches and streams) by the time a call returns.
	changed := func() (ids []int64) {
		for _, ev := range w.delivered.of(parley.EventPageUpdated) {
			ids = append(ids, ev.PageID)
		}
		return ids
	}
	page, err := w.db.Page(w.ctx, "news", article)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	ref := service.PageRef{SiteID: "news", URL: article + "?utm_source=feed#comments"} // canonicalised
	for _, tc := range []struct {
		name  string
		actor service.Actor
		ref   service.PageRef
		in    service.PageUpdate
		code  string
		msg   string
	}{
		{"another site's moderator", staff(parley.RoleModerator, "sport"), ref, service.PageUpdate{Closed: &yes}, parley.EForbidden, `site "news"`},
		{"a reader", r, ref, service.PageUpdate{Closed: &yes}, parley.EForbidden, ""},
		{"unknown site", admin, service.PageRef{SiteID: "nope", URL: article}, service.PageUpdate{Closed: &yes}, parley.ENotFound, ""},
		{"unknown page", admin, service.PageRef{SiteID: "news", URL: "https://news.example.com/never"}, service.PageUpdate{Closed: &yes}, parley.ENotFound, "once someone has commented"},
		{"no url", admin, service.PageRef{SiteID: "news"}, service.PageUpdate{Closed: &yes}, parley.EInvalid, "url"},
		{"a page of another site by id", admin, service.PageRef{SiteID: "sport", ID: page.ID}, service.PageUpdate{Closed: &yes}, parley.ENotFound, ""},
		{"override out of range", admin, ref, service.PageUpdate{Policy: override(`{"max_links":5000}`)}, parley.EInvalid, "max_links must be between"},
		{"override bad with the site's settings", admin, ref, service.PageUpdate{Policy: override(`{"mode":"pre_new","pre_new_min_approved":0}`)}, parley.EInvalid, "pre_new_min_approved must be at least 1"},
		{"override with a bad word entry", admin, ref, service.PageUpdate{Policy: override(`{"banned_words":["ab*"]}`)}, parley.EInvalid, "banned_words"},
		{"override that closes", admin, ref, service.PageUpdate{Policy: override(`{"closed":true}`)}, parley.EInvalid, "closed is set beside"},
		{"override by a moderator of every site", staff(parley.RoleModerator, ""), ref, service.PageUpdate{Policy: override(`{"mode":"pre_all"}`)}, parley.EForbidden, "policy"},
		{"long note", admin, ref, service.PageUpdate{Closed: &yes, Note: strings.Repeat("x", 501)}, parley.EInvalid, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.UpdatePage(w.ctx, tc.actor, tc.ref, tc.in)
			if got := parley.ErrorCode(err); got != tc.code || !strings.Contains(parley.ErrorMessage(err), tc.msg) {
				t.Errorf("got %q %q, want %q with %q", got, parley.ErrorMessage(err), tc.code, tc.msg)
			}
		})
	}
	if got, _ := w.db.PageByID(w.ctx, page.ID); got.Closed || got.Policy != nil || len(changed()) != 0 {
		t.Fatalf("refused updates changed the page: %+v, changes %v", got, changed())
	}

	// A moderator of the site closes the page: the next comment is refused,
	// the read path is told, and the audit log keeps who and why.
	mod := staff(parley.RoleModerator, "news")
	v, err := w.svc.UpdatePage(w.ctx, mod, ref, service.PageUpdate{Closed: &yes, Note: "legal advice"})
	if err != nil || !v.Page.Closed || v.Page.ID != page.ID {
		t.Fatalf("close: %+v, %v", v, err)
	}
	if _, err := w.post(&r, "too late"); parley.ErrorCode(err) != parley.EForbidden || !strings.Contains(parley.ErrorMessage(err), "closed") {
		t.Errorf("post on a closed page: %v, want EForbidden", err)
	}
	if !slices.Equal(changed(), []int64{page.ID}) {
		t.Errorf("page.updated delivered when UpdatePage returned: %v, want one for page %d", changed(), page.ID)
	}
	acts, err := w.db.Actions(w.ctx, store.ActionQuery{SiteID: "news"})
	if err != nil || len(acts) == 0 {
		t.Fatalf("audit: %v %v", acts, err)
	}
	a := acts[0]
	if a.Action != service.AuditPage || a.ActorID != mod.User.ID || a.Note != "legal advice" ||
		string(a.Before) != `{"closed":false,"page":"`+article+`"}` || string(a.After) != `{"closed":true,"page":"`+article+`"}` {
		t.Errorf("audit entry: %+v before %s after %s", a, a.Before, a.After)
	}

	// The same again changes nothing and is not audited.
	if _, err := w.svc.UpdatePage(w.ctx, mod, ref, service.PageUpdate{Closed: &yes}); err != nil || len(changed()) != 1 {
		t.Errorf("closing a closed page: %v, %d changes", err, len(changed()))
	}
	if again, _ := w.db.Actions(w.ctx, store.ActionQuery{SiteID: "news"}); len(again) != len(acts) {
		t.Errorf("an unchanged page was audited: %d entries, want %d", len(again), len(acts))
	}

	// Reopened with an override that holds everything: the next comment
	// waits, by the page's policy, while the rest of the site publishes.
	v, err = w.svc.UpdatePage(w.ctx, mod, service.PageRef{SiteID: "news", ID: page.ID}, service.PageUpdate{Closed: &no, Policy: override(`{"mode":"pre_all","max_links":0}`)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Page.Closed || v.Override.Mode == nil || *v.Override.Mode != moderation.ModePreAll || v.Effective.Mode != moderation.ModePreAll ||
		v.Effective.MaxLinks != 0 || v.SitePolicy.Mode != moderation.ModePost || v.Effective.MaxLength != v.SitePolicy.MaxLength {
		t.Errorf("reopened view: %+v", v)
	}
	if c := w.mustPost(&r, "back again"); c.Status != parley.StatusPending || rules(c) != moderation.RulePremodAll {
		t.Errorf("comment under the override: %s (%s), want pending by %s", c.Status, rules(c), moderation.RulePremodAll)
	}
	other, err := w.svc.Post(w.ctx, w.newReader(), service.PostInput{SiteID: "news", URL: "https://news.example.com/other", Text: "elsewhere", Name: "Other"})
	if err != nil || other.Comment.Status != parley.StatusApproved {
		t.Errorf("comment on another page: %+v, %v; want approved", other, err)
	}
	acts, _ = w.db.Actions(w.ctx, store.ActionQuery{SiteID: "news"})
	if b, a := string(acts[0].Before), string(acts[0].After); b != `{"closed":true,"page":"`+article+`","policy":null}` ||
		a != `{"closed":false,"page":"`+article+`","policy":{"mode":"pre_all","max_links":0}}` {
		t.Errorf("audit of reopening: before %s after %s", b, a)
	}

	// An empty override clears it; the page is moderated by the site again.
	if v, err = w.svc.UpdatePage(w.ctx, mod, ref, service.PageUpdate{Policy: override(`{}`)}); err != nil || v.Page.Policy != nil || !v.Override.IsZero() {
		t.Fatalf("clear: %+v, %v", v, err)
	}
	if c := w.mustPost(&r, "and once more"); c.Status != parley.StatusApproved {
		t.Errorf("comment after clearing the override: %s (%s)", c.Status, rules(c))
	}

	// Comments can be closed before the first one.
	fresh := service.PageRef{SiteID: "news", URL: "https://news.example.com/2026/11/embargoed"}
	if _, err := w.svc.UpdatePage(w.ctx, admin, fresh, service.PageUpdate{Closed: &yes}); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("closing a page nobody commented on, without create: %v", err)
	}
	if v, err := w.svc.UpdatePage(w.ctx, admin, fresh, service.PageUpdate{Closed: &yes, Create: true}); err != nil || !v.Page.Closed {
		t.Fatalf("closing with create: %+v, %v", v, err)
	}
	if _, err := w.svc.Post(w.ctx, w.newReader(), service.PostInput{SiteID: "news", URL: fresh.URL, Text: "first!", Name: "Eager"}); parley.ErrorCode(err) != parley.EForbidden {
		t.Errorf("first comment on a page closed in advance: %v, want EForbidden", err)
	}
}

func TestPageView(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) { p.ToxicityReject = 0.95 })
	r := w.newReader()
	w.mustPost(&r, "a comment")
	if _, err := w.svc.UpdatePage(w.ctx, admin, service.PageRef{SiteID: "news", URL: article}, service.PageUpdate{Policy: override(`{"toxicity_hold":0.5}`)}); err != nil {
		t.Fatal(err)
	}
	v, err := w.svc.Page(w.ctx, staff(parley.RoleModerator, "news"), service.PageRef{SiteID: "news", URL: article})
	if err != nil {
		t.Fatal(err)
	}
	if v.Page.URL != article || v.Page.Count != 1 || v.SitePolicy.ToxicityHold != 0.8 || v.Effective.ToxicityHold != 0.5 || v.Effective.ToxicityReject != 0.95 {
		t.Errorf("page view: page %+v, site %+v, effective %+v", v.Page, v.SitePolicy, v.Effective)
	}
	if _, err := w.svc.Page(w.ctx, staff(parley.RoleModerator, "sport"), service.PageRef{SiteID: "news", URL: article}); parley.ErrorCode(err) != parley.EForbidden {
		t.Errorf("another site's moderator: %v, want EForbidden", err)
	}
	// An override that conflicts with a later site policy is refused when
	// set, not when the site changes: the effective policy shows it.
	if _, err := w.svc.UpdatePage(w.ctx, admin, service.PageRef{SiteID: "news", URL: article}, service.PageUpdate{Policy: override(`{"toxicity_hold":0.99}`)}); parley.ErrorCode(err) != parley.EInvalid ||
		!strings.Contains(parley.ErrorMessage(err), "toxicity_reject (0.95) must not be below toxicity_hold (0.99)") {
		t.Errorf("override conflicting with the site: %v", err)
	}
}

func TestPagesList(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) {})
	post := func(url, title string) {
		t.Helper()
		w.now = w.now.Add(time.Minute)
		if _, err := w.svc.Post(w.ctx, w.newReader(), service.PostInput{SiteID: "news", URL: url, Title: title, Text: "words about " + title, Name: "R"}); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range 7 {
		url := fmt.Sprintf("https://news.example.com/2026/story-%d", i)
		post(url, fmt.Sprintf("Story number %d", i))
		want = append([]string{url}, want...)
	}
	post("https://news.example.com/2026/story-2", "") // the oldest but one is now the newest
	want = append([]string{"https://news.example.com/2026/story-2"}, slices.DeleteFunc(want, func(u string) bool { return strings.HasSuffix(u, "story-2") })...)

	var got []string
	q := service.PagesQuery{SiteID: "news", Limit: 3}
	for range 5 {
		l, err := w.svc.Pages(w.ctx, staff(parley.RoleModerator, "news"), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Pages {
			got = append(got, p.Page.URL)
		}
		if l.Cursor == "" {
			break
		}
		q.Cursor = l.Cursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged by 3: got %q, want %q", got, want)
	}
	l, err := w.svc.Pages(w.ctx, admin, service.PagesQuery{SiteID: "news", Search: "NUMBER 5"})
	if err != nil || len(l.Pages) != 1 || l.Pages[0].Page.Title != "Story number 5" || l.Cursor != "" {
		t.Errorf("search: %+v, %v", l, err)
	}
	for _, tc := range []struct {
		name  string
		actor service.Actor
		q     service.PagesQuery
		code  string
	}{
		{"another site's moderator", staff(parley.RoleModerator, "sport"), service.PagesQuery{SiteID: "news"}, parley.EForbidden},
		{"no site", admin, service.PagesQuery{}, parley.EInvalid},
		{"unknown site", admin, service.PagesQuery{SiteID: "nope"}, parley.ENotFound},
		{"forged cursor", admin, service.PagesQuery{SiteID: "news", Cursor: "bm90IGEgY3Vyc29y"}, parley.EInvalid},
		{"cursor not base64", admin, service.PagesQuery{SiteID: "news", Cursor: "???"}, parley.EInvalid},
		{"search too long", admin, service.PagesQuery{SiteID: "news", Search: strings.Repeat("a", 301)}, parley.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.Pages(w.ctx, tc.actor, tc.q)
			if got := parley.ErrorCode(err); got != tc.code {
				t.Errorf("got %q (%v), want %q", got, err, tc.code)
			}
		})
	}
}
