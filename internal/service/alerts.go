package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Moderator alerts: e-mail to a site's moderators (and the admins) when
// work needs them: a comment whose reports reach the site's threshold, a
// suspected brigade of reports, and a queue of held comments larger or
// older than the configured limits. Each condition is one group per
// moderator, sent at most once per AlertInterval (later alerts of it wait
// in a digest); a moderator who chose the daily digest gets every alert
// of a site in one message a day.

// Alert conditions.
const (
	AlertReports   = "reports"
	AlertBrigade   = "brigade"
	AlertQueueSize = "queue-size"
	AlertQueueAge  = "queue-age"
)

// alertDaily is the interval of the daily digest.
const alertDaily = 24 * time.Hour

// queueCheckEvery is how often the sender looks at the queues' age, which
// grows without any event.
const queueCheckEvery = time.Minute

// groupInterval is the least time between two messages of m's group.
func (n *Notifier) groupInterval(m *store.QueuedMail) time.Duration {
	if strings.HasPrefix(m.Group, "alertdaily:") {
		return alertDaily
	}
	return n.interval(m.Kind)
}

func (n *Notifier) alertInterval() time.Duration { return n.AlertInterval }

// alert is one condition found on a site.
type alert struct {
	site, cond, subject string // subject: what it is about, for the key (a comment id, a time bucket)
	title, detail       string
}

// alertMail queues an alert to each of the site's moderators who have an
// address and want alerts.
func (n *Notifier) alertMail(ctx context.Context, a alert) ([]*store.QueuedMail, error) {
	st := n.svc.store
	staff, err := st.UsersByRole(ctx, []string{parley.RoleModerator, parley.RoleAdmin})
	if err != nil {
		return nil, err
	}
	var to []*parley.User
	var ids []string
	for _, u := range staff {
		if u.Email != "" && (u.Role == parley.RoleAdmin || u.SiteID == "" || u.SiteID == a.site) {
			to = append(to, u)
			ids = append(ids, u.ID)
		}
	}
	if len(to) == 0 {
		return nil, nil
	}
	prefs, err := st.MailPrefs(ctx, ids)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(mailData{Site: a.site, Alert: a.title, Detail: a.detail,
		Link: n.base + "/admin/", At: n.svc.now().Unix()})
	if err != nil {
		return nil, err
	}
	var out []*store.QueuedMail
	for _, u := range to {
		p := prefs[u.ID]
		if p.NoAlerts {
			continue
		}
		group := fmt.Sprintf("alert:%s:%s:%s", a.site, a.cond, u.ID)
		if p.AlertDigest {
			group = fmt.Sprintf("alertdaily:%s:%s", a.site, u.ID)
		}
		out = append(out, &store.QueuedMail{
			Key:   fmt.Sprintf("alert:%s:%s:%s:%s", a.site, a.cond, a.subject, u.ID),
			Group: group, Kind: MailAlert, UserID: u.ID, To: u.Email, Data: data, Created: n.svc.now(),
		})
	}
	return out, nil
}

// reportAlerts looks at the reports of a comment whose queue changed.
func (n *Notifier) reportAlerts(ctx context.Context, commentID int64) ([]alert, error) {
	svc := n.svc
	c, err := svc.store.Comment(ctx, commentID)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	reports, err := svc.store.Reports(ctx, c.ID)
	if err != nil || len(reports) == 0 {
		return nil, err
	}
	var open []*parley.Report
	for _, r := range reports {
		if r.Outcome == "" {
			open = append(open, r)
		}
	}
	if len(open) == 0 {
		return nil, nil
	}
	p, err := svc.store.PageByID(ctx, c.PageID)
	if err != nil {
		return nil, err
	}
	site, err := svc.Site(ctx, p.SiteID)
	if err != nil {
		return nil, err
	}
	_, policy, err := svc.pipeline(site, p)
	if err != nil {
		return nil, err
	}
	ra, err := svc.assessReports(ctx, c, open)
	if err != nil {
		return nil, err
	}
	var out []alert
	where := fmt.Sprintf("Comment #%d by %s on %q (%s)", c.Number, c.AuthorName, p.Title, p.URL)
	if ra.Brigade.Suspected {
		bucket := n.svc.now().Truncate(n.AlertInterval).Unix()
		out = append(out, alert{site: p.SiteID, cond: AlertBrigade, subject: fmt.Sprintf("%s-%d", c.AuthorID, bucket),
			title: "Suspected report brigade", detail: where + ": " + ra.Brigade.Message})
	}
	if policy.ReportThreshold > 0 && ra.Weight+1e-9 >= float64(policy.ReportThreshold) {
		out = append(out, alert{site: p.SiteID, cond: AlertReports, subject: fmt.Sprint(c.ID),
			title:  "A comment was reported over the threshold",
			detail: fmt.Sprintf("%s: reported by %d readers, weighing %.2f (threshold %d)", where, ra.Reporters, ra.Weight, policy.ReportThreshold)})
	}
	return out, nil
}

