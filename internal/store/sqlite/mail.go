package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

const mailCols = `id, key, grp, kind, user_id, rcpt, data, created, next_try, attempts, last_error, sent, message_id, failed`

func scanMail(sc interface{ Scan(...any) error }) (*store.QueuedMail, error) {
	var m store.QueuedMail
	var created, next int64
	var sent, failed sql.NullInt64
	if err := sc.Scan(&m.ID, &m.Key, &m.Group, &m.Kind, &m.UserID, &m.To, &m.Data, &created, &next,
		&m.Attempts, &m.LastError, &sent, &m.MessageID, &failed); err != nil {
		return nil, err
	}
	m.Created, m.NextTry, m.Sent, m.Failed = fromMillis(created), fromMillis(next), fromMillis(sent.Int64), fromMillis(failed.Int64)
	return &m, nil
}

// EnqueueMail queues a message unless its key was queued before.
func (w *wtx) EnqueueMail(m *store.QueuedMail) (bool, error) {
	created := m.Created
	if created.IsZero() {
		created = w.db.now()
	}
	next := m.NextTry
	if next.IsZero() {
		next = created
	}
	var id int64
	err := w.queryRow(`INSERT INTO mail_queue (key, grp, kind, user_id, rcpt, data, created, next_try)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
		m.Key, m.Group, m.Kind, m.UserID, m.To, blobOrEmpty(m.Data), millis(created), millis(next)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("enqueue mail: %w", err)
	}
	m.ID, m.Created, m.NextTry = id, created, next
	return true, nil
}

func blobOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ClaimMail takes the messages due at now, with the rest of their groups.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.QueuedMail, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []*store.QueuedMail
	err := db.write(ctx, func(w *wtx) error {
		out = out[:0]
		rows, err := w.tx.QueryContext(w.ctx, `UPDATE mail_queue SET next_try = ?
			WHERE sent IS NULL AND failed IS NULL AND (id IN (SELECT id FROM mail_queue WHERE sent IS NULL AND failed IS NULL AND grp = '' AND next_try <= ? ORDER BY id LIMIT ?)
				OR grp IN (SELECT grp FROM mail_queue WHERE sent IS NULL AND failed IS NULL AND grp <> '' AND next_try <= ? GROUP BY grp ORDER BY min(id) LIMIT ?))
			RETURNING `+mailCols, millis(now.Add(lease)), millis(now), limit, millis(now), limit)
		if err != nil {
			return fmt.Errorf("claim mail: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMail(rows)
			if err != nil {
				return fmt.Errorf("claim mail: %w", err)
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	store.SortMail(out)
	return out, nil
}

// LastMailSent returns when each group last had a message sent.
func (db *DB) LastMailSent(ctx context.Context, groups []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(groups))
	if len(groups) == 0 {
		return out, nil
	}
	args := make([]any, len(groups))
	for i, g := range groups {
		args[i] = g
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT grp, max(sent) FROM mail_queue
		WHERE grp IN (?`+strings.Repeat(", ?", len(groups)-1)+`) AND sent IS NOT NULL GROUP BY grp`, args...)
	if err != nil {
		return nil, fmt.Errorf("last mail sent: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var at int64
		if err := rows.Scan(&g, &at); err != nil {
			return nil, fmt.Errorf("last mail sent: %w", err)
		}
		out[g] = fromMillis(at)
	}
	return out, rows.Err()
}

// MarkMailSent records that the messages were accepted.
func (db *DB) MarkMailSent(ctx context.Context, ids []int64, at time.Time, messageID string) error {
	if len(ids) == 0 {
		return nil
	}
	return db.write(ctx, func(w *wtx) error {
		for _, id := range ids {
			if _, err := w.exec(`UPDATE mail_queue SET sent = ?, message_id = ? WHERE id = ? AND sent IS NULL`,
				millis(at), messageID, id); err != nil {
				return fmt.Errorf("mark mail sent: %w", err)
			}
		}
		return nil
	})
}

// RetryMail moves the unsent messages' next try, counting a failure.
func (db *DB) RetryMail(ctx context.Context, ids []int64, next time.Time, failure string) error {
	if len(ids) == 0 {
		return nil
	}
	failed := 0
	if failure != "" {
		failed = 1
	}
	return db.write(ctx, func(w *wtx) error {
		for _, id := range ids {
			if _, err := w.exec(`UPDATE mail_queue SET next_try = ?, attempts = attempts + ?,
				last_error = CASE WHEN ? = '' THEN last_error ELSE ? END WHERE id = ? AND sent IS NULL AND failed IS NULL`,
				millis(next), failed, failure, failure, id); err != nil {
				return fmt.Errorf("retry mail: %w", err)
			}
		}
		return nil
	})
}

// GiveUpMail records that the server refused the messages for good.
func (db *DB) GiveUpMail(ctx context.Context, ids []int64, at time.Time, failure string) error {
	if len(ids) == 0 {
		return nil
	}
	return db.write(ctx, func(w *wtx) error {
		for _, id := range ids {
			if _, err := w.exec(`UPDATE mail_queue SET failed = ?, attempts = attempts + 1, last_error = ?
				WHERE id = ? AND sent IS NULL AND failed IS NULL`, millis(at), failure, id); err != nil {
				return fmt.Errorf("give up mail: %w", err)
			}
		}
		return nil
	})
}

// MailCounts returns how many messages are queued and sent.
func (db *DB) MailCounts(ctx context.Context) (queued, sent int, err error) {
	err = db.rdb.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE sent IS NULL AND failed IS NULL), count(*) FILTER (WHERE sent IS NOT NULL) FROM mail_queue`).
		Scan(&queued, &sent)
	if err != nil {
		return 0, 0, fmt.Errorf("mail counts: %w", err)
	}
	return queued, sent, nil
}

// MailPrefs returns the users' notification settings.
func (db *DB) MailPrefs(ctx context.Context, userIDs []string) (map[string]store.MailPrefs, error) {
	out := make(map[string]store.MailPrefs, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
		out[id] = store.MailPrefs{UserID: id}
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT user_id, no_replies, no_alerts, alert_digest, updated FROM mail_prefs
		WHERE user_id IN (?`+strings.Repeat(", ?", len(userIDs)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("mail prefs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p store.MailPrefs
		var updated int64
		if err := rows.Scan(&p.UserID, &p.NoReplies, &p.NoAlerts, &p.AlertDigest, &updated); err != nil {
			return nil, fmt.Errorf("mail prefs: %w", err)
		}
		p.Updated = fromMillis(updated)
		out[p.UserID] = p
	}
	return out, rows.Err()
}

// SetMailPrefs stores a user's notification settings.
func (db *DB) SetMailPrefs(ctx context.Context, p store.MailPrefs) error {
	return db.write(ctx, func(w *wtx) error { return w.SetMailPrefs(p) })
}

// SetMailPrefs stores a user's notification settings in the unit.
func (w *wtx) SetMailPrefs(p store.MailPrefs) error {
	updated := p.Updated
	if updated.IsZero() {
		updated = w.db.now()
	}
	_, err := w.exec(`INSERT INTO mail_prefs (user_id, no_replies, no_alerts, alert_digest, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET no_replies = excluded.no_replies, no_alerts = excluded.no_alerts,
			alert_digest = excluded.alert_digest, updated = excluded.updated`,
		p.UserID, p.NoReplies, p.NoAlerts, p.AlertDigest, millis(updated))
	if err != nil {
		return domainError(fmt.Errorf("store mail prefs: %w", err), "user %q not found", p.UserID)
	}
	return nil
}

// CreateMailToken stores a new link token in the unit.
func (w *wtx) CreateMailToken(t *store.MailToken) error {
	created := t.Created
	if created.IsZero() {
		created = w.db.now()
	}
	_, err := w.exec(`INSERT INTO mail_tokens (hash, kind, user_id, email, browser, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Kind, t.UserID, t.Email, t.Browser, millis(created), millis(t.Expires))
	if err != nil {
		return domainError(fmt.Errorf("store mail token: %w", err), "the token exists")
	}
	t.Created = created
	return nil
}

// UseMailToken marks a token used, once.
func (w *wtx) UseMailToken(hash string, at time.Time) error {
	res, err := w.exec(`UPDATE mail_tokens SET used = ? WHERE hash = ? AND used IS NULL`, millis(at), hash)
	if err != nil {
		return fmt.Errorf("use mail token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 1 {
		return nil
	}
	var one int
	if err := w.queryRow(`SELECT 1 FROM mail_tokens WHERE hash = ?`, hash).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "no such link")
	} else if err != nil {
		return fmt.Errorf("use mail token: %w", err)
	}
	return parley.Errorf(parley.EConflict, "the link was used before")
}

// MailToken returns a link token by its hash.
func (db *DB) MailToken(ctx context.Context, hash string) (*store.MailToken, error) {
	var t store.MailToken
	var created, expires int64
	var used sql.NullInt64
	err := db.rdb.QueryRowContext(ctx, `SELECT hash, kind, user_id, email, browser, created, expires, used FROM mail_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.Kind, &t.UserID, &t.Email, &t.Browser, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "no such link")
	} else if err != nil {
		return nil, fmt.Errorf("read mail token: %w", err)
	}
	t.Created, t.Expires, t.Used = fromMillis(created), fromMillis(expires), fromMillis(used.Int64)
	return &t, nil
}

// MailTokensSince counts an address's recent tokens of a kind.
func (db *DB) MailTokensSince(ctx context.Context, kind, email string, since time.Time) (int, error) {
	var n int
	err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM mail_tokens WHERE email = ? AND kind = ? AND created >= ?`,
		email, kind, millis(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count mail tokens: %w", err)
	}
	return n, nil
}

// UsersByEmail returns the users with the address, oldest first.
func (db *DB) UsersByEmail(ctx context.Context, email string) ([]*parley.User, error) {
	if email == "" {
		return nil, nil
	}
	return scanUsers(db.query(ctx, `SELECT `+userCols+` FROM users WHERE email = ? ORDER BY created, id`, email))
}

// PruneMail deletes old sent messages and expired tokens.
func (db *DB) PruneMail(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		n = 0
		for _, q := range []string{`DELETE FROM mail_queue WHERE sent < ?1 OR failed < ?1`, `DELETE FROM mail_tokens WHERE expires < ?`} {
			res, err := w.exec(q, millis(before))
			if err != nil {
				return fmt.Errorf("prune mail: %w", err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return int(n), err
}
