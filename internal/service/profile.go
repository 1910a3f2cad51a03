package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// A signed-in reader's own settings (issue 11): their display name, their
// picture, and signing out everywhere.

// maxPictureURL bounds a picture URL.
const maxPictureURL = 1024

// cleanPicture returns a picture claim fit to be shown as an avatar: an
// absolute https URL without credentials, at most maxPictureURL bytes;
// "" for anything else (a javascript: or data: URL, plain http, which the
// publisher's https page would block or warn about, a relative one).
func cleanPicture(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxPictureURL || strings.ContainsAny(raw, " \t\r\n\"'<>\\`") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return u.String()
}

// pictures returns the picture of each of the authors that has one.
func (s *Service) pictures(ctx context.Context, authorIDs []string) (map[string]string, error) {
	ids := make([]string, 0, len(authorIDs))
	seen := make(map[string]bool, len(authorIDs))
	for _, id := range authorIDs {
		// Only readers signed in by a publisher or a provider have one.
		if id != "" && !seen[id] && IsSSOReader(id) {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	users, err := s.store.Users(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, u := range users {
		if u.Picture != "" {
			out[id] = u.Picture
		}
	}
	return out, nil
}

// SessionRevoked reports whether a reader session issued at issued is one
// that u revoked (signed out everywhere) or that a ban or suspension
// ended.
func SessionRevoked(u *parley.User, issued time.Time) bool {
	return !u.SessionsAfter.IsZero() && issued.Before(u.SessionsAfter)
}

// changeUser applies change to the user id as the unit reads them
// (store.Tx.User: a locking read on PostgreSQL) and stores the result,
// which it returns. UpdateUser writes every field: a change made to a copy
// read before the unit would write back the other fields as they were
// then, and undo a concurrent unit's change (a rename racing a ban). So
// every change of a user goes through here, and change sets only the
// fields it means to.
func changeUser(tx store.Tx, id string, change func(u *parley.User)) (*parley.User, error) {
	u, err := tx.User(id)
	if err != nil {
		return nil, err
	}
	change(u)
	return u, tx.UpdateUser(u)
}

// canSignInAgain reports whether u has a way back after their sessions
// are revoked: a publisher's or provider's sign-in, or an e-mail address
// to be sent a sign-in link. A guest's cookie is all there is of them:
// revoking it would make them a new reader (and shed a ban).
func canSignInAgain(u *parley.User) bool { return IsSSOReader(u.ID) || u.Email != "" }

// revokeTime is the SessionsAfter of a revocation now: to the millisecond a
// session's issue time has, so that a session opened in a later
// millisecond counts.
func revokeTime(now time.Time) time.Time { return now.Truncate(time.Millisecond) }

// SignOutEverywhere revokes every session of the signed-in reader, on every
// device and every instance: each session cookie issued until now stops
// counting. The caller clears the cookie of the request's own browser.
func (s *Service) SignOutEverywhere(ctx context.Context, a Actor) error {
	if a.User == nil {
		return parley.Errorf(parley.EUnauthorized, "Sign in first.")
	}
	if !canSignInAgain(a.User) {
		return parley.Errorf(parley.EInvalid, "This browser is your only way in: there is no sign-in to come back with. Sign in with your publisher's account or an e-mail address first.")
	}
	// Only the revocation changes: a ban stored meanwhile is kept.
	now := s.now()
	return s.update(ctx, func(tx store.Tx) error {
		_, err := changeUser(tx, a.User.ID, func(u *parley.User) { u.SessionsAfter = revokeTime(now) })
		return err
	})
}

// Rename sets the signed-in reader's display name, as they chose it, on
// siteID (whose name and staff the name may not imitate): the name their
// later comments show, kept over the name their publisher's or provider's
// sign-ins send. It must pass cleanName, the reserved names (badge
// holders', the site's, in look-alike and case variants) and the site's
// policy for display names; a name the policy would hold for a moderator
// is refused too, as there is no comment to hold. Comments already written
// keep the name they were written under.
func (s *Service) Rename(ctx context.Context, a Actor, siteID, name string) (*parley.User, error) {
	if a.User == nil {
		return nil, parley.Errorf(parley.EUnauthorized, "Sign in first.")
	}
	site, err := s.Site(ctx, siteID)
	if err != nil {
		return nil, err
	}
	clean, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, a.User.ID) // fresh: see SignOutEverywhere
	if err != nil {
		return nil, err
	}
	if err := s.reservedName(ctx, site.ID, u, clean); err != nil {
		return nil, err
	}
	if !u.IsStaff() && clean != u.Name {
		pipe, _, err := s.pipeline(site, nil)
		if err != nil {
			return nil, err
		}
		if v := pipe.DecideName(clean, s.scorer(site.ID)); v.Status != parley.StatusApproved {
			e := parley.Errorf(parley.EInvalid, "This display name is not accepted on this site. Choose another name.")
			e.Reason = ReasonNameRefused
			return nil, e
		}
	}
	// A unit may run more than once (a batch run again, a retried
	// conflict): it reads only what it was given and sets u at the end.
	id := u.ID
	var renamed *parley.User
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		renamed, err = changeUser(tx, id, func(x *parley.User) { x.Name, x.OwnName = clean, true })
		return err
	})
	if err != nil {
		return nil, err
	}
	u = renamed
	if u.Badge() != "" {
		s.staffChanged(ctx, "", "", u.Role) // the badge holders' names changed
	}
	return u, nil
}

