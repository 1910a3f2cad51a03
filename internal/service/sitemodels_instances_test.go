package service_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/internal/toxicity"
)

// stack is one instance as serve wires it: a service with the base model
// and site models, and a broker tailing the shared event log that hands
// every event to the service (Observe).
type stack struct {
	svc *service.Service
}

// newStack starts an instance on st. With broker false it has no broker,
// so only its version check can tell it of a retrain.
func newStack(t *testing.T, st store.Store, base *toxicity.Model, broker bool, check time.Duration) *stack {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var running []chan struct{}
	t.Cleanup(func() {
		stop()
		for _, done := range running {
			<-done
		}
	})
	goRun := func(fn func()) {
		done := make(chan struct{})
		running = append(running, done)
		go func() { fn(); close(done) }()
	}
	svc := service.New(st, render.New())
	svc.Logger = quiet()
	svc.Scorer = base
	svc.SiteModels = service.NewSiteModels(st, base)
	svc.SiteModels.Logger = quiet()
	svc.SiteModels.CheckEvery = check
	if err := svc.SiteModels.Load(ctx, filepath.Join(t.TempDir(), "models")); err != nil {
		t.Fatal(err)
	}
	if broker {
		b := events.New(st)
		b.Logger = quiet()
		b.Poll = 50 * time.Millisecond
		b.Handle(svc)
		if err := b.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		svc.Outbox = b
		goRun(func() { b.Run(ctx) })
		if l, ok := st.(interface{ Listen(context.Context, func()) }); ok {
			goRun(func() { l.Listen(ctx, b.Notify) })
		}
	}
	goRun(func() { svc.RunSiteModels(ctx, 0) })
	return &stack{svc: svc}
}

// precheck returns what the instance would decide on text, storing nothing.
func (s *stack) precheck(t *testing.T, text string) parley.Decision {
	t.Helper()
	d, _, err := s.svc.Precheck(t.Context(), service.Actor{IP: "198.51.100.7"},
		service.PostInput{SiteID: "news", URL: article, Text: text, Name: "Probe"})
	if err != nil {
		t.Fatalf("Precheck: %v", err)
	}
	return d
}

