package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// SetPassword stores a user's password hash. ENotFound.
func (db *DB) SetPassword(ctx context.Context, userID, hash string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash)
	if err != nil {
		return wrap(err, "set password")
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "user %q not found", userID)
	}
	return nil
}

// scanUser reads a row of userCols followed by extra columns.
func scanUser(row pgx.Row, extra ...any) (*parley.User, error) {
	var u parley.User
	var banned, after *time.Time
	dest := append([]any{&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &u.Created, &u.Picture, &after, &u.OwnName}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromNull(banned), u.Created.UTC(), fromNull(after)
	return &u, nil
}

// Credentials returns the staff member with the e-mail address and their
// password hash. ENotFound.
func (db *DB) Credentials(ctx context.Context, email string) (*parley.User, string, error) {
	var hash string
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+`, password_hash FROM users
		WHERE email = $1 AND role IN ('moderator', 'admin')`, email), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", parley.Errorf(parley.ENotFound, "no staff member has that e-mail address")
	} else if err != nil {
		return nil, "", wrap(err, "read credentials")
	}
	return u, hash, nil
}

// StaffUsers returns the moderators and admins ordered by e-mail.
func (db *DB) StaffUsers(ctx context.Context) ([]*parley.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE role IN ('moderator', 'admin') ORDER BY email, id`)
	if err != nil {
		return nil, wrap(err, "read staff")
	}
	defer rows.Close()
	var out []*parley.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(err, "read staff")
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read staff")
	}
	return out, nil
}

// CreateStaffSession stores a new session. EConflict, ENotFound.
func (db *DB) CreateStaffSession(ctx context.Context, s *store.StaffSession) error {
	created := s.Created
	if created.IsZero() {
		created = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO staff_sessions (token_hash, user_id, created, expires, revoked) VALUES ($1, $2, $3, $4, $5)`,
		s.TokenHash, s.UserID, created, s.Expires, s.Revoked)
	if err != nil {
		return domainError(err, "insert staff session", "cannot open a session for user %q", s.UserID)
	}
	s.Created, s.Expires = roundTrip(created), roundTrip(s.Expires)
	return nil
}

// StaffSession returns a session by its token hash. ENotFound.
func (db *DB) StaffSession(ctx context.Context, tokenHash string) (*store.StaffSession, error) {
	var s store.StaffSession
	err := db.pool.QueryRow(ctx, `SELECT token_hash, user_id, created, expires, revoked FROM staff_sessions WHERE token_hash = $1`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &s.Created, &s.Expires, &s.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "no such session")
	} else if err != nil {
		return nil, wrap(err, "read staff session")
	}
	s.Created, s.Expires = s.Created.UTC(), s.Expires.UTC()
	return &s, nil
}

// RevokeStaffSessions revokes one session, or every session of a user.
func (db *DB) RevokeStaffSessions(ctx context.Context, userID, tokenHash string) (int, error) {
	q, arg := `UPDATE staff_sessions SET revoked = true WHERE user_id = $1 AND NOT revoked`, userID
	if tokenHash != "" {
		q, arg = `UPDATE staff_sessions SET revoked = true WHERE token_hash = $1 AND NOT revoked`, tokenHash
	}
	tag, err := db.pool.Exec(ctx, q, arg)
	if err != nil {
		return 0, wrap(err, "revoke staff sessions")
	}
	return int(tag.RowsAffected()), nil
}

