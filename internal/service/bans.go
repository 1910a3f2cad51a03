package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/textnorm"
)

// Bans that stick. A ban or suspension binds, besides the reader's id, what
// the reader cannot shed by deleting a cookie (store.BanMark):
//
//   - the network addresses they posted from in the AddressLookback before
//     the ban (an IPv4 address, or the /64 of an IPv6 one), kept as the
//     keyed hash comments already carry, for the ban's length and at most
//     AddressPeriod;
//   - their e-mail address, when known, as a keyed hash;
//   - the key of their display name (textnorm.NameKey);
//   - a signature of each of their latest comments (banTexts), which tells
//     a near-duplicate text, not the text.
//
// A reader whose e-mail address is bound is refused as banned. A new reader
// (no approved comment yet) whose address, name or text matches a mark in
// force is held for a moderator — pre-moderation for as long as the mark
// lasts — and the moderator's queue says why and links the banned reader
// (moderation.RuleBanEvasion, parley.Reason.UserID). The author is told
// only that the site reviews new readers' comments.
const (
	AddressPeriod   = 30 * 24 * time.Hour
	AddressLookback = 7 * 24 * time.Hour
	TextPeriod      = 90 * 24 * time.Hour
	banTexts        = 20
)

// banMarksTTL bounds how long a site's marks read from the store are
// reused; a ban on any instance forgets them at once (parley.EventBansChanged).
const banMarksTTL = 30 * time.Second

