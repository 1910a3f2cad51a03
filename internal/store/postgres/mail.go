package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

const mailCols = `id, key, grp, kind, user_id, rcpt, data, created, next_try, attempts, last_error, sent, message_id, failed`

func scanMail(sc interface{ Scan(...any) error }) (*store.QueuedMail, error) {
	var m store.QueuedMail
	var sent, failed *time.Time
	if err := sc.Scan(&m.ID, &m.Key, &m.Group, &m.Kind, &m.UserID, &m.To, &m.Data, &m.Created, &m.NextTry,
		&m.Attempts, &m.LastError, &sent, &m.MessageID, &failed); err != nil {
		return nil, err
	}
	m.Created, m.NextTry = m.Created.UTC(), m.NextTry.UTC()
	if sent != nil {
		m.Sent = sent.UTC()
	}
	if failed != nil {
		m.Failed = failed.UTC()
	}
	return &m, nil
}

// EnqueueMail queues a message unless its key was queued before.
func (t *ptx) EnqueueMail(m *store.QueuedMail) (bool, error) {
	created := m.Created
	if created.IsZero() {
		created = t.db.now()
	}
	next := m.NextTry
	if next.IsZero() {
		next = created
	}
	data := m.Data
	if data == nil {
		data = []byte{}
	}
	var id int64
	err := t.QueryRow(t.ctx, `INSERT INTO mail_queue (key, grp, kind, user_id, rcpt, data, created, next_try)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING RETURNING id`,
		m.Key, m.Group, m.Kind, m.UserID, m.To, data, created, next).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, wrap(err, "enqueue mail")
	}
	m.ID, m.Created, m.NextTry = id, created, next
	return true, nil
}

// ClaimMail takes the messages due at now, with the rest of their groups.
// The due rows are locked with SKIP LOCKED, so two instances claiming at
// once take different messages.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.QueuedMail, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `WITH due AS (
			SELECT id, grp FROM mail_queue WHERE sent IS NULL AND failed IS NULL AND next_try <= $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE mail_queue m SET next_try = $1
		WHERE m.sent IS NULL AND m.failed IS NULL AND (m.id IN (SELECT id FROM due) OR (m.grp <> '' AND m.grp IN (SELECT grp FROM due WHERE grp <> '')))
		RETURNING `+mailCols, now.Add(lease), now, limit)
	if err != nil {
		return nil, wrap(err, "claim mail")
	}
	out, err := collect(rows, scanMail)
	if err != nil {
		return nil, wrap(err, "claim mail")
	}
	store.SortMail(out)
	return out, nil
}

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// LastMailSent returns when each group last had a message sent.
func (db *DB) LastMailSent(ctx context.Context, groups []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(groups))
	if len(groups) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT grp, max(sent) FROM mail_queue
		WHERE grp = ANY($1) AND sent IS NOT NULL GROUP BY grp`, groups)
	if err != nil {
		return nil, wrap(err, "last mail sent")
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var at time.Time
		if err := rows.Scan(&g, &at); err != nil {
			return nil, wrap(err, "last mail sent")
		}
		out[g] = at.UTC()
	}
	return out, wrap0(rows.Err(), "last mail sent")
}

// wrap0 is wrap that keeps nil.
func wrap0(err error, what string) error {
	if err == nil {
		return nil
	}
	return wrap(err, what)
}

// MarkMailSent records that the messages were accepted.
func (db *DB) MarkMailSent(ctx context.Context, ids []int64, at time.Time, messageID string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE mail_queue SET sent = $1, message_id = $2 WHERE id = ANY($3) AND sent IS NULL`,
		at, messageID, ids)
	return wrap0(err, "mark mail sent")
}

// RetryMail moves the unsent messages' next try, counting a failure.
func (db *DB) RetryMail(ctx context.Context, ids []int64, next time.Time, failure string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE mail_queue SET next_try = $1,
			attempts = attempts + CASE WHEN $2 = '' THEN 0 ELSE 1 END,
			last_error = CASE WHEN $2 = '' THEN last_error ELSE $2 END
		WHERE id = ANY($3) AND sent IS NULL AND failed IS NULL`, next, failure, ids)
	return wrap0(err, "retry mail")
}

// GiveUpMail records that the server refused the messages for good.
func (db *DB) GiveUpMail(ctx context.Context, ids []int64, at time.Time, failure string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE mail_queue SET failed = $1, attempts = attempts + 1, last_error = $2
		WHERE id = ANY($3) AND sent IS NULL AND failed IS NULL`, at, failure, ids)
	return wrap0(err, "give up mail")
}

// MailCounts returns how many messages are queued and sent.
func (db *DB) MailCounts(ctx context.Context) (queued, sent int, err error) {
	err = db.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE sent IS NULL AND failed IS NULL), count(*) FILTER (WHERE sent IS NOT NULL) FROM mail_queue`).
		Scan(&queued, &sent)
	if err != nil {
		return 0, 0, wrap(err, "mail counts")
	}
	return queued, sent, nil
}