// queueAlerts looks at a site's queue of held comments.
func (n *Notifier) queueAlerts(ctx context.Context, siteID string) ([]alert, error) {
	if n.QueueSize <= 0 && n.QueueAge <= 0 {
		return nil, nil
	}
	st := n.svc.store
	now := n.svc.now()
	bucket := fmt.Sprint(now.Truncate(n.AlertInterval).Unix())
	var out []alert
	counts, err := st.QueueCounts(ctx, siteID)
	if err != nil {
		return nil, err
	}
	held := counts[store.QueuePending]
	if n.QueueSize > 0 && held >= n.QueueSize {
		out = append(out, alert{site: siteID, cond: AlertQueueSize, subject: bucket,
			title:  fmt.Sprintf("%d comments are waiting for a moderator", held),
			detail: fmt.Sprintf("The queue of held comments has %d (the limit is %d).", held, n.QueueSize)})
	}
	if n.QueueAge > 0 && held > 0 {
		items, err := st.Queue(ctx, store.QueueQuery{SiteID: siteID, Queue: store.QueuePending, Limit: 1000})
		if err != nil {
			return nil, err
		}
		var oldest time.Time
		for _, it := range items {
			if oldest.IsZero() || it.Comment.Created.Before(oldest) {
				oldest = it.Comment.Created
			}
		}
		if age := now.Sub(oldest); !oldest.IsZero() && age >= n.QueueAge {
			out = append(out, alert{site: siteID, cond: AlertQueueAge, subject: bucket,
				title:  "Held comments have waited too long",
				detail: fmt.Sprintf("The oldest held comment has waited %s (the limit is %s).", age.Round(time.Minute), n.QueueAge)})
		}
	}
	return out, nil
}

// alertsOf returns the alerts the events raise: queue.changed of a
// comment (a report) or of a site.
func (n *Notifier) alertsOf(ctx context.Context, evs []parley.Event) ([]*store.QueuedMail, error) {
	var found []alert
	sites := map[string]bool{}
	seen := map[int64]bool{}
	for _, ev := range evs {
		if ev.Type != parley.EventQueueChanged || ev.SiteID == "" {
			continue
		}
		sites[ev.SiteID] = true
		if ev.CommentID != 0 && !seen[ev.CommentID] {
			seen[ev.CommentID] = true
			as, err := n.reportAlerts(ctx, ev.CommentID)
			if err != nil {
				return nil, err
			}
			found = append(found, as...)
		}
	}
	for site := range sites {
		as, err := n.queueAlerts(ctx, site)
		if err != nil {
			return nil, err
		}
		found = append(found, as...)
	}
	var out []*store.QueuedMail
	for _, a := range found {
		ms, err := n.alertMail(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// CheckQueues looks at every site's queue age and size (Run calls it
// every minute: a queue ages without events) and queues the alerts due.
func (n *Notifier) CheckQueues(ctx context.Context) error {
	if !n.Enabled() || (n.QueueSize <= 0 && n.QueueAge <= 0) {
		return nil
	}
	sites, err := n.svc.store.Sites(ctx)
	if err != nil {
		return err
	}
	var queue []*store.QueuedMail
	for _, s := range sites {
		as, err := n.queueAlerts(ctx, s.ID)
		if err != nil {
			return err
		}
		for _, a := range as {
			ms, err := n.alertMail(ctx, a)
			if err != nil {
				return err
			}
			queue = append(queue, ms...)
		}
	}
	return n.enqueue(ctx, queue)
}

// enqueue queues messages in one unit of work and wakes the sender.
func (n *Notifier) enqueue(ctx context.Context, queue []*store.QueuedMail) error {
	if len(queue) == 0 {
		return nil
	}
	if _, err := n.svc.store.Update(ctx, func(tx store.Tx) error {
		for _, m := range queue {
			if _, err := tx.EnqueueMail(m); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	n.Nudge()
	return nil
}

// StaffMail is a moderator's alert settings.
type StaffMail struct {
	Enabled bool
	Email   string
	Alerts  bool
	Digest  bool
}

// StaffMailSettings returns the signed-in moderator's alert settings.
func (n *Notifier) StaffMailSettings(ctx context.Context, a Actor) (StaffMail, error) {
	if a.User == nil || !a.User.IsStaff() {
		return StaffMail{Enabled: n.Enabled()}, nil // the admin token has no inbox
	}
	prefs, err := n.svc.store.MailPrefs(ctx, []string{a.User.ID})
	if err != nil {
		return StaffMail{}, err
	}
	p := prefs[a.User.ID]
	return StaffMail{Enabled: n.Enabled(), Email: a.User.Email, Alerts: !p.NoAlerts, Digest: p.AlertDigest}, nil
}

// SetStaffMail changes the signed-in moderator's alert settings; nil
// fields stay. EForbidden for the admin token.
func (n *Notifier) SetStaffMail(ctx context.Context, a Actor, alerts, digest *bool) (StaffMail, error) {
	if a.User == nil || !a.User.IsStaff() {
		return StaffMail{}, parley.Errorf(parley.EForbidden, "alert settings belong to a moderator's account")
	}
	prefs, err := n.svc.store.MailPrefs(ctx, []string{a.User.ID})
	if err != nil {
		return StaffMail{}, err
	}
	p := prefs[a.User.ID]
	p.Updated = time.Time{}
	if alerts != nil {
		p.NoAlerts = !*alerts
	}
	if digest != nil {
		p.AlertDigest = *digest
	}
	if err := n.svc.store.SetMailPrefs(ctx, p); err != nil {
		return StaffMail{}, err
	}
	return n.StaffMailSettings(ctx, a)
}
