package service

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/store"
)

// PostInput is a new comment as the reader sent it.
type PostInput struct {
	SiteID   string
	URL      string
	Title    string
	ParentID int64
	QuoteID  int64
	Text     string
	Name     string
}

// PostResult is the stored comment with the moderation decision and, when
// the reader was new, the user created for them.
type PostResult struct {
	Comment  *parley.Comment
	Decision parley.Decision
	Message  string          // for the author; "" when approved
	NewUser  *parley.User    // set when a reader identity was created (set its cookie)
	Quote    *parley.Comment // the quoted comment, when there is one the author may see
	// Replayed is set when the result is the stored outcome of an earlier
	// request with the same idempotency key, which wrote nothing new.
	Replayed bool
}

// replayPost decodes the stored outcome of a post or an edit.
func replayPost(prior []byte) (*PostResult, error) {
	res := &PostResult{}
	if err := replay(prior, res); err != nil {
		return nil, err
	}
	res.Replayed = true
	return res, nil
}

// draft is a comment that passed validation, with its page and context.
type draft struct {
	site   *parley.Site
	page   *parley.Page // nil for a precheck on a page without comments yet
	text   string
	parent *parley.Comment
	quote  *parley.Comment
	// sanction is the author's on the site; Premoderated holds every comment.
	sanction store.Sanction
	// read is what the store answered for a new comment in one go
	// (store.PostContext), nil when the draft's reads are made one by one;
	// activity is the query its Activity answers, with the site's policy.
	read     *store.PostContext
	activity store.ActivityQuery
	at       time.Time // when activity was asked
}

