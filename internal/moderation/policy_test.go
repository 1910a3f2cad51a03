package moderation

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

func TestDefaultPolicyValid(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("DefaultPolicy().Validate() = %v", err)
	}
	if _, err := Compile(DefaultPolicy()); err != nil {
		t.Fatalf("Compile(DefaultPolicy()) = %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Policy)
		want   string // in the message
	}{
		{"unknown mode", func(p *Policy) { p.Mode = "strict" }, `mode must be "post", "pre_new" or "pre_all", not "strict"`},
		{"pre_new without N", func(p *Policy) { p.Mode = ModePreNew; p.PreNewMinApproved = 0 }, "pre_new_min_approved must be at least 1"},
		{"negative N", func(p *Policy) { p.PreNewMinApproved = -1 }, "pre_new_min_approved"},
		{"negative max length", func(p *Policy) { p.MaxLength = -5 }, "max_length"},
		{"huge max length", func(p *Policy) { p.MaxLength = 1 << 30 }, "max_length"},
		{"max links below -1", func(p *Policy) { p.MaxLinks = -2 }, "max_links"},
		{"negative report threshold", func(p *Policy) { p.ReportThreshold = -1 }, "report_threshold"},
		{"negative flood", func(p *Policy) { p.FloodPerMinute = -1 }, "flood_per_minute"},
		{"negative flood per IP", func(p *Policy) { p.FloodPerMinuteIP = -1 }, "flood_per_minute_ip"},
		{"duplicate window over a week", func(p *Policy) { p.FloodDuplicateWindow = 8 * 86400 }, "flood_duplicate_window"},
		{"hold above 1", func(p *Policy) { p.ToxicityHold = 1.5 }, "toxicity_hold"},
		{"reject negative", func(p *Policy) { p.ToxicityReject = -0.1 }, "toxicity_reject"},
		{"reject below hold", func(p *Policy) { p.ToxicityHold, p.ToxicityReject = 0.8, 0.7 }, "must not be below toxicity_hold"},
		{"trust window too long", func(p *Policy) { p.AutoPremod.Window = 50 }, "auto_premod.window"},
		{"trust threshold above window", func(p *Policy) { p.AutoPremod = AutoPremod{Window: 3, Rejected: 4} }, "auto_premod.rejected"},
		{"too many banned words", func(p *Policy) { p.BannedWords = make([]string, MaxListEntries+1) }, "banned_words has"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			tt.change(&p)
			err := p.Validate()
			if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(parley.ErrorMessage(err), tt.want) {
				t.Errorf("Validate() = %v, want EInvalid containing %q", err, tt.want)
			}
			if _, cerr := Compile(p); parley.ErrorCode(cerr) != parley.EInvalid {
				t.Errorf("Compile() = %v, want EInvalid", cerr)
			}
		})
	}
}

func TestCompileWordErrors(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  string
	}{
		{"mask inside", "f*ck", "'*' may only end an entry"},
		{"exact and prefix", "=fuck*", "not both"},
		{"no letters", "!!!", "no letters or digits"},
		{"too long", strings.Repeat("a", MaxEntryBytes+1), "longer than"},
		{"too many words", "one two three four five six seven", "more than 6 words"},
		{"prefix phrase", "towel head*", "single word"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.SuspectWords = []string{"fine", tt.entry}
			_, err := Compile(p)
			msg := parley.ErrorMessage(err)
			if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "suspect_words: ") {
				t.Errorf("Compile with entry %q = %v, want EInvalid naming suspect_words and containing %q", tt.entry, err, tt.want)
			}
		})
	}
	p := DefaultPolicy()
	p.BannedWords = []string{"", "  ", "ok"}
	if _, err := Compile(p); err != nil {
		t.Errorf("blank entries: Compile = %v, want them skipped", err)
	}
}

func TestPolicyJSON(t *testing.T) {
	body := `{"mode":"pre_new","pre_new_min_approved":2,"banned_words":["idiot"],"suspect_words":["kill"],
		"max_links":1,"report_threshold":4,"toxicity_hold":0.7,"toxicity_reject":0.95}`
	p := DefaultPolicy()
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	want := DefaultPolicy()
	want.Mode, want.PreNewMinApproved = ModePreNew, 2
	want.BannedWords, want.SuspectWords = []string{"idiot"}, []string{"kill"}
	want.MaxLinks, want.ReportThreshold = 1, 4
	want.ToxicityHold, want.ToxicityReject = 0.7, 0.95
	if !reflect.DeepEqual(p, want) {
		t.Errorf("decoded over the defaults:\n got %+v\nwant %+v", p, want)
	}
	out, err := json.Marshal(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mode":"post"`, `"banned_words":[]`, `"suspect_words":[]`, `"max_links":3`,
		`"report_threshold":3`, `"toxicity_hold":0.8`, `"toxicity_reject":0`, `"flood_duplicate_window":3600`,
		`"auto_premod":{"window":5,"rejected":3}`} {
		if !strings.Contains(string(out), key) {
			t.Errorf("DefaultPolicy JSON %s lacks %s", out, key)
		}
	}
}

