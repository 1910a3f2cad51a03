package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

const article = "https://news.example.com/2026/11/story"

var admin = service.Actor{Admin: true, IP: "10.0.0.1"}

// world is a service over a real SQLite file with one site, "news", a
// clock the test moves, and the dispatcher of a server: a running broker as
// its Outbox, with a handler that keeps the service's caches in step and
// records what this instance has delivered.
type world struct {
	delivered recorder
	t         *testing.T
	ctx       context.Context
	svc       *service.Service
	db        *sqlite.DB // the store the test opened, for reading what the service wrote
	now       time.Time
	ip        int // for distinct reader IPs
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, ctx: t.Context(), db: db, now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	w.svc = service.New(db, render.New())
	w.svc.Now = func() time.Time { return w.now }
	broker := events.New(db)
	broker.Poll = 50 * time.Millisecond
	broker.Handle(events.HandlerFunc(func(ev parley.Event) {
		w.svc.HandleEvent(ev)
		w.delivered.add(ev)
	}))
	if err := broker.Begin(w.ctx); err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { broker.Run(bctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	w.svc.Outbox = broker
	for _, id := range []string{"news", "sport"} {
		if err := w.svc.CreateSite(w.ctx, &parley.Site{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// recorder keeps the events a handler was given.
type recorder struct {
	mu  sync.Mutex
	evs []parley.Event
}

func (r *recorder) add(ev parley.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

// of returns the events of the type delivered so far, in order.
func (r *recorder) of(typ string) []parley.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []parley.Event
	for _, ev := range r.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// policy replaces the site's policy, starting from the default one and
// turning off the rules a test does not exercise.
func (w *world) policy(change func(p *moderation.Policy)) {
	w.t.Helper()
	p := moderation.DefaultPolicy()
	p.FloodPerMinute, p.FloodPerMinuteIP, p.FloodDuplicateWindow = 0, 0, 0
	change(&p)
	if _, err := w.svc.SetPolicy(w.ctx, admin, "news", p); err != nil {
		w.t.Fatalf("SetPolicy: %v", err)
	}
}

// newReader returns an actor for a reader who has not posted yet, with an IP
// of their own.
func (w *world) newReader() service.Actor {
	w.ip++
	return service.Actor{IP: fmt.Sprintf("192.0.2.%d", w.ip)}
}

// post posts text as a, keeping the reader's user, and returns the result.
func (w *world) post(a *service.Actor, text string) (*service.PostResult, error) {
	res, err := w.svc.Post(w.ctx, *a, service.PostInput{SiteID: "news", URL: article, Text: text, Name: "Reader"})
	if err == nil && res.NewUser != nil {
		a.User = res.NewUser
	}
	return res, err
}

func (w *world) mustPost(a *service.Actor, text string) *parley.Comment {
	w.t.Helper()
	res, err := w.post(a, text)
	if err != nil {
		w.t.Fatalf("post %q: %v", text, err)
	}
	return res.Comment
}

func (w *world) decide(id int64, action string) {
	w.t.Helper()
	if _, err := w.svc.Decide(w.ctx, admin, id, service.DecideInput{Action: action}); err != nil {
		w.t.Fatalf("Decide(%d, %s): %v", id, action, err)
	}
}

func rules(c *parley.Comment) string {
	var out []string
	for _, r := range c.Reasons {
		out = append(out, r.Rule)
	}
	return strings.Join(out, ",")
}

func TestPolicyModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mode   string
		min    int
		want   []string // status of the reader's successive comments; each pending one is then approved
		reason string
	}{
		{"post-moderation publishes", moderation.ModePost, 0, []string{"approved", "approved", "approved"}, ""},
		{"pre-moderation of everything", moderation.ModePreAll, 0, []string{"pending", "pending", "pending"}, moderation.RulePremodAll},
		{"pre-moderation of new readers until 2 approvals", moderation.ModePreNew, 2, []string{"pending", "pending", "approved", "approved"}, moderation.RulePremodNew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.policy(func(p *moderation.Policy) {
				p.Mode = tc.mode
				if tc.min > 0 {
					p.PreNewMinApproved = tc.min
				}
			})
			r := w.newReader()
			for i, want := range tc.want {
				c := w.mustPost(&r, fmt.Sprintf("comment number %d", i))
				if c.Status != want {
					t.Fatalf("comment %d: got %s (%s), want %s", i, c.Status, rules(c), want)
				}
				if want == parley.StatusPending {
					if rules(c) != tc.reason {
						t.Errorf("comment %d held by %q, want %q", i, rules(c), tc.reason)
					}
					w.decide(c.ID, service.ActionApprove)
				}
			}
			// Staff are never held by the mode.
			mod := service.Actor{User: &parley.User{ID: "m", Name: "Mod", Role: parley.RoleModerator}}
			if c := w.mustPost(&mod, "a word from the moderators"); c.Status != parley.StatusApproved {
				t.Errorf("staff comment: got %s (%s)", c.Status, rules(c))
			}
		})
	}
}

func TestFloodControl(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) {
		p.FloodPerMinute, p.FloodPerMinuteIP, p.FloodDuplicateWindow = 2, 3, 3600
		p.AutoPremod.Window = 0 // refused floods count as rejections; keep this test to flood control
	})
	status := func(a *service.Actor, text string) string {
		t.Helper()
		c := w.mustPost(a, text)
		return c.Status + ":" + rules(c)
	}
	ann := w.newReader()
	steps := []struct {
		name    string
		advance time.Duration
		who     *service.Actor
		text    string
		want    string
	}{
		{"first", 0, &ann, "one", "approved:"},
		{"second within the minute", time.Second, &ann, "two", "approved:"},
		{"third within the minute", time.Second, &ann, "three", "rejected:flood"},
		{"a minute later", time.Minute, &ann, "four", "approved:"},
		{"the same text within the hour", time.Minute, &ann, "four", "rejected:duplicate"},
		{"the same text an hour after the refused copy", time.Hour + time.Second, &ann, "four", "approved:"},
	}
	for _, s := range steps {
		w.now = w.now.Add(s.advance)
		if got := status(s.who, s.text); got != s.want {
			t.Errorf("%s: got %s, want %s", s.name, got, s.want)
		}
	}
	// Per IP: four readers behind one address.
	w.now = w.now.Add(time.Hour)
	var got []string
	for i := range 4 {
		r := service.Actor{IP: "203.0.113.9"}
		got = append(got, status(&r, fmt.Sprintf("from the office %d", i)))
	}
	if want := "approved:,approved:,approved:,rejected:flood"; strings.Join(got, ",") != want {
		t.Errorf("per IP: got %v, want %s", got, want)
	}
	// NoFlood (a load test) lifts the per-minute limits but not duplicates.
	w.svc.NoFlood = true
	if got := status(&ann, "five"); got != "approved:" {
		t.Errorf("NoFlood: %s", got)
	}
	if got := status(&ann, "five"); got != "rejected:duplicate" {
		t.Errorf("NoFlood duplicate: %s", got)
	}
}

func TestAutomaticPremoderation(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) { p.AutoPremod = moderation.AutoPremod{Window: 3, Rejected: 2} })
	r := w.newReader()
	for _, text := range []string{"first bad", "second bad"} {
		c := w.mustPost(&r, text)
		w.now = w.now.Add(time.Minute)
		w.decide(c.ID, service.ActionReject)
	}
	// Two of the last three rejected: held, until approvals push them out.
	want := []string{"pending", "pending", "approved"}
	for i, ws := range want {
		c := w.mustPost(&r, fmt.Sprintf("trying again %d", i))
		w.now = w.now.Add(time.Minute)
		if c.Status != ws {
			t.Fatalf("comment %d after the rejections: got %s (%s), want %s", i, c.Status, rules(c), ws)
		}
		if ws == parley.StatusPending {
			if rules(c) != moderation.RuleTrust {
				t.Errorf("held by %q, want trust", rules(c))
			}
			w.decide(c.ID, service.ActionApprove)
		}
	}
}