// PruneStaffSessions deletes expired and revoked sessions.
func (db *DB) PruneStaffSessions(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE expires < $1 OR revoked`, before)
	if err != nil {
		return 0, wrap(err, "prune staff sessions")
	}
	return int(tag.RowsAffected()), nil
}

// Sanction returns a reader's sanction on a site, the zero one when none.
func (db *DB) Sanction(ctx context.Context, userID, siteID string) (store.Sanction, error) {
	s := store.Sanction{UserID: userID, SiteID: siteID}
	if err := scanSanction(db.pool.QueryRow(ctx, sanctionSQL, userID, siteID), &s); err != nil {
		return s, wrap(err, "read sanction")
	}
	return s, nil
}

// sanctionSQL reads the sanction of user $1 on site $2 for scanSanction.
const sanctionSQL = `SELECT suspended_until, premoderated, updated FROM sanctions WHERE user_id = $1 AND site_id = $2`

// scanSanction reads the row of sanctionSQL into s, which keeps its zero
// fields when there is none.
func scanSanction(row pgx.Row, s *store.Sanction) error {
	var until *time.Time
	err := row.Scan(&until, &s.Premoderated, &s.Updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	s.SuspendedUntil, s.Updated = fromNull(until), s.Updated.UTC()
	return nil
}

// SetSanction stores a reader's sanction on a site. ENotFound.
func (db *DB) SetSanction(ctx context.Context, s store.Sanction) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.SetSanction(s) })
	return err
}

// SetSanction is DB.SetSanction in the unit of t.
func (t *ptx) SetSanction(s store.Sanction) error {
	updated := s.Updated
	if updated.IsZero() {
		updated = t.db.now()
	}
	_, err := t.Exec(t.ctx, `INSERT INTO sanctions (user_id, site_id, suspended_until, premoderated, updated) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, site_id) DO UPDATE SET suspended_until = excluded.suspended_until,
			premoderated = excluded.premoderated, updated = excluded.updated`,
		s.UserID, s.SiteID, nullTime(s.SuspendedUntil), s.Premoderated, updated)
	if err != nil {
		return domainError(err, "store sanction", "user %q or site %q not found", s.UserID, s.SiteID)
	}
	return nil
}

// AddAction records an audit entry and assigns its ID and Created (when zero).
func (db *DB) AddAction(ctx context.Context, a *store.Action) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.AddAction(a) })
	return err
}

// AddAction is DB.AddAction in the unit of t.
func (t *ptx) AddAction(a *store.Action) error {
	defer t.interleavable()() // one statement (see pipeline.go)
	created := a.Created
	if created.IsZero() {
		created = t.db.now()
	}
	var id int64
	err := t.QueryRow(t.ctx, `INSERT INTO actions (actor_id, actor_name, action, comment_id, user_id, site_id, note, before, after, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		a.ActorID, a.ActorName, a.Action, a.CommentID, a.UserID, a.SiteID, a.Note,
		nullBytes(a.Before), nullBytes(a.After), created).Scan(&id)
	if err != nil {
		return domainError(err, "record action", "action %q rejected by the database", a.Action)
	}
	a.ID, a.Created = id, roundTrip(created)
	return nil
}

func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Actions lists audit entries, newest first. EInvalid without a filter.
func (db *DB) Actions(ctx context.Context, q store.ActionQuery) ([]*store.Action, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.CommentID != 0 {
		where = append(where, "comment_id = "+arg(q.CommentID))
	}
	if q.UserID != "" {
		where = append(where, "user_id = "+arg(q.UserID))
	}
	if q.SiteID != "" {
		where = append(where, "site_id = "+arg(q.SiteID))
	}
	if len(where) == 0 {
		return nil, parley.Errorf(parley.EInvalid, "list actions of a comment, a user or a site")
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT id, actor_id, actor_name, action, comment_id, user_id, site_id, note, before, after, created
		FROM actions WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, wrap(err, "read actions")
	}
	defer rows.Close()
	var out []*store.Action
	for rows.Next() {
		var a store.Action
		if err := rows.Scan(&a.ID, &a.ActorID, &a.ActorName, &a.Action, &a.CommentID, &a.UserID, &a.SiteID, &a.Note,
			&a.Before, &a.After, &a.Created); err != nil {
			return nil, wrap(err, "read actions")
		}
		a.Created = a.Created.UTC()
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read actions")
	}
	return out, nil
}

// AddNote stores a note on a reader. ENotFound.
func (db *DB) AddNote(ctx context.Context, n *store.Note) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.AddNote(n) })
	return err
}

// AddNote is DB.AddNote in the unit of t.
func (t *ptx) AddNote(n *store.Note) error {
	created := n.Created
	if created.IsZero() {
		created = t.db.now()
	}
	var id int64
	err := t.QueryRow(t.ctx, `INSERT INTO notes (user_id, site_id, author_id, author_name, text, created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, n.UserID, n.SiteID, n.AuthorID, n.AuthorName, n.Text, created).Scan(&id)
	if err != nil {
		return domainError(err, "insert note", "user %q or site %q not found", n.UserID, n.SiteID)
	}
	n.ID, n.Created = id, roundTrip(created)
	return nil
}

// Notes returns the notes on a reader for one site, newest first.
func (db *DB) Notes(ctx context.Context, userID, siteID string) ([]*store.Note, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, user_id, site_id, author_id, author_name, text, created FROM notes
		WHERE user_id = $1 AND site_id = $2 ORDER BY id DESC`, userID, siteID)
	if err != nil {
		return nil, wrap(err, "read notes")
	}
	defer rows.Close()
	var out []*store.Note
	for rows.Next() {
		var n store.Note
		if err := rows.Scan(&n.ID, &n.UserID, &n.SiteID, &n.AuthorID, &n.AuthorName, &n.Text, &n.Created); err != nil {
			return nil, wrap(err, "read notes")
		}
		n.Created = n.Created.UTC()
		out = append(out, &n)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read notes")
	}
	return out, nil
}

