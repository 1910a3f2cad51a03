package moderation

import (
	"math"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/textnorm"
)

// wordScorer is a small but real Scorer: a logistic model over a fixed table
// of word weights, with the words that raised the score as evidence. It reads
// only the author's text, never the quote.
type wordScorer map[string]float64

func (w wordScorer) Score(text, quote string) parley.Scores {
	tx := textnorm.Normalize(text)
	logit := -4.0
	var ev []parley.Evidence
	for _, tk := range textnorm.Tokens(tx) {
		if wt, ok := w[tk.Text]; ok {
			logit += wt
			a, b := tx.Orig(tk.Start, tk.End)
			ev = append(ev, parley.Evidence{Span: textnorm.RuneSpan(text, a, b), Feature: tk.Text, Weight: wt})
		}
	}
	return parley.Scores{Toxicity: 1 / (1 + math.Exp(-logit)), Evidence: ev}
}

// testScorer scores "stupid" at 0.5, "stupid pathetic" at 0.88 and
// "stupid pathetic scum" at 0.98.
var testScorer = wordScorer{"stupid": 4, "pathetic": 2, "scum": 1.9, "lovely": -2}

func compile(t *testing.T, p Policy) *Pipeline {
	t.Helper()
	pl, err := Compile(p)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return pl
}

// rules lists the rule ids of a decision's reasons.
func rules(d parley.Decision) string {
	var r []string
	for _, x := range d.Reasons {
		r = append(r, x.Rule)
	}
	return strings.Join(r, ",")
}