func TestSuspensionPerSiteAndExpiry(t *testing.T) {
	w := newWorld(t)
	r := w.newReader()
	w.mustPost(&r, "hello")
	mod := service.Actor{User: &parley.User{ID: "m", Name: "Mod", Role: parley.RoleModerator, SiteID: "sport"}}
	_, err := w.svc.Sanction(w.ctx, mod, r.User.ID, service.SanctionInput{SiteID: "news", Action: service.SanctionSuspend, Duration: time.Hour})
	if parley.ErrorCode(err) != parley.EForbidden {
		t.Fatalf("sport moderator suspending on news: got %v, want forbidden", err)
	}
	if _, err := w.svc.Sanction(w.ctx, admin, r.User.ID, service.SanctionInput{SiteID: "news", Action: service.SanctionSuspend, Duration: time.Hour, Note: "cool off"}); err != nil {
		t.Fatal(err)
	}
	_, err = w.post(&r, "still here")
	if parley.ErrorCode(err) != parley.EForbidden || !strings.Contains(parley.ErrorMessage(err), "suspended from commenting on this site until 20 November 2026 10:00 UTC") {
		t.Errorf("suspended post: got %v", err)
	}
	if _, err := w.svc.Post(w.ctx, r, service.PostInput{SiteID: "sport", URL: "https://sport.example.com/a", Text: "on sport"}); err != nil {
		t.Errorf("suspended on news, posting on sport: %v", err)
	}
	w.now = w.now.Add(time.Hour)
	if _, err := w.post(&r, "back"); err != nil {
		t.Errorf("after the suspension: %v", err)
	}
	acts, err := w.svc.Reader(w.ctx, admin, r.User.ID, "news")
	if err != nil {
		t.Fatal(err)
	}
	if len(acts.Actions) != 1 || acts.Actions[0].Action != service.SanctionSuspend || acts.Actions[0].Note != "cool off" ||
		!strings.Contains(string(acts.Actions[0].After), "2026-11-20T10:00:00Z") || string(acts.Actions[0].Before) != `{"suspended_until":null}` {
		t.Errorf("audit of the suspension: %+v", acts.Actions)
	}
}

