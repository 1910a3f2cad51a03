package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// A reader's data rights (issue 11): what Parley holds about a reader, as
// one JSON document they can download, and their erasure.

// AuditErase names the audit entry of an erasure. It records that a
// reader was erased and what changed, never who they were.
const AuditErase = "erase"

// ErasedName is the author name a kept comment of an erased reader shows.
const ErasedName = "a former reader"

// ReaderData is everything Parley holds about one reader.
type ReaderData struct {
	User     *parley.User
	Rows     *store.ReaderRows
	Pages    map[int64]*parley.Page // the pages of their comments
	Actions  []*store.Action        // moderation about them
	Exported time.Time
}

// mayAccessReader lets a reader at their own data, and the admin token and
// admins at anyone's.
func mayAccessReader(a Actor, userID string) error {
	if a.Admin || (a.User != nil && (a.User.ID == userID || a.User.Role == parley.RoleAdmin)) {
		return nil
	}
	if a.User == nil {
		return parley.Errorf(parley.EUnauthorized, "Sign in to see your data.")
	}
	return parley.Errorf(parley.EForbidden, "Only the reader or an admin may see a reader's data.")
}

// ReaderData gathers what is held about a reader, for the reader
// themselves or an admin. ENotFound for an unknown reader.
func (s *Service) ReaderData(ctx context.Context, a Actor, userID string) (*ReaderData, error) {
	if err := mayAccessReader(a, userID); err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.ReaderRows(ctx, userID)
	if err != nil {
		return nil, err
	}
	d := &ReaderData{User: u, Rows: rows, Pages: map[int64]*parley.Page{}, Exported: s.now()}
	for _, c := range rows.Comments {
		if _, ok := d.Pages[c.PageID]; ok {
			continue
		}
		p, err := s.store.PageByID(ctx, c.PageID)
		if err != nil {
			return nil, err
		}
		d.Pages[c.PageID] = p
	}
	if d.Actions, err = s.store.Actions(ctx, store.ActionQuery{UserID: userID, Limit: 10000}); err != nil {
		return nil, err
	}
	return d, nil
}

