package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// JWKS fetches and caches the public keys that sites publish at their JWKS
// URLs. A key set is kept for the max-age its response's Cache-Control gives,
// bounded by MinTTL and MaxTTL (DefaultTTL without one); a token with a kid
// the cached set lacks makes it fetch the set again (the publisher rotated
// its keys), at most once per RefetchEvery per URL, so a stream of tokens
// with made-up kids cannot make Parley hammer the publisher. When a fetch
// fails the keys already cached are used until the fetch succeeds.
//
// Client must be the guarded outbound client (internal/outbound): the URL
// is set by a site owner and must not reach the server's own network.
type JWKS struct {
	Client       *http.Client
	Now          func() time.Time
	MinTTL       time.Duration
	MaxTTL       time.Duration
	DefaultTTL   time.Duration
	RefetchEvery time.Duration
	Logger       *slog.Logger

	mu   sync.Mutex
	sets map[string]*keySet
}

// NewJWKS returns a JWKS cache fetching with client and the default bounds:
// keys kept between 1 minute and 24 hours (10 minutes when the response
// says nothing), refetched for an unknown kid at most every 30 seconds.
func NewJWKS(client *http.Client) *JWKS {
	return &JWKS{
		Client: client, Now: time.Now,
		MinTTL: time.Minute, MaxTTL: 24 * time.Hour, DefaultTTL: 10 * time.Minute,
		RefetchEvery: 30 * time.Second,
		Logger:       slog.Default(),
		sets:         make(map[string]*keySet),
	}
}

// keySet is one URL's keys. mu serialises its fetches: concurrent tokens
// for one site wait for one fetch rather than each starting their own.
type keySet struct {
	mu      sync.Mutex
	keys    map[string]jwk // by kid
	fetched time.Time      // when keys were last fetched successfully
	expires time.Time
	tried   time.Time // last fetch attempt, successful or not
}

// jwk is one usable public key with the algorithm it is declared for ("" for any).
type jwk struct {
	key any
	alg string
}

// Key returns the public key with the kid (any key fitting alg when kid is
// "" and the set has exactly one such key) from the JWKS at url.
// EUnauthorized with ReasonUnknownKey when there is none, EUnavailable with
// ReasonKeysUnavailable when no keys could ever be fetched.
func (j *JWKS) Key(ctx context.Context, url, kid, alg string) (any, error) {
	j.mu.Lock()
	ks, ok := j.sets[url]
	if !ok {
		ks = &keySet{}
		j.sets[url] = ks
	}
	j.mu.Unlock()

	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := j.Now()
	var fetchErr error
	// Failed fetches are rate limited like refetches, so a site whose
	// endpoint is down costs one request per RefetchEvery, not one per token.
	due := ks.tried.IsZero() || now.Sub(ks.tried) >= j.RefetchEvery
	if (ks.keys == nil || !now.Before(ks.expires)) && due {
		fetchErr = j.fetch(ctx, url, ks, now)
	}
	if k, ok := ks.find(kid, alg); ok {
		return k, nil
	}
	// An unknown kid: the publisher may have rotated its keys.
	if ks.keys != nil && fetchErr == nil && now.Sub(ks.tried) >= j.RefetchEvery {
		fetchErr = j.fetch(ctx, url, ks, now)
		if k, ok := ks.find(kid, alg); ok {
			return k, nil
		}
	}
	if ks.keys == nil {
		e := parley.Errorf(parley.EUnavailable, "The site's signing keys could not be fetched; try again later.")
		e.Reason = ReasonKeysUnavailable
		if fetchErr == nil {
			fetchErr = fmt.Errorf("fetched less than %s ago", j.RefetchEvery)
		}
		return nil, fmt.Errorf("jwks %s: %w: %w", url, e, fetchErr)
	}
	return nil, refused(ReasonUnknownKey, "No key of the site's key set has id %q.", kid)
}

// find returns the key for kid and alg.
func (ks *keySet) find(kid, alg string) (any, bool) {
	if kid != "" {
		k, ok := ks.keys[kid]
		if !ok || (k.alg != "" && k.alg != alg) {
			return nil, false
		}
		return k.key, true
	}
	var found any
	n := 0
	for _, k := range ks.keys {
		if (k.alg == "" || k.alg == alg) && keyFits(k.key, alg) {
			found, n = k.key, n+1
		}
	}
	return found, n == 1
}