// reporters returns n readers who have posted once, each with upheld and
// dismissed reports on record, created days ago.
func (w *world) reporters(n, upheld, dismissed int) []service.Actor {
	w.t.Helper()
	var out []service.Actor
	for range n {
		r := w.newReader()
		w.mustPost(&r, fmt.Sprintf("reporter %d says hi", w.ip))
		out = append(out, r)
	}
	target := w.newReader()
	for i := range upheld + dismissed {
		c := w.mustPost(&target, fmt.Sprintf("target comment %d %d", w.ip, i))
		for _, r := range out {
			if _, err := w.svc.Report(w.ctx, r, c.ID, service.ReportInput{Reason: "abuse"}); err != nil {
				w.t.Fatal(err)
			}
		}
		if i < upheld {
			w.decide(c.ID, service.ActionReject)
		} else {
			w.decide(c.ID, service.ActionApprove)
		}
	}
	return out
}

func TestReportsWeightedAndBrigades(t *testing.T) {
	for _, tc := range []struct {
		name      string
		upheld    int // each reporter's record
		dismissed int
		n         int
		gap       time.Duration // between reports
		young     bool          // reporters' accounts are minutes old
		wantHeld  bool
		wantFlag  bool
	}{
		// Threshold 2. New readers weigh 0.5: four of them, spread out, hold.
		{"four new readers over an hour", 0, 0, 4, 15 * time.Minute, false, true, false},
		{"three new readers over an hour", 0, 0, 3, 15 * time.Minute, false, false, false},
		// Readers with two upheld reports weigh 0.75: three hold even at once.
		{"three trusted readers at once", 2, 0, 3, time.Second, false, true, false},
		// Readers whose reports were dismissed weigh 1/6: six do not hold.
		{"six readers whose reports were dismissed", 0, 4, 6, 15 * time.Minute, false, false, false},
		// A burst of readers without history: weight enough, but a brigade.
		{"burst of six new readers", 0, 0, 6, 30 * time.Second, false, false, true},
		{"burst of young accounts with upheld reports", 2, 0, 4, 30 * time.Second, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.policy(func(p *moderation.Policy) { p.ReportThreshold = 2 })
			reps := w.reporters(tc.n, tc.upheld, tc.dismissed)
			if !tc.young {
				w.now = w.now.Add(48 * time.Hour)
			}
			author := w.newReader()
			c := w.mustPost(&author, "an unpopular opinion")
			for _, r := range reps {
				w.now = w.now.Add(tc.gap)
				if _, err := w.svc.Report(w.ctx, r, c.ID, service.ReportInput{Reason: "harassment"}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := w.db.Comment(w.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if held := got.Status == parley.StatusPending; held != tc.wantHeld {
				t.Errorf("held: got %v (status %s, %s), want %v", held, got.Status, rules(got), tc.wantHeld)
			}
			if tc.wantHeld && !strings.Contains(rules(got), moderation.RuleReports) {
				t.Errorf("held without the reports reason: %s", rules(got))
			}
			entries, err := w.svc.QueueView(w.ctx, admin, store.QueueQuery{SiteID: "news", Queue: store.QueueReported})
			if err != nil {
				t.Fatal(err)
			}
			var e *service.QueueEntry
			for _, x := range entries {
				if x.Item.Comment.ID == c.ID {
					e = x
				}
			}
			if e == nil {
				t.Fatalf("comment not in the reported queue")
			}
			if e.Reports.Brigade.Suspected != tc.wantFlag {
				t.Errorf("brigade suspected: got %v (%q), want %v", e.Reports.Brigade.Suspected, e.Reports.Brigade.Message, tc.wantFlag)
			}
			if tc.wantFlag && !strings.Contains(e.Reports.Brigade.Message, "not hidden automatically") {
				t.Errorf("brigade message: %q", e.Reports.Brigade.Message)
			}
			want := float64(tc.n) * store.ReporterWeight(tc.upheld, tc.dismissed)
			if d := e.Reports.Weight - want; d > 1e-9 || d < -1e-9 || e.Reports.Reporters != tc.n {
				t.Errorf("weight: got %v from %d reporters, want %v from %d", e.Reports.Weight, e.Reports.Reporters, want, tc.n)
			}
			if d := e.Item.ReportWeight - want; d > 1e-9 || d < -1e-9 {
				t.Errorf("store's weight: got %v, want %v", e.Item.ReportWeight, want)
			}
		})
	}
}

func TestRejectPendingAndAudit(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) { p.Mode = moderation.ModePreAll })
	r, other := w.newReader(), w.newReader()
	for i := range 3 {
		w.mustPost(&r, fmt.Sprintf("spam %d", i))
	}
	keep := w.mustPost(&other, "a real comment")
	n, err := w.svc.RejectPending(w.ctx, admin, r.User.ID, "news", "spam run")
	if err != nil || n != 3 {
		t.Fatalf("RejectPending: %d, %v", n, err)
	}
	if c, _ := w.db.Comment(w.ctx, keep.ID); c.Status != parley.StatusPending {
		t.Errorf("another reader's comment: %s", c.Status)
	}
	d, err := w.svc.Reader(w.ctx, admin, r.User.ID, "news")
	if err != nil {
		t.Fatal(err)
	}
	if d.History.Rejected != 3 || len(d.Actions) != 4 || d.Actions[0].Action != service.AuditRejectPending ||
		string(d.Actions[0].After) != `{"rejected":3}` || d.Actions[0].ActorName != "admin token" {
		t.Errorf("after reject-pending: history %+v, actions %+v", d.History, d.Actions[0])
	}
	// A moderator's removal is audited; an author's own is not.
	if err := w.svc.Delete(w.ctx, admin, keep.ID); err != nil {
		t.Fatal(err)
	}
	if acts, _ := w.svc.CommentAudit(w.ctx, admin, keep.ID); len(acts) != 1 || acts[0].Action != service.AuditDelete ||
		string(acts[0].Before) != `{"status":"pending"}` || string(acts[0].After) != `{"status":"deleted"}` {
		t.Errorf("audit of a moderator's removal: %+v", acts)
	}
	own := w.mustPost(&other, "my own words")
	if err := w.svc.Delete(w.ctx, other, own.ID); err != nil {
		t.Fatal(err)
	}
	if acts, _ := w.svc.CommentAudit(w.ctx, admin, own.ID); len(acts) != 0 {
		t.Errorf("an author's own removal was audited: %+v", acts)
	}
	// The policy change was audited too.
	acts, err := w.db.Actions(w.ctx, store.ActionQuery{SiteID: "news"})
	if err != nil {
		t.Fatal(err)
	}
	last := acts[len(acts)-1]
	if last.Action != service.AuditPolicy || !strings.Contains(string(last.After), `"mode":"pre_all"`) || !strings.Contains(string(last.Before), `"mode":"post"`) {
		t.Errorf("policy audit: %+v (before %s after %s)", last, last.Before, last.After)
	}
}

