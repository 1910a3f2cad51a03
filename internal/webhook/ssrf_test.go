package webhook_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/webhook"
)

// refused has one address of every class the guarded client refuses, as a
// URL host, with the class its refusal names.
var refused = []struct{ host, class string }{
	{"0.0.0.0", "unspecified"},
	{"127.0.0.1", "loopback"},
	{"[::1]", "loopback"},
	{"10.0.0.1", "private (RFC 1918)"},
	{"172.16.0.1", "private (RFC 1918)"},
	{"192.168.1.1", "private (RFC 1918)"},
	{"100.64.0.1", "carrier-grade NAT"},
	{"169.254.1.1", "link-local"},
	{"[fe80::1]", "link-local"},
	{"[fc00::1]", "unique-local"},
	{"[fd12:3456::1]", "unique-local"},
	{"224.0.0.1", "multicast"},
	{"[ff02::1]", "multicast"},
	{"169.254.169.254", "cloud metadata"},
	{"100.100.100.200", "cloud metadata"},
	{"[fd00:ec2::254]", "cloud metadata"},
	{"[::ffff:127.0.0.1]", "IPv4-mapped loopback"},
	{"[64:ff9b::a9fe:a9fe]", "NAT64 cloud metadata"},
	{"240.0.0.1", "reserved"},
	{"192.0.2.1", "documentation"},
	{"198.18.0.1", "benchmarking"},
}

// TestSSRFRefusals proves that webhooks reach no address of a refused
// class: AddWebhook refuses each as a literal; posts the sender makes to
// each (stored behind the service's back) and through a redirect from an allowed host to a refused
// address are refused by the dialler, logged and failed at once (never
// retried); while an allowed
// endpoint on loopback, the control, is delivered to. (A name resolving to
// a refused address is refused alike: internal/outbound's TestClientRefusals.) TestInNetworkNamespace
// runs it where nothing but loopback exists.
func TestSSRFRefusals(t *testing.T) {
	ctx := t.Context()
	st := newSiteStore(t)

	// The service refuses every literal class when the endpoint is added.
	svc := service.New(st, render.New())
	for _, r := range refused {
		_, err := svc.AddWebhook(ctx, service.Actor{Admin: true}, service.WebhookInput{SiteID: "news", URL: "https://" + r.host + "/hook"})
		if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(parley.ErrorMessage(err), r.class) {
			t.Errorf("AddWebhook(https://%s/hook) = %v, want EInvalid naming %q", r.host, err, r.class)
		}
	}

	var hits, allowedHits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/allowed" {
			allowedHits.Add(1)
		} else {
			hits.Add(1)
		}
	}))
	defer target.Close()
	port := strconv.Itoa(target.Listener.Addr().(*net.TCPAddr).Port)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/redirected", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	rport := strconv.Itoa(redirector.Listener.Addr().(*net.TCPAddr).Port)

	type hook struct {
		url, class string
		wh         *store.Webhook
	}
	var hooks []*hook
	for _, r := range refused {
		p := "80"
		if r.class == "loopback" {
			p = port // where something listens: only the guard stands between
		}
		hooks = append(hooks, &hook{url: "http://" + r.host + ":" + p + "/", class: r.class})
	}
	hooks = append(hooks,
		&hook{url: target.URL + "/", class: "loopback"},                  // the target by address, not allowed
		&hook{url: "http://localhost:" + rport + "/", class: "loopback"}, // allowed host, redirected to 127.0.0.1
		&hook{url: "http://localhost:" + port + "/allowed", class: ""},   // allowed: the control
	)
	var ds []*store.Delivery
	for i, h := range hooks {
		h.wh = &store.Webhook{SiteID: "news", URL: h.url, Secret: testSecret, Format: webhook.FormatJSON}
		if err := st.CreateWebhook(ctx, h.wh); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, &store.Delivery{WebhookID: h.wh.ID, EventID: int64(i + 1), Type: webhook.TypeTest, Body: []byte(`{}`)})
	}
	if _, err := st.Update(ctx, func(tx store.Tx) error { _, err := tx.AddDeliveries(ds...); return err }); err != nil {
		t.Fatal(err)
	}

	allow, _ := outbound.ParseAllowlist("localhost")
	sender := webhook.NewSender(st, outbound.NewClient(outbound.Options{Allow: allow, Timeout: 2 * time.Second}))
	sender.Retry, sender.Timeout, sender.Poll = time.Hour, 2*time.Second, 20*time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sender.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	deadline := time.Now().Add(20 * time.Second)
	for _, h := range hooks {
		for {
			log, err := st.Deliveries(ctx, h.wh.ID, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) == 1 && log[0].Attempts > 0 {
				d := log[0]
				switch {
				case h.class == "" && (d.State != store.DeliveryDelivered || d.LastStatus != 200):
					t.Errorf("%s (allowed): %s, status %d, %q; want delivered", h.url, d.State, d.LastStatus, d.LastError)
				case h.class != "" && (d.State != store.DeliveryFailed || d.LastStatus != 0 || !strings.Contains(d.LastError, h.class)):
					t.Errorf("%s: %s, status %d, error %q; want refused (%s), failed at once (never retried)", h.url, d.State, d.LastStatus, d.LastError, h.class)
				case h.class != "" && !strings.Contains(d.LastError, "outbound: refusing"):
					t.Errorf("%s: error %q, want the guard's refusal", h.url, d.LastError)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no attempt within 20 s", h.url)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback target was reached %d times past the guard", n)
	}
	if n := allowedHits.Load(); n != 1 {
		t.Errorf("the allowed endpoint got %d posts, want 1 (the control)", n)
	}
}

// TestInNetworkNamespace runs TestSSRFRefusals again in a new network
// namespace that has only a loopback interface (unshare -rn), where a
// broken guard could reach nothing beyond this machine. It skips, saying
// so, where user namespaces are not permitted.
func TestInNetworkNamespace(t *testing.T) {
	if os.Getenv("PARLEY_WEBHOOK_NETNS") == "1" {
		t.Skip("already inside the namespace")
	}
	if out, err := exec.Command("unshare", "-rn", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare -rn not permitted here (%v: %s): TestSSRFRefusals ran in the host namespace only", err, strings.TrimSpace(string(out)))
	}
	cmd := exec.Command("unshare", "-rn", "sh", "-c",
		`ip link set lo up 2>/dev/null || true; exec "$0" -test.run '^TestSSRFRefusals$' -test.count=1 -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), "PARLEY_WEBHOOK_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestSSRFRefusals") {
		t.Fatalf("TestSSRFRefusals inside the namespace: %v\n%s", err, out)
	}
}