func (s *Service) prepare(ctx context.Context, a Actor, in PostInput, create bool) (*draft, error) {
	text, err := cleanText(in.Text)
	if err != nil {
		return nil, err
	}
	site, err := s.Site(ctx, in.SiteID)
	if err != nil {
		return nil, err
	}
	url, err := parley.CanonicalURL(in.URL, site.IgnoreParams)
	if err != nil {
		return nil, err
	}
	title, err := checkTitle("title", in.Title, MaxTitle)
	if err != nil {
		return nil, err
	}
	d := &draft{site: site, text: text}
	if create {
		// The reads of a new comment go to the store together. The flood
		// and duplicate counts are asked with the site's policy; decide
		// asks again in the rare case that the page's overrides change
		// the query.
		_, policy, err := s.pipeline(site, nil)
		if err != nil {
			return nil, err
		}
		d.at = s.now()
		d.activity = s.activityQuery(a, text, policy, d.at)
		q := store.PostQuery{SiteID: site.ID, URL: url, Title: title, Recent: historyRecent, Activity: d.activity}
		if a.User != nil {
			q.UserID = a.User.ID
		}
		pc, err := s.store.PostContext(ctx, q)
		if err != nil {
			return nil, err
		}
		d.page, d.read = pc.Page, &pc
	} else {
		d.page, err = s.store.Page(ctx, site.ID, url)
		if parley.ErrorCode(err) == parley.ENotFound {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	if closed, err := s.closed(site, d.page); err != nil {
		return nil, err
	} else if closed {
		return nil, parley.Errorf(parley.EForbidden, "Comments are closed on this page.")
	}
	if d.read != nil {
		d.sanction, err = s.restricted(a, d.read.Sanction)
	} else {
		d.sanction, err = s.restrictions(ctx, a, site.ID)
	}
	if err != nil {
		return nil, err
	}
	if in.ParentID != 0 {
		if d.parent, err = s.visibleOnPage(ctx, a, d.page, in.ParentID, "parent"); err != nil {
			return nil, err
		}
	}
	if in.QuoteID != 0 {
		if d.quote, err = s.visibleOnPage(ctx, a, d.page, in.QuoteID, "quoted comment"); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func banned(u *parley.User, now time.Time) error {
	if u.BannedUntil.Sub(now) > 50*365*24*time.Hour {
		return parley.Errorf(parley.EForbidden, "You are banned from commenting on this site.")
	}
	return parley.Errorf(parley.EForbidden, "You are suspended from commenting until %s.", u.BannedUntil.UTC().Format("2 January 2006 15:04 MST"))
}

// visibleOnPage returns comment id when it is on page and the actor can see it.
func (s *Service) visibleOnPage(ctx context.Context, a Actor, page *parley.Page, id int64, what string) (*parley.Comment, error) {
	c, err := s.store.Comment(ctx, id)
	if parley.ErrorCode(err) == parley.ENotFound || (err == nil && (page == nil || c.PageID != page.ID)) {
		return nil, parley.Errorf(parley.EInvalid, "the %s (id %d) is not a comment on this page", what, id)
	}
	if err != nil {
		return nil, err
	}
	ownPending := c.Status == parley.StatusPending && a.User != nil && c.AuthorID == a.User.ID
	if c.Status != parley.StatusApproved && !ownPending {
		return nil, parley.Errorf(parley.EInvalid, "the %s (#%d) is no longer available", what, c.Number)
	}
	return c, nil
}

// decide runs the moderation pipeline of the draft's site and page.
func (s *Service) decide(ctx context.Context, a Actor, d *draft) (parley.Decision, error) {
	pipe, policy, err := s.pipeline(d.site, d.page)
	if err != nil {
		return parley.Decision{}, err
	}
	in := moderation.Input{Text: d.text, Staff: a.User != nil && a.User.IsStaff()}
	if d.quote != nil {
		in.Quote = d.quote.Text
	}
	if a.User != nil {
		var h store.History
		if d.read != nil {
			h = d.read.History
		} else if h, err = s.store.History(ctx, a.User.ID, historyRecent); err != nil {
			return parley.Decision{}, err
		}
		in.Trust = moderation.Trust{
			Approved:             h.Approved,
			Rejected:             h.Rejected,
			UpheldReportsAgainst: h.ReportsUpheld,
			Recent:               h.Recent,
			Premoderated:         d.sanction.Premoderated,
		}
	}
	var act store.Activity
	if q, ok := s.readActivity(a, d, policy); ok {
		act = d.read.Activity
	} else if act, err = s.store.Activity(ctx, q); err != nil {
		return parley.Decision{}, err
	}
	in.Duplicate = act.Duplicate
	if !s.NoFlood {
		in.RecentByAuthor, in.RecentByIP = act.ByAuthor, act.ByIP
	}
	in.Scorer = s.scorer(d.site.ID)
	return s.withBanSignals(ctx, a, d, in.Trust.Approved, pipe.Decide(in))
}

// historyRecent is how many of a poster's newest moderated comments the
// trust rules look at.
const historyRecent = 10

// activityQuery asks for the flood and duplicate counts of the actor's
// text under policy at time now. Counting stops just past the larger flood
// limit; with the flood rules off only the duplicate check runs.
func (s *Service) activityQuery(a Actor, text string, policy moderation.Policy, now time.Time) store.ActivityQuery {
	q := store.ActivityQuery{IPHash: s.hashIP(a.IP), Since: now.Add(-time.Minute),
		Cap: max(policy.FloodPerMinute, policy.FloodPerMinuteIP) + 1}
	if s.NoFlood {
		q.Cap = -1
	}
	if a.User != nil {
		q.AuthorID = a.User.ID
		q.Text = text
		q.TextSince = now.Add(-policy.DuplicateWindow())
	}
	return q
}

// readActivity returns the activity query of the draft under policy, and
// whether the draft's read answers it: the page's overrides, when it has
// any, may change the counts' cap or the duplicate window.
func (s *Service) readActivity(a Actor, d *draft, policy moderation.Policy) (store.ActivityQuery, bool) {
	if d.read == nil {
		return s.activityQuery(a, d.text, policy, s.now()), false
	}
	if d.page == nil || len(d.page.Policy) == 0 {
		return d.activity, true
	}
	q := s.activityQuery(a, d.text, policy, d.at)
	return q, q == d.activity
}

// Precheck tells an author what would happen to their comment, storing
// nothing: the widget uses it to nudge before posting.
func (s *Service) Precheck(ctx context.Context, a Actor, in PostInput) (parley.Decision, string, error) {
	d, err := s.prepare(ctx, a, in, false)
	if err != nil {
		return parley.Decision{}, "", err
	}
	dec, err := s.decide(ctx, a, d)
	if err != nil {
		return parley.Decision{}, "", err
	}
	return dec, moderation.AuthorMessage(dec), nil
}

// Post validates, moderates, renders and stores a new comment.
func (s *Service) Post(ctx context.Context, a Actor, in PostInput) (*PostResult, error) {
	if a.User == nil {
		if _, err := cleanName(in.Name); err != nil {
			return nil, err
		}
	}
	k, prior, err := s.idempotency(ctx, a, in.SiteID, "post", in)
	if err != nil {
		return nil, err
	} else if prior != nil {
		return replayPost(prior)
	}
	d, err := s.prepare(ctx, a, in, true)
	if err != nil {
		return nil, err
	}
	if err := s.ssoRequired(ctx, a, d.site); err != nil {
		return nil, err
	}
	if err := s.postName(ctx, a, d.site.ID, in.Name); err != nil {
		return nil, err
	}
	nameHold, err := s.moderateName(a, d, in.Name)
	if err != nil {
		return nil, err
	}
	res := &PostResult{}
	created, renamed, err := s.reader(&a, in.Name)
	if err != nil {
		return nil, err
	}
	dec, err := s.decide(ctx, a, d)
	if err != nil {
		return nil, err
	}
	dec = withNameHold(dec, nameHold)
	c := &parley.Comment{
		PageID:     d.page.ID,
		AuthorID:   a.User.ID,
		AuthorName: a.User.Name,
		IPHash:     s.hashIP(a.IP),
		Text:       d.text,
		HTML:       s.render.Render(d.text),
		Status:     dec.Status,
		Reasons:    dec.Reasons,
		Toxicity:   dec.Toxicity,
		Created:    s.now(),
	}
	if d.parent != nil {
		c.ParentID = d.parent.ID
	}
	if d.quote != nil {
		c.QuoteID = d.quote.ID
	}
	res.NewUser = created
	res.Decision, res.Message, res.Quote = dec, moderation.AuthorMessage(dec), d.quote
	// The reader's identity, when new or renamed, and the idempotency key
	// with the outcome commit with the comment.
	err = s.update(ctx, func(tx store.Tx) error {
		if err := writeReader(tx, created, renamed); err != nil {
			return err
		}
		if err := tx.CreateComment(c); err != nil {
			return err
		}
		res.Comment = c
		return k.save(tx, res, created)
	})
	if prior, perr := k.raced(ctx, s, err); prior != nil || perr != nil {
		if perr != nil {
			return nil, perr
		}
		return replayPost(prior)
	}
	if err != nil {
		return nil, fmt.Errorf("create comment: %w", err)
	}
	return res, nil
}

// reader makes sure the actor has a user, making an anonymous reader (with
// the display name given, when valid) on their first write, and sets
// a.User. It returns the user to create, or to rename when the display name
// changed (nil for none), which the write's unit of work stores.
func (s *Service) reader(a *Actor, name string) (created, renamed *parley.User, err error) {
	if a.User != nil {
		// A reader signed in by their publisher has the publisher's name
		// (their token's, at every sign-in), not one typed in a form.
		if name == "" || a.User.IsStaff() || IsSSOReader(a.User.ID) {
			return nil, nil, nil
		}
		clean, err := cleanName(name)
		if err != nil {
			return nil, nil, err
		}
		if clean != a.User.Name {
			u := *a.User
			u.Name = clean
			a.User = &u
			return nil, &u, nil
		}
		return nil, nil, nil
	}
	clean := "Reader"
	if name != "" {
		if clean, err = cleanName(name); err != nil {
			return nil, nil, err
		}
	}
	u := &parley.User{ID: auth.NewID(), Name: clean, Role: parley.RoleReader, Created: s.now()}
	a.User = u
	return u, nil, nil
}

// writeReader stores in a unit of work what reader returned.
func writeReader(tx store.Tx, created, renamed *parley.User) error {
	if created != nil {
		if err := tx.CreateUser(created); err != nil {
			return fmt.Errorf("create reader: %w", err)
		}
	}
	if renamed != nil {
		// Only the name: a ban or revocation stored since the request
		// read the reader is kept.
		if _, err := changeUser(tx, renamed.ID, func(u *parley.User) { u.Name = renamed.Name }); err != nil {
			return fmt.Errorf("rename reader: %w", err)
		}
	}
	return nil
}

// own returns comment id when the actor wrote it or may moderate its site.
func (s *Service) own(ctx context.Context, a Actor, id int64) (*parley.Comment, *parley.Page, bool, error) {
	c, err := s.store.Comment(ctx, id)
	if err != nil {
		return nil, nil, false, err
	}
	p, err := s.store.PageByID(ctx, c.PageID)
	if err != nil {
		return nil, nil, false, err
	}
	author := a.User != nil && a.User.ID == c.AuthorID
	if !author && !a.CanModerate(p.SiteID) {
		return nil, nil, false, parley.Errorf(parley.EForbidden, "You can only change your own comments.")
	}
	return c, p, author, nil
}

// Edit replaces the text of the author's own comment within the edit window;
// the new text goes through moderation again.
func (s *Service) Edit(ctx context.Context, a Actor, id int64, text string) (*PostResult, error) {
	text, err := cleanText(text)
	if err != nil {
		return nil, err
	}
	c, p, author, err := s.own(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !author {
		return nil, parley.Errorf(parley.EForbidden, "Only the author can edit a comment.")
	}
	k, prior, err := s.idempotency(ctx, a, p.SiteID, "edit", map[string]any{"id": id, "text": text})
	if err != nil {
		return nil, err
	} else if prior != nil {
		return replayPost(prior)
	}
	sanction, err := s.restrictions(ctx, a, p.SiteID)
	if err != nil {
		return nil, err
	}
	if c.Status == parley.StatusDeleted || c.Status == parley.StatusRejected {
		return nil, parley.Errorf(parley.EForbidden, "This comment can no longer be edited.")
	}
	if s.now().Sub(c.Created) > s.EditWindow {
		return nil, parley.Errorf(parley.EForbidden, "Comments can be edited for %s after posting.", s.EditWindow)
	}
	site, err := s.Site(ctx, p.SiteID)
	if err != nil {
		return nil, err
	}
	if closed, err := s.closed(site, p); err != nil {
		return nil, err
	} else if closed {
		return nil, parley.Errorf(parley.EForbidden, "Comments are closed on this page.")
	}
	d := &draft{site: site, page: p, text: text, sanction: sanction}
	if c.QuoteID != 0 {
		if q, err := s.store.Comment(ctx, c.QuoteID); err == nil {
			d.quote = q
		}
	}
	dec, err := s.decide(ctx, a, d)
	if err != nil {
		return nil, err
	}
	// An edit is not a duplicate of the comment it edits, nor flooding.
	dec = withoutRules(dec, "duplicate", "flood")
	at, html := s.now(), s.render.Render(text)
	res := &PostResult{Decision: dec, Message: moderation.AuthorMessage(dec), Quote: d.quote}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := tx.EditComment(id, text, html, at); err != nil {
			return err
		}
		// The edit can only make moderation stricter: an approved comment
		// may be held, a held one stays held until a moderator decides.
		if dec.Status != parley.StatusApproved && c.Status == parley.StatusApproved {
			if _, err := tx.SetStatus(id, dec.Status, dec.Reasons, false); err != nil {
				return err
			}
		}
		var err error
		if res.Comment, err = tx.Comment(id); err != nil {
			return err
		}
		return k.save(tx, res, nil)
	})
	if prior, perr := k.raced(ctx, s, err); prior != nil || perr != nil {
		if perr != nil {
			return nil, perr
		}
		return replayPost(prior)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// withoutRules drops reasons by rule id and recomputes the status from the rest.
func withoutRules(d parley.Decision, rules ...string) parley.Decision {
	out := parley.Decision{Status: parley.StatusApproved, Toxicity: d.Toxicity}
	for _, r := range d.Reasons {
		drop := false
		for _, x := range rules {
			drop = drop || r.Rule == x
		}
		if drop {
			continue
		}
		out.Reasons = append(out.Reasons, r)
	}
	if len(out.Reasons) == len(d.Reasons) {
		return d
	}
	// Recompute: any remaining reason keeps the original strictness only if
	// rejection came from a remaining rule; be conservative and hold.
	if len(out.Reasons) > 0 {
		out.Status = parley.StatusPending
		if d.Status == parley.StatusRejected {
			for _, r := range out.Reasons {
				if moderation.Rejects(r.Rule) {
					out.Status = parley.StatusRejected
				}
			}
		}
	}
	return out
}

// Delete removes a comment: its author or a moderator of its site may.
func (s *Service) Delete(ctx context.Context, a Actor, id int64) error {
	c, p, author, err := s.own(ctx, a, id)
	if err != nil {
		return err
	}
	// With an Idempotency-Key the key commits with the deletion, so the
	// same key for another comment is refused; a repeated deletion writes
	// and audits nothing anyway.
	_, _, err = once(ctx, s, a, p.SiteID, "delete", map[string]int64{"comment": id}, func(k *keyed) (*struct{}, error) {
		return nil, s.delete1(ctx, a, c, p, author, k)
	})
	return err
}

// delete1 is Delete's write, once it has checked the actor may delete c:
// it saves its outcome under k in its unit.
func (s *Service) delete1(ctx context.Context, a Actor, c *parley.Comment, p *parley.Page, author bool, k *keyed) error {
	id := c.ID
	if c.Status == parley.StatusDeleted {
		return nil
	}
	var entry *store.Action
	var err error
	if !author {
		// A moderator removed it: that goes in the audit log, with it.
		entry, err = s.entry(a, store.Action{Action: AuditDelete, CommentID: id, UserID: c.AuthorID, SiteID: p.SiteID},
			map[string]any{"status": c.Status}, map[string]any{"status": parley.StatusDeleted})
		if err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.SetStatus(id, parley.StatusDeleted, c.Reasons, false); err != nil {
			return err
		}
		if entry != nil {
			if err := tx.AddAction(entry); err != nil {
				return err
			}
		}
		return k.save(tx, struct{}{}, nil)
	})
}

// Vote records the reader's vote (+1, -1, or 0 to withdraw) and returns the
// comment's new score.
func (s *Service) Vote(ctx context.Context, a Actor, id int64, value int) (int, *parley.User, error) {
	if value < -1 || value > 1 {
		return 0, nil, parley.Errorf(parley.EInvalid, "value must be 1, 0 or -1")
	}
	c, err := s.store.Comment(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	if c.Status != parley.StatusApproved {
		return 0, nil, parley.Errorf(parley.EForbidden, "Only published comments can be voted on.")
	}
	if a.User != nil && a.User.ID == c.AuthorID {
		return 0, nil, parley.Errorf(parley.EForbidden, "You cannot vote on your own comment.")
	}
	var k *keyed
	if a.User != nil || a.IdempotencyKey != "" {
		p, err := s.store.PageByID(ctx, c.PageID)
		if err != nil {
			return 0, nil, err
		}
		if a.User != nil {
			if _, err := s.restrictions(ctx, a, p.SiteID); err != nil {
				return 0, nil, err
			}
		}
		var prior []byte
		if k, prior, err = s.idempotency(ctx, a, p.SiteID, "vote", [2]int64{id, int64(value)}); err != nil {
			return 0, nil, err
		} else if prior != nil {
			return replayVote(prior)
		}
	}
	created, _, err := s.reader(&a, "")
	if err != nil {
		return 0, nil, err
	}
	var score int
	err = s.update(ctx, func(tx store.Tx) error {
		if err := writeReader(tx, created, nil); err != nil {
			return err
		}
		var err error
		if score, err = tx.Vote(parley.Vote{CommentID: id, UserID: a.User.ID, Value: value}); err != nil {
			return err
		}
		return k.save(tx, voteOutcome{Score: score, NewUser: created}, created)
	})
	if prior, perr := k.raced(ctx, s, err); prior != nil || perr != nil {
		if perr != nil {
			return 0, nil, perr
		}
		return replayVote(prior)
	}
	if err != nil {
		return 0, nil, err
	}
	return score, created, nil
}

// replayVote decodes the stored outcome of a vote.
func replayVote(prior []byte) (int, *parley.User, error) {
	var out voteOutcome
	if err := replay(prior, &out); err != nil {
		return 0, nil, err
	}
	return out.Score, out.NewUser, nil
}

// ReportInput is a reader's "Report abuse".
type ReportInput struct {
	Reason string
	Note   string
}

// Report records a reader's report of a comment; a repeated report by the
// same reader counts once. When distinct readers' reports reach the site's
// threshold, the comment is held for a moderator.
func (s *Service) Report(ctx context.Context, a Actor, id int64, in ReportInput) (*parley.User, error) {
	if !parley.ValidReportReason(in.Reason) {
		return nil, parley.Errorf(parley.EInvalid, "reason must be one of %v", parley.ReportReasons)
	}
	note, err := checkNote("note", in.Note, MaxNoteRunes)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Comment(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != parley.StatusApproved && c.Status != parley.StatusPending {
		return nil, parley.Errorf(parley.EInvalid, "This comment is no longer shown.")
	}
	p, err := s.store.PageByID(ctx, c.PageID)
	if err != nil {
		return nil, err
	}
	if _, err := s.restrictions(ctx, a, p.SiteID); err != nil {
		return nil, err
	}
	k, prior, err := s.idempotency(ctx, a, p.SiteID, "report", map[string]any{"id": id, "reason": in.Reason, "note": note})
	if err != nil {
		return nil, err
	} else if prior != nil {
		return replayReport(prior)
	}
	created, _, err := s.reader(&a, "")
	if err != nil {
		return nil, err
	}
	if a.User.ID == c.AuthorID {
		return nil, parley.Errorf(parley.EInvalid, "You cannot report your own comment.")
	}
	r := &parley.Report{CommentID: id, ReporterID: a.User.ID, Reason: in.Reason, Note: note, Created: s.now()}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := writeReader(tx, created, nil); err != nil {
			return err
		}
		isNew, err := tx.AddReport(r)
		if err != nil {
			return err
		}
		if isNew {
			// For webhooks; no PageID, so readers' streams do not hear it.
			if err := tx.Record(parley.Event{Type: parley.EventReportCreated, SiteID: p.SiteID, CommentID: id}); err != nil {
				return err
			}
		}
		return k.save(tx, reportOutcome{NewUser: created}, created)
	})
	if prior, perr := k.raced(ctx, s, err); prior != nil || perr != nil {
		if perr != nil {
			return nil, perr
		}
		return replayReport(prior)
	}
	if err != nil {
		return nil, err
	}
	// The threshold weighs the reports as stored, this one with them: a
	// unit of its own, which a crash between the two leaves undone until
	// the next report (the report itself is kept).
	if err := s.applyReportThreshold(ctx, c); err != nil {
		return created, err
	}
	return created, nil
}

// replayReport decodes the stored outcome of a report.
func replayReport(prior []byte) (*parley.User, error) {
	var out reportOutcome
	if err := replay(prior, &out); err != nil {
		return nil, err
	}
	return out.NewUser, nil
}
