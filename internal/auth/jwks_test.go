package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/outbound"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// fixedLen pads a big-endian coordinate to n bytes, as JWK requires.
func fixedLen(x *big.Int, n int) []byte {
	b := x.Bytes()
	return append(make([]byte, n-len(b)), b...)
}

type keyServer struct {
	srv    *httptest.Server
	hits   atomic.Int32
	status atomic.Int32 // 0: 200
	keys   atomic.Value // []map[string]string
	cc     string
}

func newKeyServer(t *testing.T, cc string, keys []map[string]string) *keyServer {
	ks := &keyServer{cc: cc}
	ks.keys.Store(keys)
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.hits.Add(1)
		if s := ks.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		w.Header().Set("Cache-Control", ks.cc)
		json.NewEncoder(w).Encode(map[string]any{"keys": ks.keys.Load()})
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func loopbackJWKS(t *testing.T, now *time.Time) *JWKS {
	allow, err := outbound.ParseAllowlist("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	j := NewJWKS(outbound.NewClient(outbound.Options{Allow: allow}))
	j.Now = func() time.Time { return *now }
	j.Logger = nil
	return j
}

// TestJWKSAlgorithms verifies tokens of each JWKS algorithm against a key
// set holding one key of each type, and refuses a token whose alg does not
// fit the key its kid names.
func TestJWKSAlgorithms(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ks := newKeyServer(t, "max-age=300", []map[string]string{
		{"kty": "RSA", "kid": "rsa", "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())},
		{"kty": "EC", "kid": "ec", "crv": "P-256", "x": b64(fixedLen(ecKey.X, 32)), "y": b64(fixedLen(ecKey.Y, 32))},
		{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(edPub)},
		{"kty": "oct", "kid": "sym", "k": b64([]byte("a symmetric key has no place in a JWKS"))},
		{"kty": "RSA", "kid": "enc", "use": "enc", "n": b64(rsaKey.N.Bytes()), "e": "AQAB"},
	})
	now := time.Now()
	v := &SSOVerifier{Keys: loopbackJWKS(t, &now), Now: func() time.Time { return now }}
	site := parley.SiteSSO{SiteID: "news", JWKSURL: ks.srv.URL}
	claims := jwt.MapClaims{"sub": "u", "aud": "news", "exp": now.Add(time.Minute).Unix(), "jti": "j"}
	sign := func(m jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, c := range []struct {
		name, token, reason string
	}{
		{"RS256", sign(jwt.SigningMethodRS256, "rsa", rsaKey), ""},
		{"ES256", sign(jwt.SigningMethodES256, "ec", ecKey), ""},
		{"EdDSA", sign(jwt.SigningMethodEdDSA, "ed", edKey), ""},
		{"RS256 naming the EC key", sign(jwt.SigningMethodRS256, "ec", rsaKey), ReasonAlgNotAllowed},
		{"ES384", sign(jwt.SigningMethodES384, "ec", mustEC384(t)), ReasonAlgNotAllowed},
		{"HS256 with the RSA modulus as secret", sign(jwt.SigningMethodHS256, "rsa", rsaKey.N.Bytes()), ReasonAlgNotAllowed},
		{"the skipped encryption key", sign(jwt.SigningMethodRS256, "enc", rsaKey), ReasonUnknownKey},
	} {
		_, err := v.Verify(context.Background(), site, c.token)
		if got := parley.ErrorReason(err); got != c.reason || (c.reason == "" && err != nil) {
			t.Errorf("%s: got %v (reason %q), want reason %q", c.name, err, got, c.reason)
		}
	}
	if n := ks.hits.Load(); n != 1 {
		t.Errorf("fetched %d times, want 1 (cached; the unknown kid's refetch is rate limited)", n)
	}
}

func mustEC384(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestJWKSCaching: max-age within bounds, refetch when it runs out, keys
// kept while the endpoint fails, and a private address refused at dial.
func TestJWKSCaching(t *testing.T) {
	j := NewJWKS(http.DefaultClient)
	for _, c := range []struct {
		cc   string
		want time.Duration
	}{
		{"", 10 * time.Minute},
		{"public, max-age=600", 10 * time.Minute},
		{"max-age=5", time.Minute},
		{"max-age=999999999", 24 * time.Hour},
		{"no-store", time.Minute},
		{"max-age=bogus", 10 * time.Minute},
	} {
		if got := j.ttl(c.cc); got != c.want {
			t.Errorf("ttl(%q) = %s, want %s", c.cc, got, c.want)
		}
	}

	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ks := newKeyServer(t, "max-age=120", []map[string]string{{"kty": "OKP", "kid": "k1", "crv": "Ed25519", "x": b64(edPub)}})
	now := time.Now()
	c := loopbackJWKS(t, &now)
	ctx := context.Background()
	get := func() error { _, err := c.Key(ctx, ks.srv.URL, "k1", "EdDSA"); return err }
	if err := get(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(100 * time.Second)
	get()
	if n := ks.hits.Load(); n != 1 {
		t.Errorf("within max-age: %d fetches, want 1", n)
	}
	now = now.Add(30 * time.Second) // past max-age=120
	ks.status.Store(http.StatusInternalServerError)
	if err := get(); err != nil {
		t.Errorf("stale keys while the endpoint fails: %v", err)
	}
	if n := ks.hits.Load(); n != 2 {
		t.Errorf("after max-age: %d fetches, want 2", n)
	}

	// No allow-list: loopback is refused at dial time, nothing is fetched.
	blocked := NewJWKS(outbound.NewClient(outbound.Options{}))
	blocked.Logger = nil
	before := ks.hits.Load()
	_, err := blocked.Key(ctx, ks.srv.URL, "k1", "EdDSA")
	var be *outbound.BlockedError
	if parley.ErrorCode(err) != parley.EUnavailable || parley.ErrorReason(err) != ReasonKeysUnavailable || !errors.As(err, &be) {
		t.Errorf("JWKS on loopback without an allow-list: %v, want EUnavailable keys_unavailable from an outbound.BlockedError", err)
	}
	if ks.hits.Load() != before {
		t.Errorf("the refused JWKS was fetched")
	}
}
