package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestSiteWebhookCommand adds, lists, tests, logs and removes endpoints with
// `parley site webhook`, and shows its refusals.
func TestSiteWebhookCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(context.Background(), append(args, "--data", dir), strings.NewReader(""), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("site", "add", "--id", "news"); code != 0 {
		t.Fatalf("site add: %d %s", code, out)
	}
	code, out := run("site", "webhook", "add", "--site", "news", "--url", "https://hooks.example.com/a", "--event", "comment.created,report.created")
	secret := regexp.MustCompile(`Signing secret: (whsec_[0-9a-f]{48})`).FindStringSubmatch(out)
	if code != 0 || !strings.Contains(out, "Added webhook 1 of site news: https://hooks.example.com/a (comment.created,report.created, json)") || secret == nil {
		t.Fatalf("webhook add: %d %s", code, out)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"slack, all events", []string{"add", "--site", "news", "--url", "https://hooks.slack.example/T/B", "--format", "slack", "--secret", "0123456789abcdef"}, 0, "(all events, slack)"},
		{"list", []string{"list", "--site", "news"}, 0, "https://hooks.slack.example/T/B"},
		{"a metadata address", []string{"add", "--site", "news", "--url", "http://169.254.169.254/latest"}, 1, "cloud metadata"},
		{"loopback, allowed", []string{"add", "--site", "news", "--url", "http://127.0.0.1:9000/hook", "--outbound-allow", "127.0.0.1"}, 0, "Added webhook 3"},
		{"an unknown event", []string{"add", "--site", "news", "--url", "https://x.example/", "--event", "comment.liked"}, 1, "Unknown webhook event"},
		{"an unknown site", []string{"list", "--site", "nope"}, 1, "not found"},
		{"no site", []string{"list"}, 1, "--site is required"},
		{"test", []string{"test", "--site", "news", "--id", "1"}, 0, "Queued test delivery"},
		{"log", []string{"log", "--site", "news", "--id", "1"}, 0, "webhook.test  pending"},
		{"another site's id", []string{"rm", "--site", "news", "--id", "99"}, 1, "not found"},
		{"rm", []string{"rm", "--site", "news", "--id", "2"}, 0, "Deleted webhook 2"},
		{"rm without id", []string{"rm", "--site", "news"}, 1, "--id is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(append([]string{"site", "webhook"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("site webhook %v: %d\n%s\nwant %d and %q", tc.args, code, out, tc.code, tc.want)
			}
		})
	}
	if _, out := run("site", "webhook", "list", "--site", "news"); strings.Contains(out, "slack.example") || strings.Contains(out, secret[1]) {
		t.Errorf("list after rm shows the removed endpoint or a secret:\n%s", out)
	}
}
