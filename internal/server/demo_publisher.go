package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// The demo publisher. A news site running Parley signs its signed-in
// readers' tokens in its own backend (docs/sso.md); the demo has no news
// site behind it, so this handler plays that backend at /demo/sso-token,
// only with --demo. It is not part of Parley's API: it stands outside it
// exactly as a publisher's server would, reading the demo site's secret
// and signing with it.

// demoReaders are the two accounts of the demo's pretend news site.
var demoReaders = map[string]struct {
	sub, name string
	roles     []string
}{
	"reader": {"daily-example-reader-1", "Sam Reader", []string{"subscriber"}},
	"staff":  {"daily-example-staff-1", "Miriam Osei", []string{"staff"}},
}

// ensureDemoSSO gives the demo site an SSO secret when it has none (on
// creation, and for data directories from before SSO).
func ensureDemoSSO(ctx context.Context, svc *service.Service) error {
	admin := service.Actor{Admin: true}
	cfg, err := svc.SiteSSO(ctx, admin, DemoSite)
	if err != nil || cfg.Enabled() {
		return err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	_, err = svc.SetSiteSSO(ctx, admin, DemoSite, service.SSOSettings{Secret: []byte(hex.EncodeToString(secret))})
	return err
}

// demoPublisher serves POST /demo/sso-token {"as": "reader"|"staff"}:
// {"token", "name"}, a token for the demo site valid five minutes.
func demoPublisher(svc *service.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			As string `json:"as"`
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&in) != nil {
			demoError(w, http.StatusBadRequest, `send {"as": "reader"} or {"as": "staff"} as application/json`)
			return
		}
		acct, ok := demoReaders[in.As]
		if !ok {
			demoError(w, http.StatusBadRequest, fmt.Sprintf("no demo account %q: reader or staff", in.As))
			return
		}
		cfg, err := svc.SiteSSO(r.Context(), service.Actor{Admin: true}, DemoSite)
		if err != nil || len(cfg.Secret) == 0 {
			demoError(w, http.StatusServiceUnavailable, "the demo site has no SSO secret")
			return
		}
		now := svc.Now()
		jti := make([]byte, 16)
		rand.Read(jti)
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": acct.sub, "name": acct.name, "roles": acct.roles, "aud": DemoSite,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": hex.EncodeToString(jti),
		}).SignedString(cfg.Secret)
		if err != nil {
			demoError(w, http.StatusInternalServerError, "signing failed")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]string{"token": tok, "name": acct.name})
	}
}

func demoError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": parley.EInvalid, "message": msg}})
}
