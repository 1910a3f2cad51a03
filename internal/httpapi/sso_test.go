package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

const ssoSecret = "a-publisher-secret-of-at-least-32-bytes!"

// claims are a publisher's token claims, relative to the env's clock.
func (e *env) claims(site, sub, name string, roles ...string) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": sub, "name": name, "aud": site,
		"iat": e.now.Unix(), "exp": e.now.Add(5 * time.Minute).Unix(),
		"jti": fmt.Sprintf("%s-%d", sub, time.Now().UnixNano()),
	}
	if len(roles) > 0 {
		c["roles"] = roles
	}
	return c
}

func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noneToken is an unsigned token (alg none), as an attacker writes one.
func noneToken(t testing.TB, c jwt.MapClaims) string {
	return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", c)
}

// jwksServer publishes an Ed25519 key on loopback and counts its fetches.
func jwksServer(t testing.TB, kid string, pub ed25519.PublicKey) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=600")
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA",
			"x": base64.RawURLEncoding.EncodeToString(pub),
		}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func (e *env) setSSO(site string, in service.SSOSettings) {
	e.t.Helper()
	if _, err := e.svc.SetSiteSSO(context.Background(), service.Actor{Admin: true}, site, in); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) addSite(id string) {
	e.t.Helper()
	if err := e.svc.CreateSite(context.Background(), &parley.Site{ID: id, Name: "Site " + id, Origins: []string{"https://" + id + ".example.com"}}); err != nil {
		e.t.Fatal(err)
	}
}

// signIn exchanges a token and returns the response.
func (r *reader) signIn(site, token string) resp {
	return r.do("POST", "/api/v1/auth/sso", map[string]any{"site": site, "token": token})
}

func errReason(t testing.TB, r resp) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	reason, _ := e["reason"].(string)
	return reason
}