// ReporterRecords returns the report records of the readers that exist, in
// one query.
func (db *DB) ReporterRecords(ctx context.Context, userIDs []string) (map[string]store.ReporterRecord, error) {
	out := make(map[string]store.ReporterRecord, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT u.id, u.created,
			count(r.id), count(r.id) FILTER (WHERE r.outcome = 'upheld'), count(r.id) FILTER (WHERE r.outcome = 'dismissed')
		FROM users u LEFT JOIN reports r ON r.reporter_id = u.id
		WHERE u.id = ANY($1) GROUP BY u.id, u.created`, userIDs)
	if err != nil {
		return nil, wrap(err, "read reporter records")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r store.ReporterRecord
		if err := rows.Scan(&id, &r.Joined, &r.Made, &r.Upheld, &r.Dismissed); err != nil {
			return nil, wrap(err, "read reporter records")
		}
		r.Joined = r.Joined.UTC()
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read reporter records")
	}
	return out, nil
}

// ReportsAgainst returns recent reports on an author's comments or a page.
func (db *DB) ReportsAgainst(ctx context.Context, q store.ReportQuery) ([]*parley.Report, error) {
	cols := "r." + strings.ReplaceAll(reportCols, ", ", ", r.")
	var rows pgx.Rows
	var err error
	switch {
	case q.AuthorID != "" && q.PageID == 0:
		rows, err = db.pool.Query(ctx, `SELECT `+cols+` FROM reports r JOIN comments c ON c.id = r.comment_id
			WHERE c.author_id = $1 AND r.created >= $2 ORDER BY r.created, r.id LIMIT 1000`, q.AuthorID, q.Since)
	case q.AuthorID == "" && q.PageID != 0:
		rows, err = db.pool.Query(ctx, `SELECT `+cols+` FROM reports r JOIN comments c ON c.id = r.comment_id
			WHERE c.page_id = $1 AND r.created >= $2 ORDER BY r.created, r.id LIMIT 1000`, q.PageID, q.Since)
	default:
		return nil, parley.Errorf(parley.EInvalid, "reports against an author or a page, not both")
	}
	if err != nil {
		return nil, wrap(err, "read reports")
	}
	return scanReports(rows)
}

// QueueCounts returns the size of each queue of a site, in one statement.
func (db *DB) QueueCounts(ctx context.Context, siteID string) (map[string]int, error) {
	var sel []string
	for _, name := range store.QueueNames {
		sel = append(sel, `count(*) FILTER (WHERE `+queueSQL[name].where+`)`)
	}
	where := ""
	var args []any
	if siteID != "" {
		where, args = ` WHERE c.site_id = $1`, []any{siteID}
	}
	counts := make([]int, len(store.QueueNames))
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := db.pool.QueryRow(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM comments c`+where, args...).Scan(dest...); err != nil {
		return nil, wrap(err, "count queues")
	}
	out := make(map[string]int, len(counts))
	for i, name := range store.QueueNames {
		out[name] = counts[i]
	}
	return out, nil
}

// RevokeReaderSession records an ended reader session.
func (db *DB) RevokeReaderSession(ctx context.Context, tokenHash, userID string, expires time.Time) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO reader_session_revocations (token_hash, user_id, expires) VALUES ($1, $2, $3)
		ON CONFLICT (token_hash) DO NOTHING`, tokenHash, userID, expires)
	if err != nil {
		return domainError(err, "revoke reader session", "no reader %q", userID)
	}
	return nil
}

// PruneReaderSessions deletes expired revocations.
func (db *DB) PruneReaderSessions(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM reader_session_revocations WHERE expires < $1`, before)
	if err != nil {
		return 0, wrap(err, "prune reader sessions")
	}
	return int(tag.RowsAffected()), nil
}