func TestDecide(t *testing.T) {
	base := DefaultPolicy()
	base.BannedWords = []string{"idiot", "towel head"}
	base.SuspectWords = []string{"stupid", "kill"}
	with := func(f func(*Policy)) Policy {
		p := base
		f(&p)
		return p
	}
	newbie := Trust{}
	regular := Trust{Approved: 12, Recent: []string{"approved", "approved", "approved"}}
	tests := []struct {
		name       string
		policy     Policy
		in         Input
		wantStatus string
		wantRules  string
	}{
		{"post mode publishes", base, Input{Text: "Good article.", Trust: newbie}, parley.StatusApproved, ""},
		{"pre_all holds", with(func(p *Policy) { p.Mode = ModePreAll }),
			Input{Text: "Good article.", Trust: regular}, parley.StatusPending, RulePremodAll},
		{"pre_all lets staff through", with(func(p *Policy) { p.Mode = ModePreAll }),
			Input{Text: "Good article.", Staff: true}, parley.StatusApproved, ""},
		{"pre_new holds a new reader", with(func(p *Policy) { p.Mode = ModePreNew; p.PreNewMinApproved = 3 }),
			Input{Text: "Good article.", Trust: Trust{Approved: 2}}, parley.StatusPending, RulePremodNew},
		{"pre_new publishes a reader with N approved", with(func(p *Policy) { p.Mode = ModePreNew; p.PreNewMinApproved = 3 }),
			Input{Text: "Good article.", Trust: Trust{Approved: 3}}, parley.StatusApproved, ""},
		{"banned word rejects", base, Input{Text: "You 1d10t."}, parley.StatusRejected, RuleBannedWord},
		{"banned phrase rejects", base, Input{Text: "go home, towel-heads"}, parley.StatusRejected, RuleBannedWord},
		{"suspect word holds", base, Input{Text: "A stupid plan."}, parley.StatusPending, RuleSuspectWord},
		{"staff bypass the suspect hold", base, Input{Text: "A stupid plan.", Staff: true}, parley.StatusApproved, ""},
		{"staff do not bypass a rejection", base, Input{Text: "You idiot.", Staff: true}, parley.StatusRejected, RuleBannedWord},
		{"rejection beats a hold, both listed", base, Input{Text: "stupid idiot"}, parley.StatusRejected, RuleBannedWord + "," + RuleSuspectWord},
		{"quote is not the author's words", base, Input{Text: "Please don't.", Quote: "you idiot"}, parley.StatusApproved, ""},
		{"max length rejects", with(func(p *Policy) { p.MaxLength = 10 }),
			Input{Text: "ééééééééééé"}, parley.StatusRejected, RuleMaxLength},
		{"max length counts code points", with(func(p *Policy) { p.MaxLength = 10 }),
			Input{Text: "éééééééééé"}, parley.StatusApproved, ""},
		{"max length 0 is no limit", with(func(p *Policy) { p.MaxLength = 0 }),
			Input{Text: strings.Repeat("a ", 100000)}, parley.StatusApproved, ""},
		{"links over the limit hold", with(func(p *Policy) { p.MaxLinks = 1 }),
			Input{Text: "see https://a.example/x and www.b.example"}, parley.StatusPending, RuleMaxLinks},
		{"links at the limit pass", with(func(p *Policy) { p.MaxLinks = 2 }),
			Input{Text: "see https://a.example/x and www.b.example"}, parley.StatusApproved, ""},
		{"max links 0 holds any link", with(func(p *Policy) { p.MaxLinks = 0 }),
			Input{Text: "[report](HTTP://news.example/r)"}, parley.StatusPending, RuleMaxLinks},
		{"max links -1 is no limit", with(func(p *Policy) { p.MaxLinks = -1 }),
			Input{Text: strings.Repeat("http://x.example ", 50)}, parley.StatusApproved, ""},
		{"words that look like links are not", with(func(p *Policy) { p.MaxLinks = 0 }),
			Input{Text: "the www is old; ratio 3:1; xhttp://no"}, parley.StatusApproved, ""},
		{"flood per reader rejects", base, Input{Text: "hi", RecentByAuthor: 5}, parley.StatusRejected, RuleFlood},
		{"flood below the limit passes", base, Input{Text: "hi", RecentByAuthor: 4}, parley.StatusApproved, ""},
		{"flood per IP rejects", base, Input{Text: "hi", RecentByIP: 20}, parley.StatusRejected, RuleFlood},
		{"flood off", with(func(p *Policy) { p.FloodPerMinute, p.FloodPerMinuteIP = 0, 0 }),
			Input{Text: "hi", RecentByAuthor: 500, RecentByIP: 500}, parley.StatusApproved, ""},
		{"duplicate rejects", base, Input{Text: "hi", Duplicate: true}, parley.StatusRejected, RuleDuplicate},
		{"duplicate window 0 is off", with(func(p *Policy) { p.FloodDuplicateWindow = 0 }),
			Input{Text: "hi", Duplicate: true}, parley.StatusApproved, ""},
		{"trust holds a mostly rejected reader", base,
			Input{Text: "hi", Trust: Trust{Recent: []string{"rejected", "approved", "rejected", "rejected"}}}, parley.StatusPending, RuleTrust},
		{"trust holds a reader a moderator premoderated", base,
			Input{Text: "hi", Trust: Trust{Approved: 50, Premoderated: true}}, parley.StatusPending, RuleTrust},
		{"trust off", with(func(p *Policy) { p.AutoPremod.Window = 0 }),
			Input{Text: "hi", Trust: Trust{Recent: []string{"rejected", "rejected", "rejected"}}}, parley.StatusApproved, ""},
		{"toxicity below hold passes", base, Input{Text: "stupendous", Scorer: testScorer}, parley.StatusApproved, ""},
		{"toxicity holds", with(func(p *Policy) { p.SuspectWords = nil }),
			Input{Text: "a stupid, pathetic plan", Scorer: testScorer}, parley.StatusPending, RuleToxicity},
		{"toxicity rejects above the second threshold", with(func(p *Policy) { p.SuspectWords = nil; p.ToxicityReject = 0.95 }),
			Input{Text: "stupid pathetic scum", Scorer: testScorer}, parley.StatusRejected, RuleToxicity},
		{"toxicity reject off holds instead", with(func(p *Policy) { p.SuspectWords = nil; p.ToxicityReject = 0 }),
			Input{Text: "stupid pathetic scum", Scorer: testScorer}, parley.StatusPending, RuleToxicity},
		{"toxicity hold off", with(func(p *Policy) { p.SuspectWords = nil; p.ToxicityHold = 0 }),
			Input{Text: "stupid pathetic scum", Scorer: testScorer}, parley.StatusApproved, ""},
		{"toxicity ignores the quote", with(func(p *Policy) { p.SuspectWords = nil }),
			Input{Text: "That is unfair.", Quote: "stupid pathetic scum", Scorer: testScorer}, parley.StatusApproved, ""},
		{"staff bypass a toxicity hold", with(func(p *Policy) { p.SuspectWords = nil }),
			Input{Text: "a stupid, pathetic plan", Scorer: testScorer, Staff: true}, parley.StatusApproved, ""},
		{"every rule listed", with(func(p *Policy) { p.Mode = ModePreAll; p.MaxLinks = 0; p.ToxicityReject = 0.95 }),
			Input{Text: "stupid pathetic scum idiot www.x.example", RecentByAuthor: 9, Duplicate: true, Scorer: testScorer,
				Trust: Trust{Premoderated: true}},
			parley.StatusRejected, "flood,duplicate,banned_word,suspect_word,max_links,premod_all,trust,toxicity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := compile(t, tt.policy).Decide(tt.in)
			if d.Status != tt.wantStatus || rules(d) != tt.wantRules {
				t.Errorf("Decide(%q) = %s [%s] %+v, want %s [%s]", tt.in.Text, d.Status, rules(d), d.Reasons, tt.wantStatus, tt.wantRules)
			}
			for _, r := range d.Reasons {
				if r.Message == "" {
					t.Errorf("reason %s has no message", r.Rule)
				}
			}
		})
	}
}

