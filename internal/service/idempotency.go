package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Idempotency keys.
//
// A reader's write (post, edit, vote, report) may carry a key the client
// chose (Actor.IdempotencyKey, the Idempotency-Key header). The write's
// unit of work stores the key with the write's outcome, so both commit or
// neither does. A request with a key already stored is not written again:
// it is answered with the stored outcome, also when the first request's
// answer was lost because Parley was killed between the commit and the
// response. Two requests racing with one key both try to store it; the
// store lets one unit commit and fails the other, whose write is rolled
// back with it, and which then answers with the winner's outcome.
//
// A key is scoped to the site and the caller (the reader's id, or no one
// for a reader without a session yet, whose retry carries no cookie): the
// store keeps a SHA-256 of the three, so one reader's key never answers
// another reader's request. A write that created the reader stores its key
// in their scope too, for a retry that did get the new session cookie
// although the answer was lost. The same key with a different request is
// refused (EConflict), not answered. Keys are pruned IdempotencyTTL after
// their write.

// Bounds of an idempotency key: a random UUID (36 characters) fits, and a
// short key, which another client could guess, is refused.
const (
	MinIdempotencyKey = 16
	MaxIdempotencyKey = 128
)

// CheckIdempotencyKey returns EInvalid unless key is "" (none) or
// MinIdempotencyKey to MaxIdempotencyKey visible ASCII characters.
func CheckIdempotencyKey(key string) error {
	if key == "" {
		return nil
	}
	if len(key) < MinIdempotencyKey || len(key) > MaxIdempotencyKey {
		return parley.Errorf(parley.EInvalid, "Idempotency-Key must be %d to %d characters (a random UUID is best), not %d",
			MinIdempotencyKey, MaxIdempotencyKey, len(key))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return parley.Errorf(parley.EInvalid, "Idempotency-Key may hold visible ASCII characters only")
		}
	}
	return nil
}

// errKeyRaced is what a unit returns when another unit stored its key first.
var errKeyRaced = errors.New("idempotency key stored by a concurrent request")

// keyed is a write's idempotency key, resolved for its site and caller.
// A nil *keyed is a write without a key: its methods do nothing.
type keyed struct {
	rec  store.Idempotency // the caller's scope
	site string
	key  string
}

// scope is the stored key of the client's key in a caller's scope.
func (k *keyed) scope(caller string) []byte {
	h := sha256.Sum256([]byte("parley idempotency\x00" + k.site + "\x00" + caller + "\x00" + k.key))
	return h[:]
}

// idempotency resolves the actor's key for a write of op on siteID with
// input. It returns the stored outcome when the key was used before
// (prior != nil), or the key for the write's unit to save (nil when the
// actor sent none). EConflict when the key was used for another request.
func (s *Service) idempotency(ctx context.Context, a Actor, siteID, op string, input any) (k *keyed, prior []byte, err error) {
	if a.IdempotencyKey == "" {
		return nil, nil, nil
	}
	if err := CheckIdempotencyKey(a.IdempotencyKey); err != nil {
		return nil, nil, err
	}
	caller := ""
	switch {
	case a.User != nil:
		caller = "user:" + a.User.ID
	case a.Admin:
		caller = "admin"
	}
	in, err := json.Marshal(input)
	if err != nil {
		return nil, nil, fmt.Errorf("encode request: %w", err)
	}
	req := sha256.Sum256(append([]byte(op+"\x00"), in...))
	k = &keyed{site: siteID, key: a.IdempotencyKey}
	k.rec = store.Idempotency{Key: k.scope(caller), SiteID: siteID, Request: req[:]}
	prior, err = k.stored(ctx, s)
	if parley.ErrorCode(err) == parley.ENotFound {
		s.pruneIdempotency(ctx)
		return k, nil, nil
	}
	return nil, prior, err
}

// stored returns the outcome stored under the key: ENotFound when none is,
// EConflict when it is another request's.
func (k *keyed) stored(ctx context.Context, s *Service) ([]byte, error) {
	got, err := s.store.Idempotency(ctx, k.rec.Key)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got.Request, k.rec.Request) {
		return nil, parley.Errorf(parley.EConflict, "This Idempotency-Key was used for another request; send a new key with each new request.")
	}
	return got.Result, nil
}

// save stores the key with result, the write's outcome, in the write's
// unit, and in the scope of created, the reader the write created (nil for
// none); a key stored first by a concurrent request fails the unit with
// errKeyRaced.
func (k *keyed) save(tx store.Tx, result any, created *parley.User) error {
	if k == nil {
		return nil
	}
	b, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("encode outcome: %w", err)
	}
	recs := []store.Idempotency{k.rec}
	if created != nil {
		also := k.rec
		also.Key = k.scope("user:" + created.ID)
		recs = append(recs, also)
	}
	for _, rec := range recs {
		rec.Result = b
		if err := tx.SaveIdempotency(&rec); parley.ErrorCode(err) == parley.EConflict {
			return errKeyRaced
		} else if err != nil {
			return err
		}
	}
	return nil
}

// raced returns the winner's outcome when err says a concurrent request
// stored the key first, nil otherwise. The winner has committed by then
// (a unit fails only after its batch has), so the outcome can be read.
func (k *keyed) raced(ctx context.Context, s *Service, err error) ([]byte, error) {
	if k == nil || !errors.Is(err, errKeyRaced) {
		return nil, nil
	}
	prior, err := k.stored(ctx, s)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, parley.Errorf(parley.EConflict, "A request with this Idempotency-Key is in progress; try again.")
	}
	return prior, err
}

// once runs write, a write of op whose unit saves its outcome under the
// actor's key (k.save; k is nil without a key), at most once per key: a
// retry of the same request gets the stored outcome, replayed true, and
// writes nothing; the same key with another request is EConflict.
func once[T any](ctx context.Context, s *Service, a Actor, siteID, op string, input any, write func(k *keyed) (*T, error)) (out *T, replayed bool, err error) {
	k, prior, err := s.idempotency(ctx, a, siteID, op, input)
	if err != nil {
		return nil, false, err
	}
	if prior == nil {
		res, werr := write(k)
		if prior, err = k.raced(ctx, s, werr); err != nil {
			return nil, false, err
		} else if prior == nil {
			return res, false, werr
		}
	}
	out = new(T)
	if err := replay(prior, out); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// replay decodes a stored outcome into out.
func replay(prior []byte, out any) error {
	if err := json.Unmarshal(prior, out); err != nil {
		return fmt.Errorf("decode stored outcome: %w", err)
	}
	return nil
}

// pruneIdempotency deletes the keys older than store.IdempotencyTTL, at
// most once a minute per instance.
func (s *Service) pruneIdempotency(ctx context.Context) {
	now := s.now()
	last := s.idemPruned.Load()
	if now.Unix()-last < 60 || !s.idemPruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	if _, err := s.store.PruneIdempotency(ctx, now.Add(-store.IdempotencyTTL)); err != nil {
		s.Logger.Warn("prune idempotency keys", "error", err.Error())
	}
}

// voteOutcome and reportOutcome are the stored outcomes of a vote and a report.
type voteOutcome struct {
	Score   int
	NewUser *parley.User
}

type reportOutcome struct {
	NewUser *parley.User
}