// MaxAvatarBytes bounds a reader's picture as Parley fetches it.
const MaxAvatarBytes = 512 << 10

// avatarTTL is how long a fetched picture is served before it is fetched
// again; maxAvatars bounds the pictures kept in memory.
const (
	avatarTTL  = time.Hour
	maxAvatars = 512
)

// Avatar is a reader's picture as Parley serves it.
type Avatar struct {
	Data        []byte
	ContentType string // image/png, image/jpeg, image/gif or image/webp
	Fetched     time.Time
}

type avatarCache struct {
	mu sync.Mutex
	m  map[string]*Avatar // by user id and picture URL
}

// avatarTypes are the picture formats served: raster images a browser
// shows as an <img> and runs nothing in (no SVG).
var avatarTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// Avatar returns the picture of the reader userID, fetched from the URL
// their publisher's token or their provider gave through the guarded
// outbound client (private addresses refused unless allowed), at most
// MaxAvatarBytes, and only when its bytes are a PNG, JPEG, GIF or WebP
// image. It is served from Parley's own origin so that the widget makes
// no request to another host, and the picture's host learns nothing of
// the readers looking at it. ENotFound when the reader has no picture, or
// it cannot be fetched or is not an image.
func (s *Service) Avatar(ctx context.Context, userID string) (*Avatar, error) {
	notFound := parley.Errorf(parley.ENotFound, "no picture")
	if s.Avatars == nil || !IsSSOReader(userID) {
		return nil, notFound
	}
	u, err := s.store.User(ctx, userID)
	if err != nil || u.Picture == "" {
		return nil, notFound
	}
	key := userID + "\x00" + u.Picture
	s.avatars.mu.Lock()
	a := s.avatars.m[key]
	s.avatars.mu.Unlock()
	if a != nil && s.now().Sub(a.Fetched) < avatarTTL {
		return a, nil
	}
	a, err = s.fetchAvatar(ctx, u.Picture)
	if err != nil {
		s.Logger.Info("reader picture not served", "user", userID, "err", err.Error())
		return nil, notFound
	}
	s.avatars.mu.Lock()
	if s.avatars.m == nil || len(s.avatars.m) >= maxAvatars {
		s.avatars.m = map[string]*Avatar{} // simple: start again when full
	}
	s.avatars.m[key] = a
	s.avatars.mu.Unlock()
	return a, nil
}

func (s *Service) fetchAvatar(ctx context.Context, picture string) (*Avatar, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, picture, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/gif, image/webp")
	res, err := s.Avatars.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxAvatarBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxAvatarBytes {
		return nil, fmt.Errorf("over %d bytes", MaxAvatarBytes)
	}
	// The bytes decide, not the Content-Type header.
	ct := http.DetectContentType(data)
	if !avatarTypes[ct] {
		return nil, fmt.Errorf("not a PNG, JPEG, GIF or WebP image (%s)", ct)
	}
	return &Avatar{Data: data, ContentType: ct, Fetched: s.now()}, nil
}
