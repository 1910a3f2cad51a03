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

// SetPassword stores a user's password hash. ENotFound.
func (db *DB) SetPassword(ctx context.Context, userID, hash string) error {
	return db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return mustAffect(res, "user %q not found", userID)
	})
}

// scanUser reads a row of userCols.
func scanUser(row interface{ Scan(...any) error }, extra ...any) (*parley.User, error) {
	var u parley.User
	var banned, created, after int64
	dest := append([]any{&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &created, &u.Picture, &after, &u.OwnName}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromMillis(banned), fromMillis(created), fromMillis(after)
	return &u, nil
}

// Credentials returns the staff member with the e-mail address and their
// password hash. ENotFound.
func (db *DB) Credentials(ctx context.Context, email string) (*parley.User, string, error) {
	var hash string
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userCols+`, password_hash FROM users
		WHERE email = ? AND role IN ('moderator', 'admin')`, email), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", parley.Errorf(parley.ENotFound, "no staff member has that e-mail address")
	} else if err != nil {
		return nil, "", fmt.Errorf("read credentials: %w", err)
	}
	return u, hash, nil
}

// StaffUsers returns the moderators and admins ordered by e-mail.
func (db *DB) StaffUsers(ctx context.Context) ([]*parley.User, error) {
	rows, err := db.query(ctx, `SELECT `+userCols+` FROM users WHERE role IN ('moderator', 'admin') ORDER BY email, id`)
	if err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	defer rows.Close()
	var out []*parley.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("read staff: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	return out, nil
}

// CreateStaffSession stores a new session. EConflict, ENotFound.
func (db *DB) CreateStaffSession(ctx context.Context, s *store.StaffSession) error {
	created := s.Created
	if created.IsZero() {
		created = db.now()
	}
	err := db.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO staff_sessions (token_hash, user_id, created, expires, revoked) VALUES (?, ?, ?, ?, ?)`,
			s.TokenHash, s.UserID, millis(created), millis(s.Expires), s.Revoked)
		if err != nil {
			return domainError(fmt.Errorf("insert staff session: %w", err), "cannot open a session for user %q", s.UserID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.Created, s.Expires = roundTrip(created), roundTrip(s.Expires)
	return nil
}

// StaffSession returns a session by its token hash. ENotFound.
func (db *DB) StaffSession(ctx context.Context, tokenHash string) (*store.StaffSession, error) {
	var s store.StaffSession
	var created, expires int64
	err := db.queryRow(ctx, `SELECT token_hash, user_id, created, expires, revoked FROM staff_sessions WHERE token_hash = ?`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &created, &expires, &s.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "no such session")
	} else if err != nil {
		return nil, fmt.Errorf("read staff session: %w", err)
	}
	s.Created, s.Expires = fromMillis(created), fromMillis(expires)
	return &s, nil
}

// RevokeStaffSessions revokes one session, or every session of a user.
func (db *DB) RevokeStaffSessions(ctx context.Context, userID, tokenHash string) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		var res sql.Result
		var err error
		if tokenHash != "" {
			res, err = w.exec(`UPDATE staff_sessions SET revoked = 1 WHERE token_hash = ? AND NOT revoked`, tokenHash)
		} else {
			res, err = w.exec(`UPDATE staff_sessions SET revoked = 1 WHERE user_id = ? AND NOT revoked`, userID)
		}
		if err != nil {
			return fmt.Errorf("revoke staff sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// PruneStaffSessions deletes expired and revoked sessions.
func (db *DB) PruneStaffSessions(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM staff_sessions WHERE expires < ? OR revoked`, millis(before))
		if err != nil {
			return fmt.Errorf("prune staff sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// Sanction returns a reader's sanction on a site, the zero one when none.
func (db *DB) Sanction(ctx context.Context, userID, siteID string) (store.Sanction, error) {
	s := store.Sanction{UserID: userID, SiteID: siteID}
	var until, updated int64
	err := db.queryRow(ctx, `SELECT suspended_until, premoderated, updated FROM sanctions WHERE user_id = ? AND site_id = ?`,
		userID, siteID).Scan(&until, &s.Premoderated, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	} else if err != nil {
		return s, fmt.Errorf("read sanction: %w", err)
	}
	s.SuspendedUntil, s.Updated = fromMillis(until), fromMillis(updated)
	return s, nil
}

// SetSanction stores a reader's sanction on a site. ENotFound.
func (db *DB) SetSanction(ctx context.Context, s store.Sanction) error {
	return db.write(ctx, func(w *wtx) error { return w.SetSanction(s) })
}

// SetSanction is DB.SetSanction in the unit of w.
func (w *wtx) SetSanction(s store.Sanction) error {
	updated := s.Updated
	if updated.IsZero() {
		updated = w.db.now()
	}
	_, err := w.exec(`INSERT INTO sanctions (user_id, site_id, suspended_until, premoderated, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, site_id) DO UPDATE SET suspended_until = excluded.suspended_until,
			premoderated = excluded.premoderated, updated = excluded.updated`,
		s.UserID, s.SiteID, millis(s.SuspendedUntil), s.Premoderated, millis(updated))
	if err != nil {
		return domainError(fmt.Errorf("store sanction: %w", err), "user %q or site %q not found", s.UserID, s.SiteID)
	}
	return nil
}

// AddAction records an audit entry and assigns its ID and Created (when zero).
func (db *DB) AddAction(ctx context.Context, a *store.Action) error {
	return db.write(ctx, func(w *wtx) error { return w.AddAction(a) })
}

// AddAction is DB.AddAction in the unit of w.
func (w *wtx) AddAction(a *store.Action) error {
	created := a.Created
	if created.IsZero() {
		created = w.db.now()
	}
	var id int64
	err := w.queryRow(`INSERT INTO actions (actor_id, actor_name, action, comment_id, user_id, site_id, note, before, after, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.ActorID, a.ActorName, a.Action, a.CommentID, a.UserID, a.SiteID, a.Note,
		nullJSON(a.Before), nullJSON(a.After), millis(created)).Scan(&id)
	if err != nil {
		return domainError(fmt.Errorf("record action: %w", err), "audit entry rejected by the database")
	}
	a.ID, a.Created = id, roundTrip(created)
	return nil
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// Actions lists audit entries, newest first. EInvalid without a filter.
func (db *DB) Actions(ctx context.Context, q store.ActionQuery) ([]*store.Action, error) {
	var where []string
	var args []any
	if q.CommentID != 0 {
		where, args = append(where, "comment_id = ?"), append(args, q.CommentID)
	}
	if q.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, q.UserID)
	}
	if q.SiteID != "" {
		where, args = append(where, "site_id = ?"), append(args, q.SiteID)
	}
	if len(where) == 0 {
		return nil, parley.Errorf(parley.EInvalid, "list actions of a comment, a user or a site")
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	args = append(args, q.Limit)
	rows, err := db.query(ctx, `SELECT id, actor_id, actor_name, action, comment_id, user_id, site_id, note, before, after, created
		FROM actions WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	defer rows.Close()
	var out []*store.Action
	for rows.Next() {
		var a store.Action
		var before, after sql.NullString
		var created int64
		if err := rows.Scan(&a.ID, &a.ActorID, &a.ActorName, &a.Action, &a.CommentID, &a.UserID, &a.SiteID, &a.Note,
			&before, &after, &created); err != nil {
			return nil, fmt.Errorf("read actions: %w", err)
		}
		if before.Valid {
			a.Before = []byte(before.String)
		}
		if after.Valid {
			a.After = []byte(after.String)
		}
		a.Created = fromMillis(created)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	return out, nil
}

// AddNote stores a note on a reader. ENotFound.
func (db *DB) AddNote(ctx context.Context, n *store.Note) error {
	return db.write(ctx, func(w *wtx) error { return w.AddNote(n) })
}

// AddNote is DB.AddNote in the unit of w.
func (w *wtx) AddNote(n *store.Note) error {
	created := n.Created
	if created.IsZero() {
		created = w.db.now()
	}
	var id int64
	err := w.queryRow(`INSERT INTO notes (user_id, site_id, author_id, author_name, text, created)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, n.UserID, n.SiteID, n.AuthorID, n.AuthorName, n.Text, millis(created)).Scan(&id)
	if err != nil {
		return domainError(fmt.Errorf("insert note: %w", err), "user %q or site %q not found", n.UserID, n.SiteID)
	}
	n.ID, n.Created = id, roundTrip(created)
	return nil
}

// Notes returns the notes on a reader for one site, newest first.
func (db *DB) Notes(ctx context.Context, userID, siteID string) ([]*store.Note, error) {
	rows, err := db.query(ctx, `SELECT id, user_id, site_id, author_id, author_name, text, created FROM notes
		WHERE user_id = ? AND site_id = ? ORDER BY id DESC`, userID, siteID)
	if err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	defer rows.Close()
	var out []*store.Note
	for rows.Next() {
		var n store.Note
		var created int64
		if err := rows.Scan(&n.ID, &n.UserID, &n.SiteID, &n.AuthorID, &n.AuthorName, &n.Text, &created); err != nil {
			return nil, fmt.Errorf("read notes: %w", err)
		}
		n.Created = fromMillis(created)
		out = append(out, &n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	return out, nil
}

// ReporterRecords returns the report records of the readers that exist, in
// one query.
func (db *DB) ReporterRecords(ctx context.Context, userIDs []string) (map[string]store.ReporterRecord, error) {
	out := make(map[string]store.ReporterRecord, len(userIDs))
	list, odd, err := jsonIDs(userIDs)
	if err != nil {
		return nil, fmt.Errorf("read reporter records: %w", err)
	}
	add := func(rows *sql.Rows, err error) error {
		if err != nil {
			return fmt.Errorf("read reporter records: %w", err)
		}
		return scanReporterRecords(out, rows)
	}
	for _, id := range odd {
		if err := add(db.query(ctx, reporterRecordSQL, id)); err != nil {
			return nil, err
		}
	}
	if list != "" {
		if err := add(db.query(ctx, reporterRecordsSQL, list)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reporterRecordsFrom reads the record of each user its WHERE clause picks:
// the users' primary key, then the reports_reporter index for each.
const reporterRecordsFrom = `SELECT u.id, u.created, count(r.id),
		count(r.id) FILTER (WHERE r.outcome = 'upheld'),
		count(r.id) FILTER (WHERE r.outcome = 'dismissed')
	FROM users u LEFT JOIN reports r ON r.reporter_id = u.id
	WHERE `

// reporterRecordsSQL reads the records of the users whose ids are in a JSON
// array (see usersSQL); reporterRecordSQL, of one user.
const (
	reporterRecordsSQL = reporterRecordsFrom + `u.id IN (SELECT value FROM json_each(?)) GROUP BY u.id`
	reporterRecordSQL  = reporterRecordsFrom + `u.id = ? GROUP BY u.id`
)

// scanReporterRecords adds the records rows hold to out, and closes rows.
func scanReporterRecords(out map[string]store.ReporterRecord, rows *sql.Rows) error {
	defer rows.Close()
	for rows.Next() {
		var id string
		var r store.ReporterRecord
		var joined int64
		if err := rows.Scan(&id, &joined, &r.Made, &r.Upheld, &r.Dismissed); err != nil {
			return fmt.Errorf("read reporter records: %w", err)
		}
		r.Joined = fromMillis(joined)
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read reporter records: %w", err)
	}
	return nil
}

// ReportsAgainst returns recent reports on an author's comments or a page.
func (db *DB) ReportsAgainst(ctx context.Context, q store.ReportQuery) ([]*parley.Report, error) {
	var rows *sql.Rows
	var err error
	cols := "r." + strings.ReplaceAll(reportCols, ", ", ", r.")
	switch {
	case q.AuthorID != "" && q.PageID == 0:
		rows, err = db.query(ctx, `SELECT `+cols+` FROM reports r JOIN comments c ON c.id = r.comment_id
			WHERE c.author_id = ? AND r.created >= ? ORDER BY r.created, r.id LIMIT 1000`, q.AuthorID, millis(q.Since))
	case q.AuthorID == "" && q.PageID != 0:
		rows, err = db.query(ctx, `SELECT `+cols+` FROM reports r JOIN comments c ON c.id = r.comment_id
			WHERE c.page_id = ? AND r.created >= ? ORDER BY r.created, r.id LIMIT 1000`, q.PageID, millis(q.Since))
	default:
		return nil, parley.Errorf(parley.EInvalid, "reports against an author or a page, not both")
	}
	if err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	return scanReports(rows)
}

// QueueCounts returns the size of each queue of a site.
func (db *DB) QueueCounts(ctx context.Context, siteID string) (map[string]int, error) {
	out := make(map[string]int, len(store.QueueNames))
	for _, name := range store.QueueNames {
		where := queueSQL[name].where
		var args []any
		if siteID != "" {
			where += ` AND c.site_id = ?`
			args = append(args, siteID)
		}
		var n int
		if err := db.queryRow(ctx, `SELECT count(*) FROM comments c WHERE `+where, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count queue %s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}

// RevokeReaderSession records an ended reader session.
func (db *DB) RevokeReaderSession(ctx context.Context, tokenHash, userID string, expires time.Time) error {
	return db.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO reader_session_revocations (token_hash, user_id, expires) VALUES (?, ?, ?)
			ON CONFLICT (token_hash) DO NOTHING`, tokenHash, userID, millis(expires))
		if err != nil {
			return domainError(fmt.Errorf("revoke reader session: %w", err), "no reader %q", userID)
		}
		return nil
	})
}

// PruneReaderSessions deletes expired revocations.
func (db *DB) PruneReaderSessions(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM reader_session_revocations WHERE expires < ?`, millis(before))
		if err != nil {
			return fmt.Errorf("prune reader sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
