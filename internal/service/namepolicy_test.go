package service_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/toxicity"
)

// TestDisplayNamesModerated: a display name goes through the site's word
// lists and the toxicity model: refused with the policy point (not the
// words), or the comment held; ordinary names pass.
func TestDisplayNamesModerated(t *testing.T) {
	w := newWorld(t)
	model, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	w.svc.Scorer = model
	w.policy(func(p *moderation.Policy) { p.SuspectWords = []string{"idiot"}; p.BannedWords = []string{"scumbag"} })
	for _, tc := range []struct {
		name string
		want string // "refused: <phrase>", "held: <rule>" or "approved"
	}{
		{"Muslims are vermin", "refused: attacks a group of people"},
		{"Mu$lims are v3rmin", "refused: attacks a group of people"},
		{"Fuck You", "refused: uses language this site does not allow"},
		{"F u c k e r", "refused: uses language this site does not allow"},
		{"Scumbag Steve", "refused: uses language this site does not allow"},
		{"stupid moron", "refused: reads as an insult or abuse"},
		{"Village Idiot", "held: " + moderation.RuleNameWords},
		{"M*slim Hater", "held: " + moderation.RuleNameGroup},
		{"Ass Ange", "held: " + moderation.RuleNameInsult},
		{"Dick Smith", "approved"},
		{"Cockburn", "approved"},
		{"Sexton", "approved"},
		{"Julian Assange", "approved"},
		{"Nguyễn Văn Phúc", "approved"},
		{"محمد علي", "approved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := w.newReader()
			res, err := w.svc.Post(w.ctx, a, service.PostInput{SiteID: "news", URL: article, Text: "A fair point about the timetable", Name: tc.name})
			kind, detail, _ := strings.Cut(tc.want, ": ")
			switch kind {
			case "refused":
				var pe *parley.Error
				if parley.ErrorCode(err) != parley.EInvalid || !errors.As(err, &pe) || pe.Reason != service.ReasonNameRefused {
					t.Fatalf("Post: %v, want EInvalid with reason %s", err, service.ReasonNameRefused)
				}
				msg := parley.ErrorMessage(err)
				if !strings.Contains(msg, detail) {
					t.Errorf("message %q, want the point %q", msg, detail)
				}
				for _, word := range strings.Fields(strings.ToLower(tc.name)) {
					if len(word) > 3 && strings.Contains(strings.ToLower(msg), word) {
						t.Errorf("message %q repeats the name's word %q", msg, word)
					}
				}
			case "held":
				if err != nil {
					t.Fatal(err)
				}
				if res.Comment.Status != parley.StatusPending || !strings.Contains(rules(res.Comment), detail) {
					t.Errorf("comment %s (%s), want held by %s", res.Comment.Status, rules(res.Comment), detail)
				}
				if !strings.Contains(res.Message, "because your display name") {
					t.Errorf("author's message %q", res.Message)
				}
			default:
				if err != nil || res.Comment.Status != parley.StatusApproved {
					t.Fatalf("Post: %v %+v, want approved", err, res)
				}
			}
		})
	}
	// A reader who takes a hateful name later is refused too, and keeps
	// their name.
	bob := w.newReader()
	w.mustPost(&bob, "First comment from Bob")
	_, err = w.svc.Post(w.ctx, bob, service.PostInput{SiteID: "news", URL: article, Text: "Second comment", Name: "Jews are rats"})
	if parley.ErrorCode(err) != parley.EInvalid {
		t.Errorf("rename to a hateful name: %v, want EInvalid", err)
	}
	if u, _ := w.db.User(w.ctx, bob.User.ID); u.Name != "Reader" {
		t.Errorf("name after the refused rename: %q", u.Name)
	}
}
