package service

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
)

// AuditPage names the audit entries of a page's settings: closed or
// reopened, or its policy override changed.
const AuditPage = "page"

// MaxPageList bounds the pages of one listing.
const MaxPageList = 200

// PagesQuery asks for a site's pages, for moderators.
type PagesQuery struct {
	SiteID string
	Search string // a substring of the URL or title
	Cursor string // from the previous PageList; "" for the first
	Limit  int    // default 50, at most MaxPageList
}

// PageList is one stretch of a site's pages, newest activity first.
type PageList struct {
	Pages  []store.PageActivity
	Cursor string // continues the listing; "" when there is no more
}

// PageRef names a page of a site by its URL (canonicalised as readers' URLs
// are) or by its id.
type PageRef struct {
	SiteID string
	URL    string
	ID     int64 // when set, URL is not used
}

// PageView is a page as moderators configure it: its override and the
// policy its comments are moderated by.
type PageView struct {
	Page       *parley.Page
	Override   moderation.PolicyOverride // the zero value when the page has none
	SitePolicy moderation.Policy         // the site's policy, under the override
	Effective  moderation.Policy         // the site's policy with the override applied
}

// PageUpdate changes a page's settings; nil fields keep their value.
type PageUpdate struct {
	Closed *bool
	// Policy replaces the page's override; a zero override removes it.
	Policy *moderation.PolicyOverride
	Note   string // the moderator's reason, kept in the audit log
	// Create makes the page when nobody has commented on it yet, so that
	// comments can be closed, or held, before the first one.
	Create bool
}

// Pages lists the pages of a site the actor moderates, newest activity
// first. EInvalid for a bad cursor or search.
func (s *Service) Pages(ctx context.Context, a Actor, q PagesQuery) (*PageList, error) {
	if err := s.CheckModerator(ctx, a, q.SiteID); err != nil {
		return nil, err
	}
	search, err := cleanShort("search", q.Search, MaxTitle)
	if err != nil {
		return nil, err
	}
	after, err := parsePageCursor(q.Cursor)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Limit <= 0:
		q.Limit = 50
	case q.Limit > MaxPageList:
		q.Limit = MaxPageList
	}
	// One more than asked tells whether the listing goes on.
	pages, err := s.store.Pages(ctx, store.PageQuery{SiteID: q.SiteID, Search: search, After: after, Limit: q.Limit + 1})
	if err != nil {
		return nil, err
	}
	out := &PageList{Pages: pages}
	if len(pages) > q.Limit {
		out.Pages = pages[:q.Limit]
		out.Cursor = pageCursor(out.Pages[q.Limit-1].Position())
	}
	return out, nil
}

// pageCursor encodes a position in a listing of pages: opaque to clients,
// exact to the microsecond (finer than either store keeps).
func pageCursor(p store.PagePosition) string {
	raw := strconv.FormatInt(p.Activity.UnixMicro(), 10) + "." + strconv.FormatInt(p.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parsePageCursor(c string) (store.PagePosition, error) {
	if c == "" {
		return store.PagePosition{}, nil
	}
	bad := parley.Errorf(parley.EInvalid, "cursor %.40q is not one this API gave out", c)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return store.PagePosition{}, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	micros, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return store.PagePosition{}, bad
	}
	return store.PagePosition{Activity: time.UnixMicro(micros).UTC(), ID: n}, nil
}

// Page returns a page of a site the actor moderates with its override and
// effective policy. ENotFound for an unknown site or page; EForbidden for a
// site the actor does not moderate.
func (s *Service) Page(ctx context.Context, a Actor, ref PageRef) (*PageView, error) {
	site, p, err := s.findPage(ctx, a, ref, false)
	if err != nil {
		return nil, err
	}
	return pageView(site, p)
}

// UpdatePage closes or reopens a page and sets or clears its policy
// override, records the change in the audit log, and makes it take effect
// at once: the page's cached thread is dropped, and the next comment is
// moderated by the new policy. Closing needs a moderator of the site; the
// override, like the site's policy, an admin or a moderator of that one
// site (EForbidden otherwise). EInvalid for an override that makes the
// policy invalid, or that sets "closed" (a page is closed by its own flag).
func (s *Service) UpdatePage(ctx context.Context, a Actor, ref PageRef, in PageUpdate) (*PageView, error) {
	note, err := checkNote("note", in.Note, MaxNoteRunes)
	if err != nil {
		return nil, err
	}
	site, p, err := s.findPage(ctx, a, ref, in.Create)
	if err != nil {
		return nil, err
	}
	next := store.PageSettings{Closed: p.Closed, Policy: p.Policy}
	if in.Closed != nil {
		next.Closed = *in.Closed
	}
	if in.Policy != nil {
		if err := mayChangePolicy(a, site.ID); err != nil {
			return nil, err
		}
		if next.Policy, err = checkOverride(site, *in.Policy); err != nil {
			return nil, err
		}
	}
	// With an Idempotency-Key, a retry gets the first answer and neither
	// changes nor audits anything again.
	input := map[string]any{"page": p.ID, "closed": next.Closed, "policy": string(next.Policy), "note": note}
	v, _, err := once(ctx, s, a, site.ID, "page", input, func(k *keyed) (*PageView, error) {
		return s.updatePage(ctx, a, site, p, next, note, k)
	})
	return v, err
}

// updatePage is UpdatePage's write, once it has checked the actor may make
// it: it saves its outcome under k in its unit.
func (s *Service) updatePage(ctx context.Context, a Actor, site *parley.Site, p *parley.Page, next store.PageSettings, note string, k *keyed) (*PageView, error) {
	np := *p
	np.Closed, np.Policy = next.Closed, next.Policy
	v, err := pageView(site, &np) // the outcome, as stored with the key
	if err != nil {
		return nil, err
	}
	// The audit entry commits with the change, in one unit of work; its
	// "before" is the page as the unit finds it.
	var old store.PageSettings
	var changed bool
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		if old, err = tx.SetPageSettings(p.ID, next); err != nil {
			return err
		}
		before, after := pageDiff(old, next)
		if changed = len(after) > 0; !changed {
			return k.save(tx, v, nil)
		}
		if next.Closed && !old.Closed {
			if err := tx.Record(parley.Event{Type: parley.EventPageClosed, SiteID: site.ID, PageID: p.ID}); err != nil {
				return err
			}
		}
		before["page"], after["page"] = p.URL, p.URL
		e, err := s.entry(a, store.Action{Action: AuditPage, SiteID: site.ID, Note: note}, before, after)
		if err != nil {
			return err
		}
		if err := tx.AddAction(e); err != nil {
			return err
		}
		return k.save(tx, v, nil)
	})
	if err != nil {
		return nil, err
	}
	p.Closed, p.Policy = next.Closed, next.Policy
	if changed {
		s.forgetPipeline(site, old.Policy)
	}
	return pageView(site, p)
}

