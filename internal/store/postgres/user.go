package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

const userCols = `id, name, email, role, site_id, banned_until, created, picture, sessions_after, own_name`

// CreateUser stores a new user; Created is set when zero. EConflict if the id exists.
func (db *DB) CreateUser(ctx context.Context, u *parley.User) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.CreateUser(u) })
	return err
}

// CreateUser is DB.CreateUser in the unit of t.
func (t *ptx) CreateUser(u *parley.User) error {
	defer t.interleavable()() // one statement (see pipeline.go)
	if u.ID == "" {
		return parley.Errorf(parley.EInvalid, "a user needs an id")
	}
	created := u.Created
	if created.IsZero() {
		created = t.db.now()
	}
	_, err := t.Exec(t.ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.Name, u.Email, u.Role, u.SiteID, nullTime(u.BannedUntil), created, u.Picture, nullTime(u.SessionsAfter), u.OwnName)
	if err != nil {
		return domainError(err, "insert user", "user %q already exists", u.ID)
	}
	u.Created = roundTrip(created)
	return nil
}

// UpdateUser stores the user's name, e-mail, role, site and ban. ENotFound.
func (db *DB) UpdateUser(ctx context.Context, u *parley.User) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.UpdateUser(u) })
	return err
}

// UpdateUser is DB.UpdateUser in the unit of t.
func (t *ptx) UpdateUser(u *parley.User) error {
	defer t.interleavable()() // one statement (see pipeline.go)
	tag, err := t.Exec(t.ctx, `UPDATE users SET name = $2, email = $3, role = $4, site_id = $5, banned_until = $6,
		picture = $7, sessions_after = $8, own_name = $9 WHERE id = $1`, u.ID, u.Name, u.Email, u.Role, u.SiteID, nullTime(u.BannedUntil), u.Picture, nullTime(u.SessionsAfter), u.OwnName)
	if err != nil {
		return domainError(err, "update user", "user %q rejected by the database (is its e-mail address another staff member's?)", u.ID)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "user %q not found", u.ID)
	}
	return nil
}

// User returns one user. ENotFound.
func (db *DB) User(ctx context.Context, id string) (*parley.User, error) {
	var u parley.User
	var banned, after *time.Time
	err := db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &u.Created, &u.Picture, &after, &u.OwnName)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %q not found", id)
	} else if err != nil {
		return nil, wrap(err, "read user")
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromNull(banned), u.Created.UTC(), fromNull(after)
	return &u, nil
}

// User is store.Tx.User on PostgreSQL: SELECT … FOR UPDATE, so the row
// stays locked until the unit's batch commits and another instance's unit
// changing the same user reads it only then (this instance's units run one
// after another in its committer already).
func (t *ptx) User(id string) (*parley.User, error) {
	var u parley.User
	var banned, after *time.Time
	err := t.QueryRow(t.ctx, `SELECT `+userCols+` FROM users WHERE id = $1 FOR UPDATE`, id).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &u.Created, &u.Picture, &after, &u.OwnName)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %q not found", id)
	} else if err != nil {
		return nil, wrap(err, "read user")
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromNull(banned), u.Created.UTC(), fromNull(after)
	return &u, nil
}

// SessionUser is User and whether the session of tokenHash was ended, in
// one query. ENotFound.
func (db *DB) SessionUser(ctx context.Context, id, tokenHash string) (*parley.User, bool, error) {
	var u parley.User
	var banned, after *time.Time
	var revoked bool
	err := db.pool.QueryRow(ctx, `SELECT `+userCols+`,
			EXISTS (SELECT 1 FROM reader_session_revocations WHERE token_hash = $2)
		FROM users WHERE id = $1`, id, tokenHash).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &u.Created, &u.Picture, &after, &u.OwnName, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, parley.Errorf(parley.ENotFound, "user %q not found", id)
	} else if err != nil {
		return nil, false, wrap(err, "read user")
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromNull(banned), u.Created.UTC(), fromNull(after)
	return &u, revoked, nil
}

// Users returns the users with the ids that exist, in one query.
func (db *DB) Users(ctx context.Context, ids []string) (map[string]*parley.User, error) {
	return reader{db.pool}.Users(ctx, ids)
}

// Users is DB.Users on r's querier: one probe of the primary key per id.
func (r reader) Users(ctx context.Context, ids []string) (map[string]*parley.User, error) {
	out := make(map[string]*parley.User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := r.q.Query(ctx, `SELECT `+userCols+` FROM users WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, wrap(err, "read users")
	}
	defer rows.Close()
	for rows.Next() {
		var u parley.User
		var banned, after *time.Time
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &u.Created, &u.Picture, &after, &u.OwnName); err != nil {
			return nil, wrap(err, "read users")
		}
		u.BannedUntil, u.Created, u.SessionsAfter = fromNull(banned), u.Created.UTC(), fromNull(after)
		out[u.ID] = &u
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read users")
	}
	return out, nil
}
