package service_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// TestObserveSiteChange plays the part of the broker for a second instance
// B on the same store: a site changed through instance A (its policy closed,
// then its settings) is forgotten by B as soon as B observes the events the
// changes recorded, although B's clock stands still and its cached site
// never reaches the TTL.
func TestObserveSiteChange(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) {})
	b := service.New(w.db, render.New())
	b.Now = w.svc.Now
	last, err := w.db.LastEventID(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// observe hands B every event after the last one, as its broker would.
	observe := func() {
		t.Helper()
		evs, err := w.db.EventsSince(w.ctx, last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			b.HandleEvent(ev)
			last = ev.ID
		}
	}
	post := func(s *service.Service) error {
		_, err := s.Post(w.ctx, w.newReader(), service.PostInput{SiteID: "news", URL: article, Text: "A comment.", Name: "Reader"})
		return err
	}

	if err := post(b); err != nil { // B caches the site and its pipeline
		t.Fatalf("post on B: %v", err)
	}
	observe() // page events only

	w.policy(func(p *moderation.Policy) { p.Closed = true }) // on A
	want := post(w.svc)
	if parley.ErrorCode(want) != parley.EForbidden {
		t.Fatalf("post on A after A closed the site: got %v, want forbidden", want)
	}
	observe()
	got := post(b)
	if parley.ErrorCode(got) != parley.ErrorCode(want) || parley.ErrorMessage(got) != parley.ErrorMessage(want) {
		t.Errorf("post on B after it observed the change: got %v, want %v as on A", got, want)
	}
	if v, err := b.Thread(w.ctx, service.ThreadRequest{SiteID: "news", URL: article}); err != nil || !v.Closed {
		t.Errorf("B's thread after it observed the change: closed %v, %v; want closed", v != nil && v.Closed, err)
	}

	// A change of settings (the command line's `parley site set`).
	site, err := w.svc.Site(w.ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	renamed := *site
	renamed.Name = "The News"
	if err := w.svc.UpdateSite(w.ctx, &renamed); err != nil {
		t.Fatal(err)
	}
	observe()
	if s, err := b.Site(w.ctx, "news"); err != nil || s.Name != "The News" {
		t.Errorf("B's site after it observed the rename: %v; want the new name", siteName(s, err))
	}
}

// TestSiteChangeDuringRead: a site read from the store before a change but
// returned after the change was observed is not cached, or it would hide the
// change until the TTL.
func TestSiteChangeDuringRead(t *testing.T) {
	w := newWorld(t)
	slow := &slowSites{Store: w.db, read: make(chan struct{}), resume: make(chan struct{})}
	b := service.New(slow, render.New())
	b.Now = w.svc.Now

	done := make(chan *parley.Site)
	go func() { // ends when slowSites lets the read return
		s, err := b.Site(w.ctx, "news")
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	<-slow.read // B holds the old site, not yet cached
	site, err := w.svc.Site(w.ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	renamed := *site
	renamed.Name = "The News"
	if err := w.svc.UpdateSite(w.ctx, &renamed); err != nil {
		t.Fatal(err)
	}
	b.HandleEvent(parley.Event{Type: parley.EventSiteUpdated, SiteID: "news"})
	close(slow.resume)
	if old := <-done; old.Name != "news" {
		t.Fatalf("the read in flight: got name %q, want the old one", old.Name)
	}
	if s, err := b.Site(w.ctx, "news"); err != nil || s.Name != "The News" {
		t.Errorf("B's site after the change: %v; want the new name, not the old read cached", siteName(s, err))
	}
}

// siteName describes the result of a Site call by the site's name.
func siteName(s *parley.Site, err error) string {
	if err != nil {
		return "error " + err.Error()
	}
	return "name " + strconv.Quote(s.Name)
}

// slowSites holds the first Site read after reading it, until resume closes.
type slowSites struct {
	store.Store
	read, resume chan struct{}
	held         bool // set by the first read, before read closes
}

func (s *slowSites) Site(ctx context.Context, id string) (*parley.Site, error) {
	site, err := s.Store.Site(ctx, id)
	if !s.held {
		s.held = true
		close(s.read)
		<-s.resume
	}
	return site, err
}

// TestCreateSiteTellsThisInstance: creating a site returns only once this
// instance has delivered its site.updated (to the handler that keeps the
// API's allowed origins), as changing one does, so the new site's origins
// are allowed at once.
func TestCreateSiteTellsThisInstance(t *testing.T) {
	w := newWorld(t)
	if err := w.svc.CreateSite(w.ctx, &parley.Site{ID: "blog", Name: "Blog", Origins: []string{"https://blog.example.com"}}); err != nil {
		t.Fatal(err)
	}
	var sites []string
	for _, ev := range w.delivered.of(parley.EventSiteUpdated) {
		sites = append(sites, ev.SiteID)
	}
	if !slices.Contains(sites, "blog") {
		t.Errorf("site.updated delivered when CreateSite returned: %q, want blog's", sites)
	}
}
