package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/internal/toxicity"
)

func runModelT(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runModelCmd(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestModelScoreText(t *testing.T) {
	out, _, err := runModelT(t, "", "score", "You are a stupid idiot.")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"toxicity", "hold at", "identity_attack", "spam", "evidence", `"idiot"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestModelScoreJSONLines(t *testing.T) {
	in := `{"text":"Thanks for the thoughtful article."}
{"text":"You are a worthless idiot."}

{"text":"> You are a worthless idiot.\n\nPlease keep it civil.","quote":"You are a worthless idiot."}
`
	out, _, err := runModelT(t, in, "score")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d output lines, want 3 (one per input object, blank lines skipped):\n%s", len(lines), out)
	}
	var got []scoreJSON
	for _, l := range lines {
		var s scoreJSON
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, s)
	}
	if got[0].Hold || !got[1].Hold || got[2].Hold {
		t.Errorf("holds = %v %v %v, want false true false (in order; the quoted insult is not the author's)", got[0].Hold, got[1].Hold, got[2].Hold)
	}
	if len(got[1].Evidence) == 0 || got[1].Evidence[0].Text == "" {
		t.Errorf("no evidence with text for the insult: %+v", got[1])
	}

	if _, _, err := runModelT(t, "{not json}\n", "score"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad JSON: err = %v, want a line number", err)
	}
}

func TestModelUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no subcommand", nil},
		{"unknown subcommand", []string{"frobnicate"}},
		{"train without --out", []string{"train"}},
		{"tune without --site", []string{"tune", "--decisions", "x.jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runModelT(t, "", tt.args...)
			if err != errUsage {
				t.Errorf("err = %v, want errUsage", err)
			}
			if stderr == "" {
				t.Error("nothing on stderr")
			}
		})
	}
	if _, _, err := runModelT(t, "", "train", "--out", filepath.Join(t.TempDir(), "m"), "--include-restricted", "secret"); err == nil {
		t.Error("an unknown restricted source was accepted")
	}
}

func TestModelTune(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, `{"text":"The columnist is a paid shill for the oil lobby, number %d.","decision":"reject"}`+"\n", i)
		fmt.Fprintf(&b, `{"text":"I enjoyed this article about the transit plan, point %d.","rejected":false}`+"\n", i)
		fmt.Fprintf(&b, `{"text":"You are a worthless idiot, number %d.","rejected":true}`+"\n", i)
	}
	decisions := filepath.Join(dir, "decisions.jsonl")
	if err := os.WriteFile(decisions, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "news.site")
	stdout, _, err := runModelT(t, "", "tune", "--site", "news", "--decisions", decisions, "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tuned on 180 decisions (120 rejected)", "site precision", "suggested hold threshold"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	base, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	site, err := toxicity.LoadSite(f, base)
	if err != nil {
		t.Fatal(err)
	}
	shill := "The columnist is a paid shill for the oil lobby, number 999."
	if b, s := base.ScoreFast(shill, "").Toxicity, site.ScoreFast(shill, "").Toxicity; s <= b {
		t.Errorf("site model scores the site's rejected kind %.3f, base %.3f: want higher", s, b)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"text":"x","decision":"maybe"}`+"\n"), 0o600)
	if _, _, err := runModelT(t, "", "tune", "--site", "news", "--decisions", bad, "--out", out); err == nil {
		t.Error("an unknown decision was accepted")
	}
}

// TestModelTrainEval trains a model with the real command on the shared
// data and evaluates it, without the leave-one-source-out models.
func TestModelTrainEval(t *testing.T) {
	if testing.Short() || modelRace {
		t.Skip("trains a model: skipped with -short and under the race detector")
	}
	data := testenv.SharedData(t, "toxicity")
	out := filepath.Join(t.TempDir(), "m.ptox")
	stdout, _, err := runModelT(t, "", "train", "--data", data, "--out", out, "--seed", "3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wrote " + out, "civil_sentences", "hold threshold 0.80", "held-out Civil Comments toxic posts caught"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, err = runModelT(t, "", "eval", "--model", out, "--data", data, "--loso=false", "--bias")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"globe_and_mail", "news check at 0.80", "span F1", "functional suite", "BPSN AUC", "Jigsaw bias final score", "comments/s", "trained by: parley model train"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("eval output lacks %q:\n%s", want, stdout)
		}
	}
}