// The export's JSON: the wire format of a reader's data (docs/sso.md).
type (
	exportDoc struct {
		Format    string          `json:"format"`
		Exported  time.Time       `json:"exported"`
		Profile   exportProfile   `json:"profile"`
		Comments  []exportComment `json:"comments"`
		Votes     []exportVote    `json:"votes"`
		Reports   []exportReport  `json:"reports"`
		Sanctions []exportSanct   `json:"sanctions"`
		Decisions []exportAction  `json:"moderation"`
		Sessions  exportSessions  `json:"sessions"`
	}
	exportProfile struct {
		ID          string     `json:"id"`
		Name        string     `json:"name"`
		Email       string     `json:"email,omitempty"`
		Role        string     `json:"role"`
		SignedInBy  string     `json:"signed_in_by"` // guest, sso (the publisher or the site's OpenID provider)
		BannedUntil *time.Time `json:"banned_until,omitempty"`
		Created     time.Time  `json:"created"`
	}
	exportComment struct {
		ID       int64      `json:"id"`
		Site     string     `json:"site"`
		URL      string     `json:"url"`
		Title    string     `json:"title"`
		Number   int        `json:"number"`
		ParentID int64      `json:"parent_id,omitempty"`
		Text     string     `json:"text"`
		Status   string     `json:"status"`
		Reasons  []string   `json:"reasons,omitempty"` // why it was held or removed
		Score    int        `json:"score"`
		Created  time.Time  `json:"created"`
		Edited   *time.Time `json:"edited,omitempty"`
	}
	exportVote struct {
		CommentID int64 `json:"comment_id"`
		Value     int   `json:"value"`
	}
	exportReport struct {
		CommentID int64     `json:"comment_id"`
		Reason    string    `json:"reason"`
		Note      string    `json:"note,omitempty"`
		Outcome   string    `json:"outcome,omitempty"`
		Created   time.Time `json:"created"`
	}
	exportSanct struct {
		Site           string     `json:"site"`
		SuspendedUntil *time.Time `json:"suspended_until,omitempty"`
		Premoderated   bool       `json:"premoderated"`
	}
	// Moderation about the reader: what was done and when, not which
	// moderator did it nor their private reasons.
	exportAction struct {
		Action    string    `json:"action"`
		Site      string    `json:"site"`
		CommentID int64     `json:"comment_id,omitempty"`
		Created   time.Time `json:"created"`
	}
	exportSessions struct {
		Stored bool   `json:"stored"`
		Note   string `json:"note"`
	}
)

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// JSON returns the reader's data as the export document, indented.
func (d *ReaderData) JSON() ([]byte, error) {
	u := d.User
	by := "guest"
	if IsSSOReader(u.ID) {
		by = "sso"
	}
	doc := exportDoc{
		Format: "parley-reader-export/1", Exported: d.Exported.UTC(),
		Profile: exportProfile{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, SignedInBy: by,
			BannedUntil: timePtr(u.BannedUntil), Created: u.Created},
		Comments: []exportComment{}, Votes: []exportVote{}, Reports: []exportReport{}, Sanctions: []exportSanct{}, Decisions: []exportAction{},
		Sessions: exportSessions{Stored: false, Note: "A reader's session is a signed cookie in their browser: Parley stores none. Signing out clears it; erasure makes every copy worthless."},
	}
	for _, c := range d.Rows.Comments {
		p := d.Pages[c.PageID]
		ec := exportComment{ID: c.ID, Number: c.Number, ParentID: c.ParentID, Text: c.Text, Status: c.Status, Score: c.Score,
			Created: c.Created, Edited: timePtr(c.Edited)}
		if p != nil {
			ec.Site, ec.URL, ec.Title = p.SiteID, p.URL, p.Title
		}
		for _, r := range c.Reasons {
			ec.Reasons = append(ec.Reasons, r.Rule)
		}
		doc.Comments = append(doc.Comments, ec)
	}
	for _, v := range d.Rows.Votes {
		doc.Votes = append(doc.Votes, exportVote{CommentID: v.CommentID, Value: v.Value})
	}
	for _, r := range d.Rows.Reports {
		doc.Reports = append(doc.Reports, exportReport{CommentID: r.CommentID, Reason: r.Reason, Note: r.Note, Outcome: r.Outcome, Created: r.Created})
	}
	for _, sa := range d.Rows.Sanctions {
		doc.Sanctions = append(doc.Sanctions, exportSanct{Site: sa.SiteID, SuspendedUntil: timePtr(sa.SuspendedUntil), Premoderated: sa.Premoderated})
	}
	for _, a := range d.Actions {
		doc.Decisions = append(doc.Decisions, exportAction{Action: a.Action, Site: a.SiteID, CommentID: a.CommentID, Created: a.Created})
	}
	return json.MarshalIndent(doc, "", "  ")
}

// EraseResult is what an erasure did.
type EraseResult = store.Erased

// EraseReader erases a reader (themselves, or by an admin) in one unit of
// work: their comments are removed or kept anonymised as each site says
// (store.SiteErasure), their votes, reports and other rows go, and the
// audit log of each site records the erasure, without who it was. Staff
// accounts are not erased here: an admin removes them. The events the
// erasure records update caches and streams on every instance.
func (s *Service) EraseReader(ctx context.Context, a Actor, userID string) (EraseResult, error) {
	if err := mayAccessReader(a, userID); err != nil {
		return EraseResult{}, err
	}
	// With an Idempotency-Key the key commits with the erasure: a retry,
	// although the reader is gone by then, gets the first answer.
	out, _, err := once(ctx, s, a, "", "erase", eraseInput(userID), func(k *keyed) (*EraseResult, error) {
		out, err := s.eraseReader(ctx, a, userID, k)
		return &out, err
	})
	if err != nil {
		return EraseResult{}, err
	}
	return *out, nil
}

func eraseInput(userID string) map[string]string { return map[string]string{"user": userID} }

// ReplayErase answers a reader's retried erasure of themselves: userID is
// the reader their (verified) session cookie names, who is gone, so the
// retry has no session left. ok is false when no erasure of theirs was
// stored under the key; EConflict when the key was another request's.
func (s *Service) ReplayErase(ctx context.Context, key, userID string) (out EraseResult, ok bool, err error) {
	a := Actor{User: &parley.User{ID: userID}, IdempotencyKey: key}
	_, prior, err := s.idempotency(ctx, a, "", "erase", eraseInput(userID))
	if err != nil || prior == nil {
		return out, false, err
	}
	return out, true, replay(prior, &out)
}

