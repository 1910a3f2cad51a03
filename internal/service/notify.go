package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/mail"
	"github.com/parleyhq/parley/internal/store"
)

// E-mail (issue 12). The event log is the outbox here too: Notifier.Consume,
// a durable consumer of the log (events.Broker.Durable), turns the events
// that concern someone's inbox into rows of the mail queue, written in one
// unit of work per batch of events; Notifier.Run, the sender, claims due
// rows, renders and sends them, and marks them sent right after the SMTP
// server accepted them. So:
//
//   - a write and its notification cannot disagree: the notification is
//     queued from the committed event, never from the request;
//   - an event delivered again (the consumer failed or the process died
//     before storing its position) queues nothing twice: each message has
//     a key (reply:COMMENT:READER) that the queue accepts once;
//   - an SMTP outage loses nothing: a failed send stays queued and is
//     tried again with exponential backoff;
//   - a message the server accepted is marked sent at once, before the
//     SMTP session is closed (AcceptedMailer), and never taken again; a
//     failure after the acceptance (RSET, QUIT) does not send it again.
//     The one window left is a crash between the server's reply to DATA
//     and that mark: the message then goes out twice with the same
//     Message-ID. SMTP cannot close that window (RFC 1047: the client
//     cannot ask the server whether it holds a message, and a client that
//     marked before sending would lose the message instead), so delivery
//     is at least once, at most one message twice per crash (the sender
//     sends one group at a time), always with the same Message-ID, by
//     which mail stores fold duplicates.
//
// Messages of one group (a reader's replies on one page) are sent at most
// once per interval: the first at once, the rest gathered into one digest
// when the interval has passed.

// MailKeep is how long a sent message stays in the queue (its key keeps
// an event read again from being sent again) before it is pruned.
const MailKeep = 30 * 24 * time.Hour

// Mail kinds.
const (
	MailReply   = "reply"
	MailConfirm = "confirm"
	MailSignIn  = "signin"
	MailAlert   = "alert"
)

// Mailer sends one message; *mail.SMTP is the real one.
type Mailer interface {
	Send(ctx context.Context, m *mail.Message) error
}

// AcceptedMailer is a Mailer that reports a message accepted as soon as
// the server replied to its data, before the session ends
// (*mail.SMTP.SendAccepted): the notifier marks it sent there, which
// leaves the least time in which a crash sends it twice.
type AcceptedMailer interface {
	SendAccepted(ctx context.Context, m *mail.Message, accepted func()) error
}

// Notifier queues and sends Parley's e-mail. Its zero configuration sends
// nothing: without a Mailer, Enabled is false and Consume queues nothing.
type Notifier struct {
	svc    *Service
	mailer Mailer
	from   string
	base   string // public base URL, for links
	key    []byte // signs unsubscribe links

	// ReplyInterval is the least time between two reply messages to one
	// reader about one page; default one hour.
	ReplyInterval time.Duration
	// AlertInterval is the least time between two alerts of one
	// condition to one moderator; default one hour (alerts.go).
	AlertInterval time.Duration
	// QueueSize and QueueAge are the limits of a site's queue of held
	// comments over which its moderators are alerted; 0 for none.
	QueueSize int
	QueueAge  time.Duration
	// Lease is how long a claimed message is kept from other senders
	// (and, after a crash, from this instance's next start); default one
	// minute. A batch that takes half of it returns the rest.
	Lease time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed send:
	// MinBackoff doubled for each attempt, at most MaxBackoff. Defaults
	// 30 s and 1 h.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the sender looks for due messages when not
	// nudged; default 5 s.
	Poll time.Duration
	// Batch bounds the messages claimed at once; default 100.
	Batch  int
	Logger *slog.Logger

	nudge chan struct{}
	ipMu  sync.Mutex
	ips   map[string][]time.Time // sign-in requests per IP hash (links.go)
}

// NewNotifier returns a Notifier sending with m from the address from
// ("Name <addr>"), with links under baseURL, unsubscribe links signed with
// key. m nil disables e-mail.
func NewNotifier(svc *Service, m Mailer, from, baseURL string, key []byte) *Notifier {
	return &Notifier{
		svc: svc, mailer: m, from: from, base: strings.TrimRight(baseURL, "/"), key: key,
		ReplyInterval: time.Hour, AlertInterval: time.Hour, Lease: time.Minute,
		MinBackoff: 30 * time.Second, MaxBackoff: time.Hour,
		Poll: 5 * time.Second, Batch: 100,
		Logger: slog.New(slog.DiscardHandler),
		nudge:  make(chan struct{}, 1),
		ips:    make(map[string][]time.Time),
	}
}