func TestPolicyOverride(t *testing.T) {
	var o PolicyOverride
	if !o.IsZero() {
		t.Error("zero override: IsZero() = false")
	}
	if got := o.Apply(DefaultPolicy()); !reflect.DeepEqual(got, DefaultPolicy()) {
		t.Errorf("zero override changed the policy: %+v", got)
	}
	if err := json.Unmarshal([]byte(`{"mode":"pre_all","max_links":0,"closed":true,"suspect_words":["election"]}`), &o); err != nil {
		t.Fatal(err)
	}
	site := DefaultPolicy()
	site.BannedWords = []string{"idiot"}
	got := o.Apply(site)
	want := site
	want.Mode, want.MaxLinks, want.Closed, want.SuspectWords = ModePreAll, 0, true, []string{"election"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Apply:\n got %+v\nwant %+v", got, want)
	}
	if o.IsZero() {
		t.Error("IsZero() = true for an override that sets fields")
	}
	out, _ := json.Marshal(o)
	if strings.Contains(string(out), "toxicity") {
		t.Errorf("override JSON %s carries fields it does not set", out)
	}
}

func TestInflect(t *testing.T) {
	tests := []struct {
		word     string
		includes []string
		excludes []string
	}{
		{"fuck", []string{"fucks", "fucked", "fucker", "fuckers", "fucking", "fuckin"}, []string{"fuckes"}},
		{"idiot", []string{"idiots"}, nil},
		{"bitch", []string{"bitches", "bitching", "bitchin"}, nil},
		{"rape", []string{"rapes", "raped", "raping", "raper"}, []string{"rapeing"}},
		{"bully", []string{"bullies", "bullied", "bullying"}, nil},
		{"shit", []string{"shits", "shitty", "shitting", "shitter"}, nil},
		{"spic", []string{"spics"}, []string{"spices", "spiced", "spicing", "spicy"}},
		{"cum", []string{"cums"}, []string{"cumin", "cumming"}},
		{"butt", []string{"butts"}, []string{"butter"}},
		{"twit", []string{"twits"}, []string{"twitter"}},
		{"ass", []string{"asses"}, []string{"asss", "assin"}},
		{"ok", []string{"ok"}, []string{"oks"}},
	}
	for _, tt := range tests {
		got := inflect(tt.word)
		for _, w := range tt.includes {
			if !contains(got, w) {
				t.Errorf("inflect(%q) = %q, lacks %q", tt.word, got, w)
			}
		}
		for _, w := range tt.excludes {
			if contains(got, w) {
				t.Errorf("inflect(%q) = %q, has %q", tt.word, got, w)
			}
		}
	}
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

func TestWordListExactAndPrefix(t *testing.T) {
	l, err := NewWordList([]string{"=cock", "fuck*", "kill"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 3 {
		t.Errorf("Len() = %d, want 3", l.Len())
	}
	tests := []struct {
		text string
		want string
	}{
		{"cock", "=cock"},
		{"cocks", ""},
		{"fuckwit", "fuck*"},
		{"fuck", "fuck*"},
		{"fuuuckwit", "fuck*"},
		{"killers", "kill"},
		{"ki11ed", "kill"},
		{"skill", ""},
	}
	for _, tt := range tests {
		ms := l.Match(tt.text)
		var got string
		if len(ms) > 0 {
			got = ms[0].Word
		}
		if got != tt.want {
			t.Errorf("Match(%q) = %+v, want %q", tt.text, ms, tt.want)
		}
	}
}

func TestWordListOneMatchPerWord(t *testing.T) {
	l, err := NewWordList([]string{"ass"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"a*s*s", "ass", "@$$", "a.s.s"} {
		if ms := l.Match(text); len(ms) != 1 {
			t.Errorf("Match(%q) = %+v, want one match", text, ms)
		}
	}
}
