package service_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// banned sets up a reader "Bob Stone" who posted from ip, and the
// sanction in given by an admin; it returns the banned reader's actor.
func (w *world) banned(ip, text string, in service.SanctionInput) service.Actor {
	w.t.Helper()
	bob := service.Actor{IP: ip}
	res, err := w.svc.Post(w.ctx, bob, service.PostInput{SiteID: "news", URL: article, Text: text, Name: "Bob Stone"})
	if err != nil {
		w.t.Fatalf("banned reader's post: %v", err)
	}
	bob.User = res.NewUser
	w.now = w.now.Add(3 * time.Hour)
	if in.SiteID == "" && in.Action == "" {
		in = service.SanctionInput{SiteID: "news", Action: service.SanctionBan}
	}
	if _, err := w.svc.Sanction(w.ctx, admin, bob.User.ID, in); err != nil {
		w.t.Fatalf("Sanction: %v", err)
	}
	// As the next request reads them, with the ban.
	u, err := w.db.User(w.ctx, bob.User.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	bob.User = u
	return bob
}

const bobsText = "Everyone who writes for this rag should be ashamed of what they publish every single day"

func TestBanBindsWhatACookieCannotShed(t *testing.T) {
	other := "Lovely weather for the match this weekend, I hope the trains run on time"
	for _, tc := range []struct {
		name, bannedIP   string
		ban              service.SanctionInput
		ip, author, text string
		site             string
		later            time.Duration // the clock moves on by this before the post
		want             string        // status, and for a hold what the moderator is told
	}{
		{"same IPv4 address, new cookie, new name", "198.51.100.7", service.SanctionInput{}, "198.51.100.7", "Ann", other, "news", 0,
			"pending: same network address, which they used 3 hours ago"},
		{"the same IPv6 /64", "2001:db8:1:2::5", service.SanctionInput{}, "2001:db8:1:2:ffff::9", "Ann", other, "news", 0,
			"pending: same network address"},
		{"the next IPv6 /64 is another network", "2001:db8:1:2::5", service.SanctionInput{}, "2001:db8:1:3::5", "Ann", other, "news", 0,
			"approved"},
		{"the same name in disguise", "198.51.100.7", service.SanctionInput{}, "203.0.113.9", "B0b  St0ne", other, "news", 0,
			"pending: same name"},
		{"a near-duplicate of their text", "198.51.100.7", service.SanctionInput{}, "203.0.113.9", "Ann",
			"Everyone who writes for this RAG should be so ashamed of what they publish every day", "news", 0, "pending: text"},
		{"nothing in common", "198.51.100.7", service.SanctionInput{}, "203.0.113.9", "Ann", other, "news", 0, "approved"},
		{"a site ban binds on its site only", "198.51.100.7", service.SanctionInput{}, "198.51.100.7", "Ann", other, "sport", 0, "approved"},
		{"a global ban binds on every site", "198.51.100.7", service.SanctionInput{Action: service.SanctionBan}, "198.51.100.7", "Ann", other, "sport", 0,
			"pending: same network address"},
		{"an address is bound for 30 days at most", "198.51.100.7", service.SanctionInput{}, "198.51.100.7", "Ann", other, "news", 31 * 24 * time.Hour,
			"approved"},
		{"a name for the ban's length", "198.51.100.7", service.SanctionInput{}, "203.0.113.9", "Bob Stone", other, "news", 31 * 24 * time.Hour,
			"pending: same name"},
		{"a suspension binds until it ends", "198.51.100.7", service.SanctionInput{SiteID: "news", Action: service.SanctionSuspend, Duration: 48 * time.Hour},
			"198.51.100.7", "Ann", other, "news", 49 * time.Hour, "approved"},
		{"a suspension binds while it lasts", "198.51.100.7", service.SanctionInput{SiteID: "news", Action: service.SanctionSuspend, Duration: 48 * time.Hour},
			"198.51.100.7", "Ann", other, "news", 47 * time.Hour, "pending: same network address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.policy(func(p *moderation.Policy) { p.PreNewMinApproved = 0 })
			if tc.site == "sport" {
				if _, err := w.svc.SetPolicy(w.ctx, admin, "sport", func() moderation.Policy {
					p := moderation.DefaultPolicy()
					p.PreNewMinApproved, p.FloodPerMinute, p.FloodPerMinuteIP, p.FloodDuplicateWindow = 0, 0, 0, 0
					return p
				}()); err != nil {
					t.Fatal(err)
				}
			}
			bob := w.banned(tc.bannedIP, bobsText, tc.ban)
			// The banned reader, cookie kept, is refused as before.
			if _, err := w.post(&bob, "I am back"); parley.ErrorCode(err) != parley.EForbidden {
				t.Fatalf("banned reader's own post: %v, want EForbidden", err)
			}
			w.now = w.now.Add(tc.later)
			evader := service.Actor{IP: tc.ip} // no cookie: a new reader
			res, err := w.svc.Post(w.ctx, evader, service.PostInput{SiteID: tc.site, URL: "https://" + tc.site + ".example.com/a", Text: tc.text, Name: tc.author})
			if err != nil {
				t.Fatalf("new reader's post: %v", err)
			}
			c := res.Comment
			got := c.Status
			var reason *parley.Reason
			for i, r := range c.Reasons {
				if r.Rule == moderation.RuleBanEvasion {
					reason = &c.Reasons[i]
				}
			}
			want, detail, _ := strings.Cut(tc.want, ": ")
			if got != want {
				t.Fatalf("status %s (%s), want %s", got, rules(c), want)
			}
			if detail == "" {
				if reason != nil {
					t.Errorf("reason %q on a reader unlike the banned one", reason.Message)
				}
				return
			}
			if reason == nil {
				t.Fatalf("held by %s, want %s", rules(c), moderation.RuleBanEvasion)
			}
			if reason.UserID != bob.User.ID || !strings.Contains(reason.Message, `banned reader "Bob Stone"`) || !strings.Contains(reason.Message, detail) {
				t.Errorf("reason %+v, want one naming Bob Stone (%s) with %q", reason, bob.User.ID, detail)
			}
			// The reader hears they are new here, nothing of a ban.
			if strings.Contains(strings.ToLower(res.Message), "ban") || !strings.Contains(res.Message, "new readers") {
				t.Errorf("author's message %q", res.Message)
			}
			// The reason is stored with the comment, link included.
			stored, err := w.db.Comment(w.ctx, c.ID)
			if err != nil || len(stored.Reasons) == 0 || stored.Reasons[len(stored.Reasons)-1].UserID != bob.User.ID {
				t.Errorf("stored reasons %+v, %v", stored.Reasons, err)
			}
		})
	}
}