func TestStaffAccounts(t *testing.T) {
	w := newWorld(t)
	w.svc.PasswordParams.Memory, w.svc.PasswordParams.Time = 64, 1
	for _, tc := range []struct {
		name string
		in   service.StaffInput
		code string
	}{
		{"moderator of a site", service.StaffInput{Role: "moderator", SiteID: "news", Name: "Mo", Email: "Mo@Example.com", Password: "ten chars!"}, ""},
		{"same address", service.StaffInput{Role: "admin", Name: "Mo2", Email: "mo@example.com", Password: "ten chars!"}, parley.EConflict},
		{"short password", service.StaffInput{Role: "admin", Name: "A", Email: "a@example.com", Password: "nine char"}, parley.EInvalid},
		{"bad role", service.StaffInput{Role: "reader", Name: "A", Email: "a@example.com", Password: "ten chars!"}, parley.EInvalid},
		{"bad address", service.StaffInput{Role: "admin", Name: "A", Email: "not an address", Password: "ten chars!"}, parley.EInvalid},
		{"unknown site", service.StaffInput{Role: "moderator", SiteID: "nope", Name: "A", Email: "a@example.com", Password: "ten chars!"}, parley.ENotFound},
		{"admin with a site", service.StaffInput{Role: "admin", SiteID: "news", Name: "A", Email: "a@example.com", Password: "ten chars!"}, parley.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.AddStaff(w.ctx, tc.in)
			if got := parley.ErrorCode(err); got != tc.code {
				t.Errorf("got %q (%v), want %q", got, err, tc.code)
			}
		})
	}
	u, tok, _, err := w.svc.Login(w.ctx, " MO@example.com ", "ten chars!")
	if err != nil || u.SiteID != "news" {
		t.Fatalf("Login: %v %v", u, err)
	}
	if got, err := w.svc.StaffSession(w.ctx, tok); err != nil || got.ID != u.ID {
		t.Fatalf("StaffSession: %v %v", got, err)
	}
	// A new password signs the moderator out everywhere.
	if err := w.svc.SetStaffPassword(w.ctx, "mo@example.com", "another password"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.StaffSession(w.ctx, tok); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Errorf("session after a password change: %v", err)
	}
	if _, _, _, err := w.svc.Login(w.ctx, "mo@example.com", "ten chars!"); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Errorf("old password: %v", err)
	}
	if _, _, _, err := w.svc.Login(w.ctx, "mo@example.com", "another password"); err != nil {
		t.Errorf("new password: %v", err)
	}
}