// MailPrefs returns the users' notification settings.
func (db *DB) MailPrefs(ctx context.Context, userIDs []string) (map[string]store.MailPrefs, error) {
	out := make(map[string]store.MailPrefs, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	for _, id := range userIDs {
		out[id] = store.MailPrefs{UserID: id}
	}
	rows, err := db.pool.Query(ctx, `SELECT user_id, no_replies, no_alerts, alert_digest, updated FROM mail_prefs WHERE user_id = ANY($1)`, userIDs)
	if err != nil {
		return nil, wrap(err, "mail prefs")
	}
	defer rows.Close()
	for rows.Next() {
		var p store.MailPrefs
		if err := rows.Scan(&p.UserID, &p.NoReplies, &p.NoAlerts, &p.AlertDigest, &p.Updated); err != nil {
			return nil, wrap(err, "mail prefs")
		}
		p.Updated = p.Updated.UTC()
		out[p.UserID] = p
	}
	return out, wrap0(rows.Err(), "mail prefs")
}

// SetMailPrefs stores a user's notification settings.
func (db *DB) SetMailPrefs(ctx context.Context, p store.MailPrefs) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.SetMailPrefs(p) })
	return err
}

// SetMailPrefs stores a user's notification settings in the unit.
func (t *ptx) SetMailPrefs(p store.MailPrefs) error {
	updated := p.Updated
	if updated.IsZero() {
		updated = t.db.now()
	}
	_, err := t.Exec(t.ctx, `INSERT INTO mail_prefs (user_id, no_replies, no_alerts, alert_digest, updated) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id) DO UPDATE SET no_replies = excluded.no_replies, no_alerts = excluded.no_alerts,
			alert_digest = excluded.alert_digest, updated = excluded.updated`,
		p.UserID, p.NoReplies, p.NoAlerts, p.AlertDigest, updated)
	if err != nil {
		return domainError(err, "store mail prefs", "user %q not found", p.UserID)
	}
	return nil
}

// CreateMailToken stores a new link token in the unit.
func (t *ptx) CreateMailToken(tok *store.MailToken) error {
	created := tok.Created
	if created.IsZero() {
		created = t.db.now()
	}
	_, err := t.Exec(t.ctx, `INSERT INTO mail_tokens (hash, kind, user_id, email, browser, created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		tok.Hash, tok.Kind, tok.UserID, tok.Email, tok.Browser, created, tok.Expires)
	if err != nil {
		return domainError(err, "store mail token", "the token exists")
	}
	tok.Created = created
	return nil
}

// UseMailToken marks a token used, once.
func (t *ptx) UseMailToken(hash string, at time.Time) error {
	var used *time.Time
	err := t.QueryRow(t.ctx, `WITH u AS (UPDATE mail_tokens SET used = $1 WHERE hash = $2 AND used IS NULL RETURNING used)
		SELECT (SELECT used FROM u) FROM mail_tokens WHERE hash = $2`, at, hash).Scan(&used)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "no such link")
	} else if err != nil {
		return wrap(err, "use mail token")
	}
	if used == nil {
		return parley.Errorf(parley.EConflict, "the link was used before")
	}
	return nil
}

// MailToken returns a link token by its hash.
func (db *DB) MailToken(ctx context.Context, hash string) (*store.MailToken, error) {
	var t store.MailToken
	var used *time.Time
	err := db.pool.QueryRow(ctx, `SELECT hash, kind, user_id, email, browser, created, expires, used FROM mail_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.Kind, &t.UserID, &t.Email, &t.Browser, &t.Created, &t.Expires, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "no such link")
	} else if err != nil {
		return nil, wrap(err, "read mail token")
	}
	t.Created, t.Expires = t.Created.UTC(), t.Expires.UTC()
	if used != nil {
		t.Used = used.UTC()
	}
	return &t, nil
}

// MailTokensSince counts an address's recent tokens of a kind.
func (db *DB) MailTokensSince(ctx context.Context, kind, email string, since time.Time) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM mail_tokens WHERE email = $1 AND kind = $2 AND created >= $3`,
		email, kind, since).Scan(&n)
	if err != nil {
		return 0, wrap(err, "count mail tokens")
	}
	return n, nil
}

// UsersByEmail returns the users with the address, oldest first.
func (db *DB) UsersByEmail(ctx context.Context, email string) ([]*parley.User, error) {
	if email == "" {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE email = $1 ORDER BY created, id`, email)
	if err != nil {
		return nil, wrap(err, "read users by email")
	}
	out, err := collect(rows, func(sc interface{ Scan(...any) error }) (*parley.User, error) { return scanUser(sc) })
	return out, wrap0(err, "read users by email")
}

// PruneMail deletes old sent messages and expired tokens.
func (db *DB) PruneMail(ctx context.Context, before time.Time) (int, error) {
	var n int64
	for _, q := range []string{`DELETE FROM mail_queue WHERE sent < $1 OR failed < $1`, `DELETE FROM mail_tokens WHERE expires < $1`} {
		tag, err := db.pool.Exec(ctx, q, before)
		if err != nil {
			return int(n), wrap(err, "prune mail")
		}
		n += tag.RowsAffected()
	}
	return int(n), nil
}