func TestDecideEvidence(t *testing.T) {
	p := DefaultPolicy()
	p.BannedWords = []string{"idiot"}
	p.SuspectWords = []string{"stupid"}
	p.MaxLinks = 0
	p.ToxicityHold = 0.4
	text := "😀 Ｓｔｕｐｉｄ take, you 1d10t — see https://x.example/a?b=1."
	d := compile(t, p).Decide(Input{Text: text, Scorer: testScorer})
	want := map[string][]string{
		RuleBannedWord:  {"1d10t"},
		RuleSuspectWord: {"Ｓｔｕｐｉｄ"},
		RuleMaxLinks:    {"https://x.example/a?b=1."},
		RuleToxicity:    {"Ｓｔｕｐｉｄ"},
	}
	for _, r := range d.Reasons {
		var got []string
		for _, s := range r.Spans {
			got = append(got, spanText(text, s))
		}
		if strings.Join(got, "|") != strings.Join(want[r.Rule], "|") {
			t.Errorf("%s spans cover %q, want %q", r.Rule, got, want[r.Rule])
		}
		delete(want, r.Rule)
	}
	if len(want) > 0 {
		t.Errorf("rules that did not fire: %v (got %s)", want, rules(d))
	}
	if d.Toxicity < 0.4 {
		t.Errorf("Toxicity = %v, want the scorer's score", d.Toxicity)
	}
	if got, want := d.Reasons[0].Message, `banned word "idiot"`; got != want {
		t.Errorf("banned message = %q, want %q", got, want)
	}
}

func TestNeedsPremoderation(t *testing.T) {
	tests := []struct {
		name  string
		trust Trust
		want  bool
	}{
		{"new reader", Trust{}, false},
		{"good record", Trust{Approved: 10, Recent: []string{"approved", "approved", "approved", "approved", "approved"}}, false},
		{"three of the last five rejected", Trust{Recent: []string{"rejected", "approved", "rejected", "approved", "rejected"}}, true},
		{"two of the last five rejected", Trust{Recent: []string{"rejected", "approved", "approved", "approved", "rejected", "rejected"}}, false},
		{"pending and deleted skipped", Trust{Recent: []string{"pending", "rejected", "deleted", "rejected", "rejected"}}, true},
		{"old rejections out of the window", Trust{Recent: []string{"approved", "approved", "approved", "rejected", "rejected", "rejected", "rejected"}}, false},
		{"moderator's flag", Trust{Approved: 100, Premoderated: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsPremoderation(tt.trust); got != tt.want {
				t.Errorf("NeedsPremoderation(%+v) = %v, want %v", tt.trust, got, tt.want)
			}
		})
	}
}

// TestTrustRelease follows a reader into pre-moderation and out again, as the
// service would record their comments' outcomes.
func TestTrustRelease(t *testing.T) {
	pl := compile(t, DefaultPolicy())
	var trust Trust
	record := func(status string) {
		trust.Recent = append([]string{status}, trust.Recent...)
		if len(trust.Recent) > MaxRecent {
			trust.Recent = trust.Recent[:MaxRecent]
		}
		if status == parley.StatusApproved {
			trust.Approved++
		} else {
			trust.Rejected++
		}
	}
	status := func() string { return pl.Decide(Input{Text: "hello", Trust: trust}).Status }
	for i, s := range []string{"approved", "rejected", "rejected"} {
		record(s)
		if got := status(); got != parley.StatusApproved {
			t.Fatalf("after %d outcomes: status %s, want approved", i+1, got)
		}
	}
	record("rejected")
	if got := status(); got != parley.StatusPending {
		t.Fatalf("after 3 rejections in 4: status %s, want pending", got)
	}
	approvals := 0
	for status() == parley.StatusPending {
		record("approved")
		approvals++
		if approvals > 5 {
			t.Fatal("never released")
		}
	}
	// Recent is R R R A; each approval pushes the window of five along, and
	// the third leaves two rejections in it.
	if approvals != 3 {
		t.Errorf("released after %d approvals, want 3", approvals)
	}
}