// Enabled reports whether Parley sends e-mail (--smtp-url and --mail-from
// were given).
func (n *Notifier) Enabled() bool { return n != nil && n.mailer != nil }

// Nudge tells the sender that messages were queued. It never blocks.
func (n *Notifier) Nudge() {
	select {
	case n.nudge <- struct{}{}:
	default:
	}
}

// mailData is what a queued message is rendered from. Every string in it
// may be a user's: the templates escape them.
type mailData struct {
	Site      string `json:"site,omitempty"`
	PageID    int64  `json:"page_id,omitempty"`
	PageURL   string `json:"page_url,omitempty"`
	PageTitle string `json:"page_title,omitempty"`
	CommentID int64  `json:"comment_id,omitempty"`
	Author    string `json:"author,omitempty"`
	Excerpt   string `json:"excerpt,omitempty"`
	Link      string `json:"link,omitempty"` // a confirmation or sign-in link
	Alert     string `json:"alert,omitempty"`
	Detail    string `json:"detail,omitempty"`
	At        int64  `json:"at,omitempty"` // Unix seconds
}

// excerptRunes bounds a comment's text quoted in a message.
const excerptRunes = 280

func excerpt(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > excerptRunes {
		return strings.TrimSpace(string(r[:excerptRunes])) + "…"
	}
	return s
}

// Consume is the durable consumer of the event log ("mail"): a comment
// that became visible (comment.created, on posting when approved at once,
// or when a moderator approves a held one) queues a reply notification to
// the author of its parent, when they left an address, want replies, and
// did not write the reply themselves. A held comment raises no
// comment.created until approved, and a rejected one never does, so
// neither reaches an inbox. Every message of the batch is queued in one
// unit of work.
func (n *Notifier) Consume(ctx context.Context, evs []parley.Event) error {
	if !n.Enabled() {
		return nil
	}
	var queue []*store.QueuedMail
	for _, ev := range evs {
		if ev.Type != parley.EventCommentCreated || ev.CommentID == 0 {
			continue
		}
		m, err := n.replyMail(ctx, ev.CommentID)
		if err != nil {
			return err
		}
		if m != nil {
			queue = append(queue, m)
		}
	}
	alerts, err := n.alertsOf(ctx, evs)
	if err != nil {
		return err
	}
	return n.enqueue(ctx, append(queue, alerts...))
}

// replyMail returns the notification of the reply id, nil when nobody is
// to be told.
func (n *Notifier) replyMail(ctx context.Context, id int64) (*store.QueuedMail, error) {
	st := n.svc.store
	c, err := st.Comment(ctx, id)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if c.Status != parley.StatusApproved || c.ParentID == 0 {
		return nil, nil
	}
	parent, err := st.Comment(ctx, c.ParentID)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if parent.AuthorID == "" || parent.AuthorID == c.AuthorID || parent.Status == parley.StatusDeleted {
		return nil, nil
	}
	users, err := st.Users(ctx, []string{parent.AuthorID})
	if err != nil {
		return nil, err
	}
	to := users[parent.AuthorID]
	if to == nil || to.Email == "" {
		return nil, nil
	}
	prefs, err := st.MailPrefs(ctx, []string{to.ID})
	if err != nil {
		return nil, err
	}
	if prefs[to.ID].NoReplies {
		return nil, nil
	}
	page, err := st.PageByID(ctx, c.PageID)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(mailData{
		Site: page.SiteID, PageID: page.ID, PageURL: page.URL, PageTitle: page.Title,
		CommentID: c.ID, Author: c.AuthorName, Excerpt: excerpt(c.Text), At: c.Created.Unix(),
	})
	if err != nil {
		return nil, err
	}
	return &store.QueuedMail{
		Key:   fmt.Sprintf("reply:%d:%s", c.ID, to.ID),
		Group: fmt.Sprintf("reply:%s:%d", to.ID, page.ID),
		Kind:  MailReply, UserID: to.ID, To: to.Email, Data: data,
		Created: n.svc.now(),
	}, nil
}