// eraseReader is EraseReader's write: it saves its outcome under k in its
// unit.
func (s *Service) eraseReader(ctx context.Context, a Actor, userID string, k *keyed) (EraseResult, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return EraseResult{}, err
	}
	if u.IsStaff() {
		return EraseResult{}, parley.Errorf(parley.EInvalid, "%s is a staff account: remove its access with the staff tools, not by erasure", u.Name)
	}
	rows, err := s.store.ReaderRows(ctx, userID)
	if err != nil {
		return EraseResult{}, err
	}
	// Which sites remove rather than keep, decided before the unit (it
	// must not read more than it needs).
	remove := map[string]bool{}
	seen := map[int64]bool{}
	var sites []string
	for _, c := range rows.Comments {
		if seen[c.PageID] {
			continue
		}
		seen[c.PageID] = true
		p, err := s.store.PageByID(ctx, c.PageID)
		if err != nil {
			return EraseResult{}, err
		}
		if slices.Contains(sites, p.SiteID) {
			continue
		}
		sites = append(sites, p.SiteID)
		mode, err := s.store.SiteErasure(ctx, p.SiteID)
		if err != nil {
			return EraseResult{}, err
		}
		remove[p.SiteID] = mode == store.ErasureRemove
	}
	var out EraseResult
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.EraseUser(store.Erasure{UserID: userID, Name: ErasedName, RemoveSites: remove})
		if err != nil {
			return err
		}
		// One entry per site the reader wrote on (or none when they
		// wrote nothing): counts only, and who asked.
		auditSites := out.Sites
		if len(auditSites) == 0 {
			auditSites = []string{""}
		}
		for _, site := range auditSites {
			e, err := s.entry(a, store.Action{Action: AuditErase, SiteID: site,
				Note: fmt.Sprintf("a reader was erased at their request or an admin's: %d comments removed, %d kept anonymised, %d votes and %d reports withdrawn",
					out.Removed, out.Anonymised, out.Votes, out.Reports)}, nil, nil)
			if err != nil {
				return err
			}
			if a.User != nil && a.User.ID == userID {
				e.ActorID, e.ActorName = "", "the reader"
			}
			if err := tx.AddAction(e); err != nil {
				return err
			}
		}
		return k.save(tx, out, nil)
	})
	if err != nil {
		return EraseResult{}, err
	}
	if u.Badge() != "" {
		for _, site := range sites {
			s.staffChanged(ctx, site, u.Role, parley.RoleReader)
		}
	}
	return out, nil
}

// mayConfigureErasure: what erasing a reader does to a site's comments is
// an admin's choice, as how readers sign in is.
func mayConfigureErasure(a Actor) error {
	if a.Admin || (a.User != nil && a.User.Role == parley.RoleAdmin) {
		return nil
	}
	return parley.Errorf(parley.EForbidden, "Only an admin may see or change what erasing a reader does to a site's comments.")
}

// SiteErasure returns how a site treats an erased reader's comments
// (store.ErasureAnonymise or store.ErasureRemove; admins only).
func (s *Service) SiteErasure(ctx context.Context, a Actor, siteID string) (string, error) {
	if err := checkSiteID(siteID); err != nil {
		return "", err
	}
	if err := mayConfigureErasure(a); err != nil {
		return "", err
	}
	return s.store.SiteErasure(ctx, siteID)
}

// SetSiteErasure sets how a site treats an erased reader's comments
// (admins only): audited as a change of the site's settings (AuditSite,
// the mode before and after), in one unit of work with the change. Setting
// the mode the site already has changes and audits nothing.
func (s *Service) SetSiteErasure(ctx context.Context, a Actor, siteID, mode string) error {
	if err := checkSiteID(siteID); err != nil {
		return err
	}
	if err := mayConfigureErasure(a); err != nil {
		return err
	}
	mode = strings.TrimSpace(mode)
	if mode != store.ErasureAnonymise && mode != store.ErasureRemove {
		return parley.Errorf(parley.EInvalid, "erasure must be %q or %q", store.ErasureAnonymise, store.ErasureRemove)
	}
	old, err := s.store.SiteErasure(ctx, siteID)
	if err != nil {
		return err
	}
	if old == mode {
		return nil
	}
	e, err := s.entry(a, store.Action{Action: AuditSite, SiteID: siteID},
		map[string]any{"erasure": old}, map[string]any{"erasure": mode})
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		if err := tx.SetSiteErasure(siteID, mode); err != nil {
			return err
		}
		return tx.AddAction(e)
	})
}