func TestAuthorMessage(t *testing.T) {
	tests := []struct {
		name     string
		d        parley.Decision
		contains string
		reveals  string // must not appear
	}{
		{"approved", parley.Decision{Status: parley.StatusApproved}, "", ""},
		{"held", parley.Decision{Status: parley.StatusPending, Reasons: []parley.Reason{{Rule: RuleSuspectWord, Message: `suspect word "kill"`}}},
			"held for review by a moderator", "kill"},
		{"banned", parley.Decision{Status: parley.StatusRejected, Reasons: []parley.Reason{{Rule: RuleBannedWord, Message: `banned word "idiot"`}}},
			"comment policy", "idiot"},
		{"toxic", parley.Decision{Status: parley.StatusRejected, Reasons: []parley.Reason{{Rule: RuleToxicity, Message: "toxicity 0.97"}}},
			"comment policy", "0.97"},
		{"too long", parley.Decision{Status: parley.StatusRejected, Reasons: []parley.Reason{{Rule: RuleMaxLength}}}, "longer than", ""},
		{"flood", parley.Decision{Status: parley.StatusRejected, Reasons: []parley.Reason{{Rule: RuleFlood}}}, "Please wait a minute", "edit"},
		{"new reader", parley.Decision{Status: parley.StatusPending, Reasons: []parley.Reason{{Rule: RulePremodNew}}}, "reviews comments from new readers", "edit"},
		{"every comment", parley.Decision{Status: parley.StatusPending, Reasons: []parley.Reason{{Rule: RulePremodAll}}}, "reviews every comment", "edit"},
		{"reader on probation", parley.Decision{Status: parley.StatusPending, Reasons: []parley.Reason{{Rule: RuleTrust, Message: "3 of this reader's last 5 moderated comments were rejected"}}},
			"reviews your comments", "rejected"},
		{"new reader and a suspect word", parley.Decision{Status: parley.StatusPending, Reasons: []parley.Reason{{Rule: RuleSuspectWord, Message: `suspect word "kill"`}, {Rule: RulePremodNew}}},
			"held for review by a moderator", "kill"},
		{"duplicate", parley.Decision{Status: parley.StatusRejected, Reasons: []parley.Reason{{Rule: RuleDuplicate}}}, "already posted", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AuthorMessage(tt.d)
			if tt.contains == "" && got != "" || !strings.Contains(got, tt.contains) {
				t.Errorf("AuthorMessage = %q, want it to contain %q", got, tt.contains)
			}
			if tt.reveals != "" && strings.Contains(got, tt.reveals) {
				t.Errorf("AuthorMessage = %q reveals %q", got, tt.reveals)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	for rule, want := range map[string]bool{
		RuleMaxLength: true, RuleFlood: true, RuleDuplicate: true, RuleBannedWord: true,
		RuleSuspectWord: false, RuleMaxLinks: false, RulePremodAll: false, RulePremodNew: false,
		RuleTrust: false, RuleToxicity: false, RuleReports: false,
	} {
		if got := Rejects(rule); got != want {
			t.Errorf("Rejects(%q) = %v, want %v", rule, got, want)
		}
	}
}

// TestDecideConcurrent runs one pipeline from many goroutines, as the
// service does; run with -race.
func TestDecideConcurrent(t *testing.T) {
	p := DefaultPolicy()
	p.BannedWords = testBanned
	p.SuspectWords = []string{"stupid"}
	pl := compile(t, p)
	done := make(chan string)
	for g := range 8 {
		go func() {
			var bad string
			for i := range 200 {
				text := evasions[(g*31+i)%len(evasions)].text
				if d := pl.Decide(Input{Text: text}); d.Status != parley.StatusRejected {
					bad = text
				}
				if d := pl.Decide(Input{Text: innocents[(g*17+i)%len(innocents)]}); d.Status != parley.StatusApproved {
					bad = innocents[(g*17+i)%len(innocents)]
				}
			}
			done <- bad
		}()
	}
	for range 8 {
		if bad := <-done; bad != "" {
			t.Errorf("wrong decision under concurrency for %q", bad)
		}
	}
}

// TestToxicityReasonExplains: a moderator reads the score against the
// threshold, the words that weighed most, and whether the model reads the
// comment as an attack on a group.
func TestToxicityReasonExplains(t *testing.T) {
	p := DefaultPolicy()
	p.SuspectWords = nil
	pl := compile(t, p)
	d := pl.Decide(Input{Text: "a stupid, pathetic plan", Scorer: testScorer})
	if len(d.Reasons) != 1 {
		t.Fatalf("reasons = %+v", d.Reasons)
	}
	msg := d.Reasons[0].Message
	for _, want := range []string{"toxicity 0.88", "threshold", `strongest words: "stupid", "pathetic"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "group") {
		t.Errorf("message %q: no identity-attack score, no group hint", msg)
	}
	group := scorerFunc(func(text, quote string) parley.Scores {
		s := testScorer.Score(text, quote)
		s.IdentityAttack = 0.9
		return s
	})
	d = pl.Decide(Input{Text: "a stupid, pathetic plan", Scorer: group})
	if msg := d.Reasons[0].Message; !strings.Contains(msg, "attack on a group (0.90)") {
		t.Errorf("message %q lacks the group hint", msg)
	}
}

type scorerFunc func(text, quote string) parley.Scores

func (f scorerFunc) Score(text, quote string) parley.Scores { return f(text, quote) }