// interval is the least time between two messages of a group of kind.
func (n *Notifier) interval(kind string) time.Duration {
	switch kind {
	case MailReply:
		return n.ReplyInterval
	case MailAlert:
		return n.alertInterval()
	}
	return 0
}

// Run is the sender: it delivers due messages until ctx is done. It exits
// when ctx is done.
func (n *Notifier) Run(ctx context.Context) {
	if !n.Enabled() {
		return
	}
	t := time.NewTicker(n.Poll)
	defer t.Stop()
	queues := time.NewTicker(queueCheckEvery)
	defer queues.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		more, err := n.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			n.Logger.Warn("mail: the queue cannot be read", "error", err.Error())
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-n.nudge:
		case <-t.C:
		case <-prune.C:
			if _, err := n.svc.store.PruneMail(ctx, n.svc.now().Add(-MailKeep)); err != nil && ctx.Err() == nil {
				n.Logger.Warn("mail: cannot prune the queue", "error", err.Error())
			}
		case <-queues.C:
			if err := n.CheckQueues(ctx); err != nil && ctx.Err() == nil {
				n.Logger.Warn("mail: cannot check the moderation queues", "error", err.Error())
			}
		}
	}
}

// SendDue claims the messages due now and sends them, a group at a time;
// more reports that a full batch was claimed (there may be more).
func (n *Notifier) SendDue(ctx context.Context) (more bool, err error) {
	now := n.svc.now()
	claimed, err := n.svc.store.ClaimMail(ctx, now, n.Lease, n.Batch)
	if err != nil || len(claimed) == 0 {
		return false, err
	}
	var order []string
	groups := map[string][]*store.QueuedMail{}
	var named []string
	for _, m := range claimed {
		g := m.Group
		if g == "" {
			g = "#" + strconv.FormatInt(m.ID, 10)
		} else if _, ok := groups[g]; !ok {
			named = append(named, g)
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], m)
	}
	last, err := n.svc.store.LastMailSent(ctx, named)
	if err != nil {
		return false, err
	}
	for i, g := range order {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if n.svc.now().Sub(now) > n.Lease/2 {
			// Half the lease is gone (a slow server): the rest goes
			// back to the queue now, before another sender could take
			// it while this one still sends.
			var rest []int64
			for _, g := range order[i:] {
				rest = append(rest, mailIDs(groups[g])...)
			}
			return true, n.svc.store.RetryMail(context.WithoutCancel(ctx), rest, n.svc.now(), "")
		}
		ms := groups[g]
		ids := mailIDs(ms)
		if at, ok := last[g]; ok {
			if next := at.Add(n.groupInterval(ms[0])); next.After(now) {
				// Too soon after the last one: gathered into a
				// digest sent when the interval is over.
				if err := n.svc.store.RetryMail(ctx, ids, next, ""); err != nil {
					return false, err
				}
				continue
			}
		}
		if retry, failed := n.deliver(ctx, ms, ids); failed {
			// The server refused or cannot be reached: the rest of the
			// batch waits as long as this message, instead of each
			// failing (and logging) in turn.
			var rest []int64
			for _, g := range order[i+1:] {
				rest = append(rest, mailIDs(groups[g])...)
			}
			if err := n.svc.store.RetryMail(context.WithoutCancel(ctx), rest, retry, ""); err != nil {
				return false, err
			}
			return false, nil
		}
	}
	return len(claimed) >= n.Batch, nil
}