func TestBanEvasionSparesKnownReadersAndEndsWithTheBan(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) { p.PreNewMinApproved = 0 })
	// A household: Carol has been commenting from the same address.
	carol := service.Actor{IP: "198.51.100.7"}
	w.mustPost(&carol, "A regular's first comment")
	bob := w.banned("198.51.100.7", bobsText, service.SanctionInput{})
	if c := w.mustPost(&carol, "Carol again, from home"); c.Status != parley.StatusApproved {
		t.Errorf("a reader with approved comments from the address: %s (%s), want approved", c.Status, rules(c))
	}
	// The unit of work: audit entry with what the ban bound, and the
	// event that has every instance forget the site's marks.
	entries, err := w.db.Actions(w.ctx, store.ActionQuery{UserID: bob.User.ID})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %v, %v", entries, err)
	}
	var after struct {
		Bound map[string]int `json:"bound"`
	}
	if err := json.Unmarshal(entries[0].After, &after); err != nil || after.Bound["address"] != 1 || after.Bound["name"] != 1 || after.Bound["text"] != 1 {
		t.Errorf("audit entry after %s (%v), want one address, name and text bound", entries[0].After, err)
	}
	if evs := w.delivered.of(parley.EventBansChanged); len(evs) != 1 || evs[0].SiteID != "news" {
		t.Errorf("site.bans events %+v, want one for news", evs)
	}
	// A moderator lets Bob back: the marks end with the ban.
	if _, err := w.svc.Sanction(w.ctx, admin, bob.User.ID, service.SanctionInput{SiteID: "news", Action: service.SanctionLift}); err != nil {
		t.Fatal(err)
	}
	dave := service.Actor{IP: "198.51.100.7"}
	if c := w.mustPost(&dave, "A new reader once the ban is lifted"); c.Status != parley.StatusApproved {
		t.Errorf("after the lift: %s (%s), want approved", c.Status, rules(c))
	}
	if evs := w.delivered.of(parley.EventBansChanged); len(evs) != 2 {
		t.Errorf("site.bans events %+v, want a second one for the lift", evs)
	}
}

func TestBanBindsTheEmail(t *testing.T) {
	w := newWorld(t)
	w.policy(func(p *moderation.Policy) { p.PreNewMinApproved = 0 })
	bob := service.Actor{IP: "198.51.100.7"}
	res, err := w.svc.Post(w.ctx, bob, service.PostInput{SiteID: "news", URL: article, Text: "hello there", Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	u := res.NewUser
	u.Email = "Bob@Example.com"
	if err := w.db.UpdateUser(w.ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Sanction(w.ctx, admin, u.ID, service.SanctionInput{SiteID: "news", Action: service.SanctionBan}); err != nil {
		t.Fatal(err)
	}
	// A second account with the same address, signed in from elsewhere.
	again := &parley.User{ID: "bob-again", Name: "Robert", Email: "bob@example.com ", Role: parley.RoleReader, Created: w.now}
	if err := w.db.CreateUser(w.ctx, again); err != nil {
		t.Fatal(err)
	}
	a := service.Actor{IP: "203.0.113.50", User: again}
	if _, err := w.post(&a, "Nothing to see here at all, friends"); parley.ErrorCode(err) != parley.EForbidden || !strings.Contains(err.Error(), "banned") {
		t.Errorf("post by the same e-mail address: %v, want EForbidden, banned", err)
	}
}

func TestTextSignatureNearDuplicates(t *testing.T) {
	base := "Everyone who writes for this rag should be ashamed of what they publish every single day"
	for _, tc := range []struct {
		text string
		near bool
	}{
		{base, true},
		{"EVERYONE who writes for this rag should be ashamed of what they publish, every single day!!", true},
		{"Everyone who writes for this r4g should be ashamed of what they publish every single day", true},
		{"Everyone who writes for this rag should be so ashamed of what they publish every day", true},
		{"Lovely weather for the match this weekend, I hope the trains run on time", false},
		{"Everyone should read this article, it is the best thing published this year", false},
		{"too short", false},
	} {
		got := service.NearDuplicate(base, tc.text)
		if got != tc.near {
			t.Errorf("NearDuplicate(%q) = %v, want %v", tc.text, got, tc.near)
		}
	}
}