// findPage returns the site and page ref names, after checking that the
// actor moderates the site; with create, a page nobody has commented on
// yet is made (a page named by id must exist).
func (s *Service) findPage(ctx context.Context, a Actor, ref PageRef, create bool) (*parley.Site, *parley.Page, error) {
	if err := s.CheckModerator(ctx, a, ref.SiteID); err != nil {
		return nil, nil, err
	}
	site, err := s.Site(ctx, ref.SiteID)
	if err != nil {
		return nil, nil, err
	}
	if ref.ID != 0 {
		p, err := s.store.PageByID(ctx, ref.ID)
		if err != nil {
			return nil, nil, err
		}
		if p.SiteID != site.ID {
			return nil, nil, parley.Errorf(parley.ENotFound, "page %d not found on site %q", ref.ID, site.ID)
		}
		return site, p, nil
	}
	if ref.URL == "" {
		return nil, nil, parley.Errorf(parley.EInvalid, "a page url or id is required")
	}
	url, err := parley.CanonicalURL(ref.URL, site.IgnoreParams)
	if err != nil {
		return nil, nil, err
	}
	var p *parley.Page
	if create {
		p, err = s.store.EnsurePage(ctx, site.ID, url, "")
	} else {
		p, err = s.store.Page(ctx, site.ID, url)
	}
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, nil, parley.Errorf(parley.ENotFound, "No page %s on site %q: a page exists once someone has commented on it.", url, site.ID)
	}
	return site, p, err
}

// mayChangePolicy returns EForbidden unless the actor may change the policy
// of siteID: the rule SetPolicy applies (admins, and moderators of that one
// site).
func mayChangePolicy(a Actor, siteID string) error {
	if !a.CanModerate(siteID) || (!a.Admin && a.User.Role != parley.RoleAdmin && a.User.SiteID != siteID) {
		return parley.Errorf(parley.EForbidden, "You may not change the policy of site %q.", siteID)
	}
	return nil
}

// checkOverride validates an override against the site's policy, as
// SetPolicy validates a site's policy, and returns it as stored: compact
// JSON of the fields it sets, nil for none.
func checkOverride(site *parley.Site, o moderation.PolicyOverride) ([]byte, error) {
	if o.Closed != nil {
		return nil, parley.Errorf(parley.EInvalid, `closed is set beside the policy override ("closed":true), not inside it`)
	}
	if o.IsZero() {
		return nil, nil
	}
	base, err := effectivePolicy(site, nil)
	if err != nil {
		return nil, err
	}
	if _, err := moderation.Compile(o.Apply(base)); err != nil {
		if parley.ErrorCode(err) == parley.EInvalid {
			return nil, err
		}
		return nil, parley.Errorf(parley.EInvalid, "policy: %v", err)
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode policy override: %w", err)
	}
	return b, nil
}

// pageView builds what moderators see of a page's settings.
func pageView(site *parley.Site, p *parley.Page) (*PageView, error) {
	v := &PageView{Page: p}
	var err error
	if v.SitePolicy, err = effectivePolicy(site, nil); err != nil {
		return nil, err
	}
	if len(p.Policy) > 0 {
		if err := json.Unmarshal(p.Policy, &v.Override); err != nil {
			return nil, fmt.Errorf("page %d has a corrupt policy override: %w", p.ID, err)
		}
	}
	v.Effective = v.Override.Apply(v.SitePolicy)
	return v, nil
}

// pageDiff returns the page settings that differ, as the audit log keeps
// them: "closed", and "policy" as the override's JSON (null for none).
func pageDiff(old, new store.PageSettings) (before, after map[string]any) {
	before, after = map[string]any{}, map[string]any{}
	if old.Closed != new.Closed {
		before["closed"], after["closed"] = old.Closed, new.Closed
	}
	if !bytes.Equal(old.Policy, new.Policy) {
		raw := func(b []byte) any {
			if len(b) == 0 {
				return nil
			}
			return json.RawMessage(b)
		}
		before["policy"], after["policy"] = raw(old.Policy), raw(new.Policy)
	}
	return before, after
}

// forgetPipeline drops the compiled pipeline of a page override that was
// just replaced. The cache is keyed by the policies' text, so a new
// override is never served an old pipeline; this only keeps replaced ones
// from filling it.
func (s *Service) forgetPipeline(site *parley.Site, override []byte) {
	if len(override) == 0 {
		return
	}
	s.mu.Lock()
	delete(s.pipes, string(site.Policy)+"\x00"+string(override))
	s.mu.Unlock()
}
