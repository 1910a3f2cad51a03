package store

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// Mail is the persistence of Parley's outbound e-mail (issue 12): the
// queue of messages the sender delivers, readers' notification settings,
// and the single-use tokens of confirmation and sign-in links. Store
// embeds it; the queue is written in units of work (Tx.EnqueueMail) by
// the durable consumer of the event log, so a notification is queued
// exactly when the write it tells of commits.
type Mail interface {
	// ClaimMail takes the messages due for sending at now: every unsent
	// message whose NextTry is at or before now, with every other unsent
	// message of their groups (a digest is sent as one): about limit
	// due messages, oldest first, and the rest of their groups. It moves their NextTry to now+lease, so that
	// another instance's sender does not take them too while this one
	// sends; a sender that dies leaves them to be claimed again after
	// the lease.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*QueuedMail, error)
	// LastMailSent returns, for each of the groups, when a message of the
	// group was last sent; groups never sent are absent.
	LastMailSent(ctx context.Context, groups []string) (map[string]time.Time, error)
	// MarkMailSent records that the messages were accepted by the SMTP
	// server at the time, as the message messageID. Messages marked sent
	// are never claimed again.
	MarkMailSent(ctx context.Context, ids []int64, at time.Time, messageID string) error
	// RetryMail moves the unsent messages' next try to next; with a
	// non-empty failure it also counts an attempt and records the failure
	// (which must name no secret).
	RetryMail(ctx context.Context, ids []int64, next time.Time, failure string) error
	// PruneMail deletes the messages sent before the time and the link
	// tokens that expired before it, and returns how many rows it deleted.
	PruneMail(ctx context.Context, before time.Time) (int, error)
	// GiveUpMail records that the SMTP server refused the unsent messages
	// for good at the time (a permanent answer for their recipient or
	// their content), with the failure (which must name no secret): they
	// are never claimed again, are not counted as queued, and are pruned
	// like sent ones.
	GiveUpMail(ctx context.Context, ids []int64, at time.Time, failure string) error
	// MailCounts returns how many messages are queued (unsent and not
	// given up) and sent.
	MailCounts(ctx context.Context) (queued, sent int, err error)

	// MailPrefs returns the notification settings of each of the users,
	// the zero MailPrefs (with UserID set) for those who never changed
	// them.
	MailPrefs(ctx context.Context, userIDs []string) (map[string]MailPrefs, error)
	// SetMailPrefs stores a user's notification settings. ENotFound when
	// the user does not exist.
	SetMailPrefs(ctx context.Context, p MailPrefs) error

	// MailToken returns a link's token by its hash, used and expired ones
	// included (the caller judges them). ENotFound.
	MailToken(ctx context.Context, hash string) (*MailToken, error)
	// MailTokensSince counts the tokens of the kind created at or after
	// since for the address (exactly as stored: the service lower-cases).
	MailTokensSince(ctx context.Context, kind, email string, since time.Time) (int, error)
	// UsersByEmail returns the users whose e-mail address is email,
	// exactly as stored, oldest first.
	UsersByEmail(ctx context.Context, email string) ([]*parley.User, error)
}

// MailTx is the part of a unit of work (Tx) that writes mail.
type MailTx interface {
	// EnqueueMail queues a message and assigns its ID; a message whose
	// Key was queued before (sent or not) is not queued again, and
	// EnqueueMail returns false with no error.
	EnqueueMail(m *QueuedMail) (bool, error)
	// SetMailPrefs stores a user's notification settings. ENotFound.
	SetMailPrefs(p MailPrefs) error
	// CreateMailToken stores a new link token. EConflict when its hash
	// exists.
	CreateMailToken(t *MailToken) error
	// UseMailToken marks the token used at the time: EConflict when it
	// was used before (by anyone, on any instance), ENotFound when there
	// is no such token.
	UseMailToken(hash string, at time.Time) error
}

// QueuedMail is one message of the mail queue. Data is what the sender
// renders the message from (a JSON object owned by the service), so a
// digest can gather several queued messages into one.
type QueuedMail struct {
	ID        int64
	Key       string // unique: the same notification is queued once
	Group     string // messages of a group are sent together, at most once per interval; "" for none
	Kind      string // e.g. "reply", "confirm", "signin", "alert"
	UserID    string // the recipient's user, "" for none
	To        string // the recipient's address
	Data      []byte
	Created   time.Time // set when zero
	NextTry   time.Time // when the sender may take it; Created when zero
	Attempts  int
	LastError string
	Sent      time.Time // zero until the SMTP server accepted it
	MessageID string
	Failed    time.Time // when it was given up (GiveUpMail); zero for none
}

// MailPrefs are a user's e-mail settings; the zero value is the default
// (reply notifications on, moderator alerts on, one by one).
type MailPrefs struct {
	UserID      string
	NoReplies   bool // no reply notifications
	NoAlerts    bool // no moderator alerts
	AlertDigest bool // moderator alerts gathered into one message a day
	Updated     time.Time
}

// MailToken is the token of a link sent by e-mail: a confirmation of an
// address or a sign-in. Only a hash of the token is stored.
type MailToken struct {
	Hash    string
	Kind    string // "confirm" or "signin"
	UserID  string // the reader the link signs in or confirms for; "" for none
	Email   string
	Browser string // a hash of the cookie of the browser that asked; "" for any
	Created time.Time
	Expires time.Time
	Used    time.Time // zero until used
}

// SortMail orders claimed messages by id, as ClaimMail returns them.
func SortMail(ms []*QueuedMail) {
	slices.SortFunc(ms, func(a, b *QueuedMail) int { return cmp.Compare(a.ID, b.ID) })
}