// TestSSOTokens is the table of issue 11: each token gets the expected
// status and reason, on a site with an HS256 secret and on one whose
// EdDSA key is served by a JWKS.
func TestSSOTokens(t *testing.T) {
	e := newEnv(t, envOpts{outboundAllow: "127.0.0.1"})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})

	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	_, otherEd, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks, hits := jwksServer(t, "k1", edPub)
	e.addSite("jwks")
	url := jwks.URL + "/.well-known/jwks.json"
	e.setSSO("jwks", service.SSOSettings{JWKSURL: &url})

	type signer func(c jwt.MapClaims) string
	kinds := []struct {
		site      string
		good      signer // the site's own key
		wrongKey  signer // same algorithm, another key
		confusion signer // the other family of algorithms
	}{
		{"news",
			func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", c) },
			func(c jwt.MapClaims) string {
				return sign(t, jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes!!"), "", c)
			},
			func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodRS256, rsaKey, "", c) },
		},
		{"jwks",
			func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodEdDSA, edKey, "k1", c) },
			func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodEdDSA, otherEd, "k1", c) },
			// Key confusion: HS256 with the site's public key as the secret.
			func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(edPub), "k1", c) },
		},
	}
	for _, k := range kinds {
		t.Run(k.site, func(t *testing.T) {
			replayed := k.good(e.claims(k.site, "replay", "Rita"))
			cases := []struct {
				name   string
				token  string
				status int
				reason string
			}{
				{"valid", k.good(e.claims(k.site, "u1", "Ursula")), 200, ""},
				{"alg none", noneToken(t, e.claims(k.site, "u1", "Ursula")), 401, "alg_not_allowed"},
				{"key confusion", k.confusion(e.claims(k.site, "u1", "Ursula")), 401, "alg_not_allowed"},
				{"wrong key", k.wrongKey(e.claims(k.site, "u1", "Ursula")), 401, "bad_signature"},
				{"expired", k.good(with(e.claims(k.site, "u1", "Ursula"), "iat", e.now.Add(-time.Hour).Unix(), "exp", e.now.Add(-time.Minute).Unix())), 401, "token_expired"},
				{"not yet valid", k.good(with(e.claims(k.site, "u1", "Ursula"), "nbf", e.now.Add(10*time.Minute).Unix(), "exp", e.now.Add(20*time.Minute).Unix())), 401, "token_not_yet_valid"},
				{"issued in the future", k.good(with(e.claims(k.site, "u1", "Ursula"), "iat", e.now.Add(10*time.Minute).Unix())), 401, "token_not_yet_valid"},
				{"another site's audience", k.good(e.claims("other", "u1", "Ursula")), 401, "wrong_audience"},
				{"no jti", k.good(with(e.claims(k.site, "u1", "Ursula"), "jti", nil)), 401, "missing_claim"},
				{"no exp", k.good(with(e.claims(k.site, "u1", "Ursula"), "exp", nil)), 401, "missing_claim"},
				{"lives too long", k.good(with(e.claims(k.site, "u1", "Ursula"), "exp", e.now.Add(48*time.Hour).Unix())), 401, "token_too_long_lived"},
				{"first use", replayed, 200, ""},
				{"replayed jti", replayed, 401, "token_replayed"},
				{"malformed", "not-a.jwt.at-all", 401, "token_malformed"},
				{"garbage claims", k.good(nil)[:20] + ".eyJzdWIiOjF9.c2ln", 401, "token_malformed"},
				{"oversized", k.good(with(e.claims(k.site, "u1", "Ursula"), "pad", strings.Repeat("x", 9<<10))), 401, "token_too_large"},
			}
			for _, c := range cases {
				res := e.reader("").signIn(k.site, c.token)
				if res.status != c.status || errReasonOrEmpty(t, res) != c.reason {
					t.Errorf("%s: got %d %s, want %d reason %q", c.name, res.status, res.body, c.status, c.reason)
				}
				if c.status == 401 && !strings.Contains(string(res.body), `"code":"unauthorized"`) {
					t.Errorf("%s: error code: %s", c.name, res.body)
				}
			}
		})
	}
	// The key set was fetched once and then served from the cache
	// (max-age=600); a token with an unknown kid refetches it once, and a
	// burst of them does not.
	if n := hits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
	e.now = e.now.Add(time.Minute) // past the refetch rate limit, within max-age
	for i := 0; i < 5; i++ {
		res := e.reader("").signIn("jwks", sign(t, jwt.SigningMethodEdDSA, edKey, fmt.Sprintf("rotated-%d", i), e.claims("jwks", "u2", "Ursula")))
		if res.status != 401 || errReason(t, res) != "unknown_key" {
			t.Errorf("unknown kid: got %d %s, want 401 unknown_key", res.status, res.body)
		}
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times after unknown kids, want 2 (one refetch, rate limited)", n)
	}
}

// errReasonOrEmpty is the error reason of an error response, "" for a success.
func errReasonOrEmpty(t testing.TB, r resp) string {
	if r.status < 400 {
		return ""
	}
	return errReason(t, r)
}