func mailIDs(ms []*store.QueuedMail) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// deliver renders and sends one group and records the outcome; after a
// failed send it reports when the group is tried again.
func (n *Notifier) deliver(ctx context.Context, ms []*store.QueuedMail, ids []int64) (retry time.Time, failed bool) {
	st := n.svc.store
	msg, err := n.render(ms)
	if err != nil { // a bug or a damaged row: it would fail for ever
		n.Logger.Error("mail: a queued message cannot be rendered", "mail_id", ms[0].ID, "error", err.Error())
		st.RetryMail(ctx, ids, n.svc.now().Add(n.MaxBackoff), err.Error())
		return time.Time{}, false
	}
	marked := false
	mark := func() {
		// Marked at once: a message the server accepted is never taken
		// again. The write gets a context of its own so that a shutdown
		// arriving now cannot leave it unmarked.
		marked = true
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := st.MarkMailSent(mctx, ids, n.svc.now(), msg.MessageID); err != nil {
			n.Logger.Error("mail: sent but not marked sent; it may go out again after the lease", "mail_id", ms[0].ID, "error", err.Error())
		}
	}
	if am, ok := n.mailer.(AcceptedMailer); ok {
		err = am.SendAccepted(ctx, msg, mark) // marked before the session's end
	} else {
		err = n.mailer.Send(ctx, msg)
	}
	if err == nil || marked {
		if !marked {
			mark()
		}
		return time.Time{}, false
	}
	reason := scrubAddress(err.Error(), ms[0].To)
	if mail.Permanent(err) {
		// Refused for good (no such mailbox, the content refused): given
		// up, so that it neither comes back nor holds back the rest.
		n.Logger.Warn("mail: refused for good; given up", "mail_id", ms[0].ID, "kind", ms[0].Kind, "error", reason)
		if err := st.GiveUpMail(context.WithoutCancel(ctx), ids, n.svc.now(), reason); err != nil {
			n.Logger.Warn("mail: cannot record a message given up", "mail_id", ms[0].ID, "error", err.Error())
		}
		return time.Time{}, false
	}
	attempts := ms[0].Attempts
	wait := n.MinBackoff << min(attempts, 20)
	if wait <= 0 || wait > n.MaxBackoff {
		wait = n.MaxBackoff
	}
	n.Logger.Warn("mail: send failed; retrying", "mail_id", ms[0].ID, "attempts", attempts+1, "retry_in", wait.String(), "error", reason)
	retry = n.svc.now().Add(wait)
	if err := st.RetryMail(context.WithoutCancel(ctx), ids, retry, reason); err != nil {
		n.Logger.Warn("mail: cannot record a failed send", "mail_id", ms[0].ID, "error", err.Error())
	}
	return retry, true
}

// scrubAddress keeps an e-mail address out of a logged error.
func scrubAddress(s, addr string) string {
	if addr == "" {
		return s
	}
	return strings.ReplaceAll(s, addr, "<recipient>")
}

// messageID is the Message-ID of the message of a group whose first
// queued row is id: the same on every attempt.
func (n *Notifier) messageID(id int64) string {
	host := "parley.invalid"
	if u, err := url.Parse(n.base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return fmt.Sprintf("parley-mail-%d.%s@%s", id, n.sign("message-id", strconv.FormatInt(id, 10))[:8], host)
}

// sign is an HMAC of the parts under the notifier's key, base64url.
func (n *Notifier) sign(parts ...string) string {
	m := hmac.New(sha256.New, n.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// UnsubscribeURL is the one-click unsubscribe link of user from the kind
// of message (MailReply or MailAlert).
func (n *Notifier) UnsubscribeURL(userID, kind string) string {
	q := url.Values{"u": {userID}, "k": {kind}, "s": {n.sign("unsubscribe", userID, kind)}}
	return n.base + "/api/v1/mail/unsubscribe?" + q.Encode()
}

// Unsubscribe turns off the kind of message for user, when sig is the
// signature of an unsubscribe link. EForbidden for a bad signature.
func (n *Notifier) Unsubscribe(ctx context.Context, userID, kind, sig string) error {
	if kind != MailReply && kind != MailAlert || !hmac.Equal([]byte(sig), []byte(n.sign("unsubscribe", userID, kind))) {
		return parley.Errorf(parley.EForbidden, "this unsubscribe link is not valid")
	}
	prefs, err := n.svc.store.MailPrefs(ctx, []string{userID})
	if err != nil {
		return err
	}
	p := prefs[userID]
	p.Updated = time.Time{}
	switch kind {
	case MailReply:
		p.NoReplies = true
	case MailAlert:
		p.NoAlerts = true
	}
	err = n.svc.store.SetMailPrefs(ctx, p)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil // the reader was erased: nothing is sent to them anyway
	}
	return err
}

// Backlog reports how many messages are queued and not yet sent, and
// whether the consumer has read the event log to its end: for tests and
// health checks.
func (n *Notifier) Backlog(ctx context.Context) (queued int, caughtUp bool, err error) {
	st := n.svc.store
	pos, err := st.ConsumerPosition(ctx, "mail")
	if err != nil && parley.ErrorCode(err) != parley.ENotFound {
		return 0, false, err
	}
	last, err := st.LastEventID(ctx)
	if err != nil {
		return 0, false, err
	}
	queued, _, err = st.MailCounts(ctx)
	return queued, pos >= last, err
}