// TestSiteModelAcrossInstances runs three instances on one database and
// retrains a site's model on A: B, whose version check is an hour away,
// must score and decide a comment exactly as A does once the site.model
// event reaches it; C, without a broker, must do so through its version
// check. Neither restarts. Posting the comment on A and on B then stores the
// same score and status.
func TestSiteModelAcrossInstances(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) (a, b, c store.Store)
	}{
		// One handle shared, as several services in one process would.
		{"sqlite", func(t *testing.T) (store.Store, store.Store, store.Store) {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, db, db
		}},
		// A pool each on one database, as three `parley serve` processes.
		{"postgres", func(t *testing.T) (store.Store, store.Store, store.Store) {
			dsn, schema := testenv.PostgresSchema(t, "parley_service_")
			open := func() store.Store {
				db := postgres.New(dsn)
				db.Schema = schema
				if err := db.Open(context.Background()); err != nil {
					t.Fatalf("open postgres: %v", err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			return open(), open(), open()
		}},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			base := baseModel(t)
			stA, stB, stC := be.open(t)
			a := newStack(t, stA, base, true, time.Hour)
			if err := a.svc.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
				t.Fatal(err)
			}
			b := newStack(t, stB, base, true, time.Hour)
			c := newStack(t, stC, base, false, 50*time.Millisecond)

			// The moderators' decisions, made on A.
			pol := moderation.DefaultPolicy()
			pol.Mode, pol.FloodPerMinute, pol.FloodPerMinuteIP, pol.FloodDuplicateWindow = moderation.ModePreAll, 0, 0, 0
			if _, err := a.svc.SetPolicy(ctx, admin, "news", pol); err != nil {
				t.Fatal(err)
			}
			r := service.Actor{IP: "192.0.2.1"}
			for i := range 30 {
				for _, d := range []struct{ text, action string }{{promoText, service.ActionReject}, {civilText, service.ActionApprove}} {
					res, err := a.svc.Post(ctx, r, service.PostInput{SiteID: "news", URL: article, Text: fmt.Sprintf(d.text, i), Name: "R"})
					if err != nil {
						t.Fatal(err)
					}
					if res.NewUser != nil {
						r.User = res.NewUser
					}
					if _, err := a.svc.Decide(ctx, admin, res.Comment.ID, service.DecideInput{Action: d.action}); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Hold the probe half-way between the base score and what the
			// tuned model will score: the retrain changes the decision.
			ds, err := a.svc.SiteDecisions(ctx, "news")
			if err != nil {
				t.Fatal(err)
			}
			want, err := service.TrainSiteModel(base, "news", ds)
			if err != nil {
				t.Fatal(err)
			}
			baseScore, siteScore := base.Score(promoProbe, "").Toxicity, want.Score(promoProbe, "").Toxicity
			if siteScore < baseScore+0.2 {
				t.Fatalf("the tuned model scores the probe %.3f, the base %.3f: the test needs a clear change", siteScore, baseScore)
			}
			pol.Mode, pol.ToxicityHold, pol.ToxicityReject = moderation.ModePost, math.Round((baseScore+siteScore)*50)/100, 0
			if _, err := a.svc.SetPolicy(ctx, admin, "news", pol); err != nil {
				t.Fatal(err)
			}
			// Before the retrain every instance uses the base model (B and C
			// follow A's policy within the site cache's TTL).
			for name, s := range map[string]*stack{"A": a, "B": b, "C": c} {
				deadline := time.Now().Add(10 * time.Second)
				for {
					d := s.precheck(t, promoProbe)
					if d.Toxicity == baseScore && d.Status == parley.StatusApproved {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s before the retrain: toxicity %.4f status %s; want the base %.4f, approved", name, d.Toxicity, d.Status, baseScore)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}

			tuned := time.Now()
			res, err := a.svc.TuneSite(ctx, "news", nil)
			if err != nil {
				t.Fatalf("TuneSite on A: %v", err)
			}
			onA := a.precheck(t, promoProbe)
			if onA.Toxicity != siteScore || onA.Status != parley.StatusPending {
				t.Fatalf("A after its retrain (version %d): toxicity %.4f status %s; want %.4f, pending", res.Version, onA.Toxicity, onA.Status, siteScore)
			}
			// B hears of it from the log, C from its version check: poll
			// until they agree; 10 s only bounds a failure.
			for name, s := range map[string]*stack{"B": b, "C": c} {
				deadline := time.Now().Add(10 * time.Second)
				for {
					d := s.precheck(t, promoProbe)
					if d.Toxicity == onA.Toxicity && d.Status == onA.Status {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s 10 s after A's retrain: toxicity %.4f status %s; want A's %.4f %s", name, d.Toxicity, d.Status, onA.Toxicity, onA.Status)
					}
					time.Sleep(20 * time.Millisecond)
				}
				t.Logf("%s agrees with A %v after the retrain began", name, time.Since(tuned).Round(time.Millisecond))
				if _, v := s.svc.SiteModels.Model("news"); v != res.Version {
					t.Errorf("%s holds version %d, want %d", name, v, res.Version)
				}
			}

			// The same comment posted on A and on B is stored alike.
			var got []*parley.Comment
			for i, s := range []*stack{a, b} {
				res, err := s.svc.Post(ctx, service.Actor{IP: fmt.Sprintf("203.0.113.%d", i+1)},
					service.PostInput{SiteID: "news", URL: article, Text: promoProbe, Name: "Poster"})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, res.Comment)
			}
			if got[0].Toxicity != got[1].Toxicity || got[0].Status != got[1].Status || got[1].Status != parley.StatusPending {
				t.Errorf("posted on A: %.4f %s; on B: %.4f %s; want the same, pending", got[0].Toxicity, got[0].Status, got[1].Toxicity, got[1].Status)
			}
		})
	}
}