// with returns c with the fields set (a nil value removes the field).
func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	if c == nil {
		c = jwt.MapClaims{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// TestSSOJWKSPrivateAddress: a JWKS URL on the server's own network is
// refused by the outbound guard, at dial time, unless the operator allows
// it: the token is refused as unverifiable and the server is never asked.
func TestSSOJWKSPrivateAddress(t *testing.T) {
	e := newEnv(t, envOpts{})
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	jwks, hits := jwksServer(t, "k1", pub)
	for _, u := range []string{jwks.URL + "/jwks.json", "http://169.254.169.254/latest/jwks.json", "http://10.0.0.1/jwks.json"} {
		e.setSSO("news", service.SSOSettings{JWKSURL: &u})
		res := e.reader("").signIn("news", sign(t, jwt.SigningMethodEdDSA, key, "k1", e.claims("news", "u1", "Ursula")))
		if res.status != 503 || errReason(t, res) != "keys_unavailable" {
			t.Errorf("JWKS at %s: got %d %s, want 503 keys_unavailable", u, res.status, res.body)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback JWKS was reached %d times", n)
	}
}

// TestSSOIdentity: the same sub is the same reader from every browser, a
// changed name updates them, a bearer token identifies them on any call,
// and signing out clears the session.
func TestSSOIdentity(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	tok := func(sub, name string, roles ...string) string {
		return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", sub, name, roles...))
	}
	laptop, phone := e.reader(""), e.reader("")
	a := laptop.signIn("news", tok("42", "Sam Reader"))
	if a.status != 200 || !strings.Contains(a.header.Get("Set-Cookie"), "HttpOnly") {
		t.Fatalf("sign in: %d %s (cookie %q)", a.status, a.body, a.header.Get("Set-Cookie"))
	}
	if res := laptop.post("Signed in from the laptop.", map[string]any{"name": ""}); res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	b := phone.signIn("news", tok("42", "Sam R."))
	idA := a.json(t)["reader"].(map[string]any)["id"]
	idB := b.json(t)["reader"].(map[string]any)
	if b.status != 200 || idB["id"] != idA || idB["name"] != "Sam R." {
		t.Fatalf("second device: %s, want reader %v renamed", b.body, idA)
	}
	// A name typed with a comment does not override the publisher's.
	if res := phone.post("And from the phone.", map[string]any{"name": "Someone Else"}); res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	cs := commentsOf(laptop.thread(""))
	if len(cs) != 2 || cs[0]["author"].(map[string]any)["id"] != idA || cs[1]["author"].(map[string]any)["id"] != idA {
		t.Fatalf("both comments by one reader: %v", cs)
	}
	if cs[1]["author"].(map[string]any)["name"] != "Sam R." {
		t.Errorf("the new name on the new comment: %v", cs[1]["author"])
	}

	// A bearer token works on any call without a cookie, and is not spent.
	bearer := tok("42", "Sam R.")
	api := e.reader("")
	for i := 0; i < 2; i++ {
		res := api.do("GET", "/api/v1/me?site=news&url="+escape(articleURL), nil, "Authorization", "Bearer "+bearer)
		if res.status != 200 {
			t.Fatalf("bearer /me #%d: %d %s", i, res.status, res.body)
		}
	}
	res := api.do("GET", "/api/v1/me?site=news&url="+escape(articleURL), nil, "Authorization", "Bearer "+bearer+"x")
	if res.status != 401 || errReason(t, res) != "bad_signature" {
		t.Errorf("forged bearer: %d %s", res.status, res.body)
	}

	// Signing out clears the cookie: the next post is a guest's.
	if res := laptop.do("POST", "/api/v1/auth/logout", map[string]any{}); res.status != 204 || !strings.Contains(res.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %v", res.status, res.header)
	}
	res = laptop.post("As a guest now.", map[string]any{"name": "Guest"})
	if res.status != 201 || res.json(t)["comment"].(map[string]any)["author"].(map[string]any)["id"] == idA {
		t.Fatalf("post after logout: %d %s", res.status, res.body)
	}

	// SSO only: guests may not post, signed-in readers may.
	only := true
	e.setSSO("news", service.SSOSettings{Only: &only})
	if res := e.reader("Guest").post("A guest on an SSO-only site.", nil); res.status != 403 || errReason(t, res) != "sso_required" {
		t.Errorf("guest on SSO-only site: %d %s", res.status, res.body)
	}
	if res := phone.post("Still signed in.", map[string]any{"name": ""}); res.status != 201 {
		t.Errorf("SSO reader on SSO-only site: %d %s", res.status, res.body)
	}
}

// TestStaffBadgesAndReservedNames: staff (from the token's roles or made
// by an admin) and moderators carry a badge in the thread JSON, and nobody
// else can take their names, the site's name or "admin", in any disguise.
func TestStaffBadgesAndReservedNames(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	editor := e.reader("")
	tok := sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", "ed-1", "Jane Editor", "staff", "subscriber"))
	if res := editor.signIn("news", tok); res.status != 200 || res.json(t)["reader"].(map[string]any)["badge"] != "staff" {
		t.Fatalf("staff sign in: %d %s", res.status, res.body)
	}
	res := editor.post("A word from the newsroom.", map[string]any{"name": ""})
	if res.status != 201 || res.json(t)["comment"].(map[string]any)["author"].(map[string]any)["badge"] != "staff" {
		t.Fatalf("staff post: %d %s", res.status, res.body)
	}
	ann := e.reader("Ann")
	if res := ann.post("A reader's reply.", nil); res.status != 201 {
		t.Fatalf("reader post: %d %s", res.status, res.body)
	}
	cs := commentsOf(ann.thread(""))
	if b := cs[0]["author"].(map[string]any)["badge"]; b != "staff" {
		t.Errorf("staff comment's badge in the thread: %v", cs[0]["author"])
	}
	if _, ok := cs[1]["author"].(map[string]any)["badge"]; ok {
		t.Errorf("a reader's comment has a badge: %v", cs[1]["author"])
	}

	// A moderator's name is reserved too.
	if _, err := e.svc.AddStaff(context.Background(), service.StaffInput{Role: parley.RoleModerator, SiteID: "news", Name: "Mo Okafor", Email: "mo@example.com", Password: "a long password 123"}); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Minute) // past the badge holders' cache
	for _, name := range []string{"Mo Okafor", "m0 0kafor", "МО ОКАFOR", "Jane Editor", "jane editor", "Jаne Editor" /* Cyrillic а */, "Jane  Ed1tor", "J.a.n.e Editor", "Admin", "ADMlN", "Moderator", "News", "Ｎｅｗｓ"} {
		res := e.reader(name).post("Trying a name.", nil)
		if res.status != 400 || errReason(t, res) != "name_reserved" || !strings.Contains(string(res.body), "reserved") {
			t.Errorf("name %q: got %d %s, want 400 name_reserved", name, res.status, res.body)
		}
	}
	for _, name := range []string{"Ad\u200bmin", "\u202eAdmin"} { // invisible and bidi controls are refused outright
		if res := e.reader(name).post("Trying a name.", nil); res.status != 400 {
			t.Errorf("name %q: got %d %s, want 400", name, res.status, res.body)
		}
	}
	if res := e.reader("Jane Edwards").post("A name of my own.", nil); res.status != 201 {
		t.Errorf("an ordinary name: %d %s", res.status, res.body)
	}

	// An admin makes Ann staff: her comments get the badge and her name
	// is reserved; the admin API says so.
	annID := cs[1]["author"].(map[string]any)["id"].(string)
	res = e.reader("").do("PUT", "/api/v1/admin/users/"+annID+"/role", map[string]any{"role": "staff"}, "Authorization", "Bearer "+adminToken)
	if res.status != 200 || !strings.Contains(string(res.body), `"badge":"staff"`) {
		t.Fatalf("set role: %d %s", res.status, res.body)
	}
	e.now = e.now.Add(time.Minute) // past the badge holders' cache
	cs = commentsOf(e.reader("").thread(""))
	if b := cs[1]["author"].(map[string]any)["badge"]; b != "staff" {
		t.Errorf("Ann's badge after the admin's change: %v", cs[1]["author"])
	}
	if res := e.reader("ann").post("Pretending.", nil); res.status != 400 || errReason(t, res) != "name_reserved" {
		t.Errorf("Ann's name after she became staff: %d %s", res.status, res.body)
	}
}

// TestSSOAdminAPI: the secret is write-only and a moderator may not set it.
func TestSSOAdminAPI(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.reader("")
	auth := []string{"Authorization", "Bearer " + adminToken}
	res := admin.do("PATCH", "/api/v1/admin/sites/news/sso", map[string]any{"secret": ssoSecret, "only": true}, auth...)
	if res.status != 200 || strings.Contains(string(res.body), ssoSecret) || !strings.Contains(string(res.body), `"secret_set":true`) {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	res = admin.do("GET", "/api/v1/admin/sites/news/sso", nil, auth...)
	if res.status != 200 || strings.Contains(string(res.body), ssoSecret) || !strings.Contains(string(res.body), `"only":true`) {
		t.Fatalf("get: %d %s", res.status, res.body)
	}
	res = admin.do("PATCH", "/api/v1/admin/sites/news/sso", map[string]any{"secret": "short"}, auth...)
	if res.status != 400 {
		t.Errorf("short secret: %d %s", res.status, res.body)
	}
	res = admin.do("PATCH", "/api/v1/admin/sites/news/sso", map[string]any{"jwks_url": "ftp://x"}, auth...)
	if res.status != 400 {
		t.Errorf("bad JWKS URL: %d %s", res.status, res.body)
	}
}

// TestSSOReplayAcrossInstances: a token exchanged on one instance is
// refused as replayed on another sharing its database, on both backends;
// and the site's new secret reaches the other instance through the log.
func TestSSOReplayAcrossInstances(t *testing.T) {
	for _, be := range instanceBackends {
		t.Run(be.name, func(t *testing.T) {
			dbA, dbB := be.open(t)
			a, b := newEnvOn(t, dbA, envOpts{}), newEnvOn(t, dbB, envOpts{})
			// B reads the site's (empty) SSO settings first, so it has them cached.
			tok := sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", a.claims("news", "u1", "Una"))
			if res := b.reader("").signIn("news", tok); res.status != 401 || errReason(t, res) != "sso_disabled" {
				t.Fatalf("before SSO is set: %d %s", res.status, res.body)
			}
			a.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
			var res resp
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				// A token each try: an accepted one is spent.
				tok = sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", a.claims("news", "u1", "Una"))
				if res = b.reader("").signIn("news", tok); res.status == 200 {
					break
				}
			}
			if res.status != 200 {
				t.Fatalf("B never learnt the new secret: %d %s", res.status, res.body)
			}
			if res := a.reader("").signIn("news", tok); res.status != 401 || errReason(t, res) != "token_replayed" {
				t.Errorf("the token B exchanged, on A: %d %s, want 401 token_replayed", res.status, res.body)
			}
		})
	}
}

// TestSSONameTooLong (issue 13, promise 2: nothing is silently cut): a
// publisher's token whose name is over 64 characters (counted after the
// control and invisible characters are removed) is refused with a 400 JSON
// error (reason name_too_long) giving the name's length and the limit, at
// the exchange and as a bearer token, and no reader is made; 64
// characters, multi-byte ones too, are kept whole.
func TestSSONameTooLong(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	tok := func(sub, name string) string {
		return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", sub, name))
	}
	for _, tc := range []struct {
		name, sub, want string
	}{
		{strings.Repeat("é", 64), "fits", strings.Repeat("é", 64)},
		{strings.Repeat("𝒜", 63) + "z", "fits-4-byte", strings.Repeat("𝒜", 63) + "z"},
		{strings.Repeat("n", 64) + "\u200b\u202e\x07", "fits-cleaned", strings.Repeat("n", 64)},
		{strings.Repeat("é", 65), "too-long", ""},
		{strings.Repeat("𝒜", 64) + "z", "too-long-4-byte", ""},
	} {
		r := e.reader("")
		res := r.signIn("news", tok(tc.sub, tc.name))
		if tc.want != "" {
			if res.status != 200 {
				t.Errorf("%s: %d %s, want 200", tc.sub, res.status, res.body)
			} else if got := res.json(t)["reader"].(map[string]any)["name"]; got != tc.want {
				t.Errorf("%s: signed in as %q, want %q", tc.sub, got, tc.want)
			}
			continue
		}
		if res.status != 400 || errCode(t, res) != "invalid" || errReason(t, res) != "name_too_long" {
			t.Errorf("%s: %d %s, want 400 invalid name_too_long", tc.sub, res.status, res.body)
		} else if msg := res.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "65 characters") || !strings.Contains(msg, "limit is 64") {
			t.Errorf("%s: the error %q does not give the name's length and the limit", tc.sub, msg)
		}
		// As a bearer token on an API call: the same refusal.
		bearerRes := e.reader("").do("POST", "/api/v1/comments",
			map[string]any{"site": "news", "url": articleURL, "text": "by bearer " + tc.sub}, "Authorization", "Bearer "+tok(tc.sub, tc.name))
		if bearerRes.status != 400 || errReason(t, bearerRes) != "name_too_long" {
			t.Errorf("%s as a bearer token: %d %s, want 400 name_too_long", tc.sub, bearerRes.status, bearerRes.body)
		}
		if _, err := e.db.User(context.Background(), service.SSOUserID("news", tc.sub)); parley.ErrorCode(err) != parley.ENotFound {
			t.Errorf("%s: a reader was made (%v)", tc.sub, err)
		}
	}
}