// fetch replaces the set's keys with the URL's; on failure it keeps them
// and returns the error.
func (j *JWKS) fetch(ctx context.Context, url string, ks *keySet, now time.Time) error {
	ks.tried = now
	keys, ttl, err := j.get(ctx, url)
	if err != nil {
		if j.Logger != nil {
			j.Logger.Warn("jwks fetch failed", "url", url, "error", err.Error())
		}
		if ks.keys != nil {
			// Keep the stale keys a little longer rather than refusing
			// every reader while the publisher's endpoint is down.
			ks.expires = now.Add(j.MinTTL)
		}
		return err
	}
	ks.keys, ks.fetched, ks.expires = keys, now, now.Add(ttl)
	return nil
}

// get fetches and decodes a JWKS document.
func (j *JWKS) get(ctx context.Context, url string) (map[string]jwk, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.Client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("status %s", resp.Status)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, 0, fmt.Errorf("decode: %w", err)
	}
	keys := make(map[string]jwk, len(doc.Keys))
	for i, raw := range doc.Keys {
		kid, k, err := parseJWK(raw)
		if err != nil {
			// One key Parley cannot use (another algorithm, an
			// encryption key) does not spoil the others.
			if j.Logger != nil {
				j.Logger.Info("jwks key skipped", "url", url, "index", i, "error", err.Error())
			}
			continue
		}
		keys[kid] = k
	}
	return keys, j.ttl(resp.Header.Get("Cache-Control")), nil
}

// ttl is the max-age of a Cache-Control header within the bounds.
func (j *JWKS) ttl(cc string) time.Duration {
	ttl := j.DefaultTTL
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				ttl = time.Duration(n) * time.Second
			}
		} else if d == "no-store" || d == "no-cache" {
			ttl = 0
		}
	}
	return min(max(ttl, j.MinTTL), j.MaxTTL)
}

// parseJWK decodes one public signing key of a JWKS (RFC 7517, 7518, 8037):
// RSA (at least 2048 bits), EC on P-256, or OKP Ed25519. It returns the
// key's kid.
func parseJWK(raw []byte) (string, jwk, error) {
	var k struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		Use string `json:"use"`
		Alg string `json:"alg"`
		Crv string `json:"crv"`
		N   string `json:"n"`
		E   string `json:"e"`
		X   string `json:"x"`
		Y   string `json:"y"`
		D   string `json:"d"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", jwk{}, err
	}
	if k.Use != "" && k.Use != "sig" {
		return "", jwk{}, fmt.Errorf("key %q is for %q, not signatures", k.Kid, k.Use)
	}
	if k.D != "" {
		return "", jwk{}, fmt.Errorf("key %q is a private key: publish only public keys", k.Kid)
	}
	b64 := base64.RawURLEncoding.DecodeString
	switch k.Kty {
	case "RSA":
		n, err1 := b64(k.N)
		e, err2 := b64(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return "", jwk{}, fmt.Errorf("key %q: bad RSA modulus or exponent", k.Kid)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 {
			return "", jwk{}, fmt.Errorf("key %q: RSA keys must have at least 2048 bits", k.Kid)
		}
		return k.Kid, jwk{key: pub, alg: k.Alg}, nil
	case "EC":
		if k.Crv != "P-256" {
			return "", jwk{}, fmt.Errorf("key %q: curve %q is not supported (P-256 is)", k.Kid, k.Crv)
		}
		x, err1 := b64(k.X)
		y, err2 := b64(k.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return "", jwk{}, fmt.Errorf("key %q: bad EC point", k.Kid)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", jwk{}, fmt.Errorf("key %q: %w", k.Kid, err)
		}
		return k.Kid, jwk{key: pub, alg: k.Alg}, nil
	case "OKP":
		x, err := b64(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return "", jwk{}, fmt.Errorf("key %q: only Ed25519 OKP keys are supported", k.Kid)
		}
		return k.Kid, jwk{key: ed25519.PublicKey(x), alg: k.Alg}, nil
	}
	return "", jwk{}, fmt.Errorf("key %q: key type %q is not supported", k.Kid, k.Kty)
}