// netKey is the part of an IP address that names a network a reader cannot
// leave cheaply: the IPv4 address, the /64 of an IPv6 address.
func netKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// hashEmail returns the keyed hash of an e-mail address under which a ban
// binds it.
func (s *Service) hashEmail(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.IPKey)
	m.Write([]byte("email\x00" + email))
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// banMarks returns the marks to store for a ban of u on siteID ("" for
// every site) that ends at until: its addresses, e-mail, name and texts.
func (s *Service) banMarks(ctx context.Context, u *parley.User, siteID string, until time.Time) ([]store.BanMark, map[string]int, error) {
	now := s.now()
	cs, err := s.store.AuthorComments(ctx, store.AuthorQuery{AuthorID: u.ID, SiteID: siteID, Since: now.Add(-TextPeriod), Limit: 200})
	if err != nil {
		return nil, nil, err
	}
	var out []store.BanMark
	counts := map[string]int{}
	add := func(kind, value string, seen, expires time.Time) {
		out = append(out, store.BanMark{SiteID: siteID, BannedID: u.ID, Kind: kind, Value: value, Seen: seen, Created: now, Expires: expires})
		counts[kind]++
	}
	addrUntil := minTime(until, now.Add(AddressPeriod))
	seen := map[string]bool{}
	texts := 0
	for _, c := range cs { // newest first
		if c.IPHash != "" && !seen[c.IPHash] && now.Sub(c.Created) <= AddressLookback {
			seen[c.IPHash] = true
			add(store.MarkAddress, c.IPHash, c.Created, addrUntil)
		}
		if texts < banTexts {
			if sig := textSignature(c.Text); sig != "" && !seen["t"+sig] {
				seen["t"+sig] = true
				texts++
				add(store.MarkText, sig, c.Created, minTime(until, now.Add(TextPeriod)))
			}
		}
	}
	if k := textnorm.NameKey(u.Name); k != "" && k != textnorm.NameKey("Reader") {
		add(store.MarkName, k, time.Time{}, until)
	}
	if h := s.hashEmail(u.Email); h != "" {
		add(store.MarkEmail, h, time.Time{}, until)
	}
	return out, counts, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// bindBan is the part of a sanction's unit of work that binds (marks
// non-nil) or unbinds (nil) the ban of userID on siteID: the marks of an
// earlier ban end, the new ones are stored, and every instance hears of it.
func bindBan(tx store.Tx, siteID, userID string, at time.Time, marks []store.BanMark) error {
	if _, err := tx.EndBanMarks(siteID, userID, at); err != nil {
		return err
	}
	if len(marks) > 0 {
		if err := tx.AddBanMarks(marks); err != nil {
			return err
		}
	}
	return tx.Record(parley.Event{Type: parley.EventBansChanged, SiteID: siteID})
}

// banCache holds the marks in force of the sites read recently.
type banCache struct {
	mu    sync.Mutex
	sites map[string]*banSet
}

// banSet is the marks in force on one site (its own and the global ones),
// indexed by kind and value.
type banSet struct {
	at    time.Time
	marks []store.BanMark
	keys  map[string][]int // kind + "\x00" + value → indices in marks
}

// forgetBans drops the cached marks of a site, or of every site for "".
func (s *Service) forgetBans(siteID string) {
	s.bans.mu.Lock()
	if siteID == "" {
		s.bans.sites = nil
	} else {
		delete(s.bans.sites, siteID)
	}
	s.bans.mu.Unlock()
}

// siteBans returns the marks in force on a site, from a short-lived cache.
func (s *Service) siteBans(ctx context.Context, siteID string) (*banSet, error) {
	now := s.now()
	s.bans.mu.Lock()
	if b := s.bans.sites[siteID]; b != nil && now.Sub(b.at) < banMarksTTL && now.Sub(b.at) >= 0 {
		s.bans.mu.Unlock()
		return b, nil
	}
	s.bans.mu.Unlock()
	marks, err := s.store.BanMarks(ctx, siteID, now, 0)
	if err != nil {
		return nil, err
	}
	b := &banSet{at: now, marks: marks, keys: make(map[string][]int, len(marks))}
	for i, m := range marks {
		k := m.Kind + "\x00" + m.Value
		b.keys[k] = append(b.keys[k], i)
	}
	s.bans.mu.Lock()
	if s.bans.sites == nil {
		s.bans.sites = map[string]*banSet{}
	}
	s.bans.sites[siteID] = b
	s.bans.mu.Unlock()
	return b, nil
}

// banEvidence is what ties a reader to one banned reader.
type banEvidence struct {
	address time.Time // when the banned reader last used the address (zero: not this)
	name    bool
	text    float64 // similarity of the closest text, 0 for none
	hasAddr bool
}

// withBanSignals looks for the marks of banned readers in a post by a
// (not staff): a bound e-mail address refuses it; for a new reader (no
// approved comment) a bound address, name or near-duplicate text holds it
// with a reason that names the banned reader.
func (s *Service) withBanSignals(ctx context.Context, a Actor, d *draft, approved int, dec parley.Decision) (parley.Decision, error) {
	if a.User == nil || a.User.IsStaff() {
		return dec, nil
	}
	b, err := s.siteBans(ctx, d.site.ID)
	if err != nil || len(b.marks) == 0 {
		return dec, err
	}
	match := func(kind, value string) []int {
		if value == "" {
			return nil
		}
		return b.keys[kind+"\x00"+value]
	}
	for _, i := range match(store.MarkEmail, s.hashEmail(a.User.Email)) {
		if b.marks[i].BannedID != a.User.ID {
			return dec, parley.Errorf(parley.EForbidden, "You are banned from commenting on this site.")
		}
	}
	if approved > 0 {
		return dec, nil
	}
	found := map[string]*banEvidence{}
	var order []string
	of := func(id string) *banEvidence {
		if id == a.User.ID {
			return nil
		}
		e := found[id]
		if e == nil {
			e = &banEvidence{}
			found[id] = e
			order = append(order, id)
		}
		return e
	}
	for _, i := range match(store.MarkAddress, s.hashIP(a.IP)) {
		if e := of(b.marks[i].BannedID); e != nil {
			e.hasAddr = true
			if b.marks[i].Seen.After(e.address) {
				e.address = b.marks[i].Seen
			}
		}
	}
	for _, i := range match(store.MarkName, textnorm.NameKey(a.User.Name)) {
		if e := of(b.marks[i].BannedID); e != nil {
			e.name = true
		}
	}
	if sig := textSignature(d.text); sig != "" {
		for _, m := range b.marks {
			if m.Kind != store.MarkText {
				continue
			}
			if sim := signatureSimilarity(sig, m.Value); sim >= nearDuplicate {
				if e := of(m.BannedID); e != nil && sim > e.text {
					e.text = sim
				}
			}
		}
	}
	if len(order) == 0 {
		return dec, nil
	}
	for _, id := range order {
		name := id
		if u, err := s.store.User(ctx, id); err == nil {
			name = u.Name
		}
		dec.Reasons = append(dec.Reasons, parley.Reason{Rule: moderation.RuleBanEvasion, UserID: id,
			Message: found[id].describe(name, id, s.now())})
	}
	if dec.Status == parley.StatusApproved {
		dec.Status = parley.StatusPending
	}
	return dec, nil
}

// describe says, for a moderator, why the reader is likely the banned one.
func (e *banEvidence) describe(name, id string, now time.Time) string {
	var why []string
	if e.hasAddr {
		if e.address.IsZero() {
			why = append(why, "same network address")
		} else {
			why = append(why, fmt.Sprintf("same network address, which they used %s ago", roughAge(now.Sub(e.address))))
		}
	}
	if e.name {
		why = append(why, "same name")
	}
	if e.text > 0 {
		why = append(why, fmt.Sprintf("text %.0f%% like one of theirs", 100*e.text))
	}
	return fmt.Sprintf("likely the same person as banned reader %q (%s): %s", name, id, strings.Join(why, "; "))
}

// roughAge is a duration in hours or days, for moderators.
func roughAge(d time.Duration) string {
	switch h := int(d.Hours()); {
	case h < 1:
		return "less than an hour"
	case h == 1:
		return "1 hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	default:
		return fmt.Sprintf("%d days", h/24)
	}
}

// Near-duplicate texts. A signature is a MinHash of the text's words and
// word pairs, as textnorm reads them (case, look-alikes, leetspeak): the
// share of equal slots of two signatures estimates how many words and pairs
// the texts share. A signature cannot be read back into the text.
const (
	sigSlots      = 32
	sigMinWords   = 5   // shorter texts are too common to tell anyone apart
	nearDuplicate = 0.5 // the least similarity that counts as near-duplicate
)

// textSignature returns the signature of a text, "" when it has fewer than
// sigMinWords words.
func textSignature(text string) string {
	toks := textnorm.Tokens(textnorm.Normalize(text))
	if len(toks) < sigMinWords {
		return ""
	}
	var mins [sigSlots]uint32
	for i := range mins {
		mins[i] = ^uint32(0)
	}
	feature := func(f string) {
		h := fnv.New64a()
		h.Write([]byte(f))
		x := h.Sum64()
		for i := range mins {
			// One hash per slot, from the feature's hash and the slot.
			y := mix64(x + uint64(i)*0x9e3779b97f4a7c15)
			if v := uint32(y >> 32); v < mins[i] {
				mins[i] = v
			}
		}
	}
	for i, tk := range toks {
		feature(tk.Text)
		if i > 0 {
			feature(toks[i-1].Text + " " + tk.Text)
		}
	}
	buf := make([]byte, 4*sigSlots)
	for i, v := range mins {
		binary.BigEndian.PutUint32(buf[4*i:], v)
	}
	return hex.EncodeToString(buf)
}

// mix64 is SplitMix64's finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// signatureSimilarity returns the share of equal slots of two signatures,
// 0 when either is malformed.
func signatureSimilarity(a, b string) float64 {
	if len(a) != 8*sigSlots || len(b) != 8*sigSlots {
		return 0
	}
	same := 0
	for i := 0; i < len(a); i += 8 {
		if a[i:i+8] == b[i:i+8] {
			same++
		}
	}
	return float64(same) / sigSlots
}
