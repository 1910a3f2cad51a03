package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

const userCols = `id, name, email, role, site_id, banned_until, created, picture, sessions_after, own_name`

// CreateUser stores a new user; Created is set when zero. EConflict if the id exists.
func (db *DB) CreateUser(ctx context.Context, u *parley.User) error {
	return db.write(ctx, func(w *wtx) error { return w.CreateUser(u) })
}

// CreateUser is DB.CreateUser in the unit of w.
func (w *wtx) CreateUser(u *parley.User) error {
	if u.ID == "" {
		return parley.Errorf(parley.EInvalid, "a user needs an id")
	}
	created := u.Created
	if created.IsZero() {
		created = w.db.now()
	}
	err := func() error {
		_, err := w.exec(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Name, u.Email, u.Role, u.SiteID, millis(u.BannedUntil), millis(created), u.Picture, millis(u.SessionsAfter), u.OwnName)
		if err != nil {
			return domainError(fmt.Errorf("insert user: %w", err), "user %q, or a staff member with its e-mail address, already exists", u.ID)
		}
		return nil
	}()
	if err != nil {
		return err
	}
	u.Created = roundTrip(created)
	return nil
}

// UpdateUser stores the user's name, e-mail, role, site and ban. ENotFound.
func (db *DB) UpdateUser(ctx context.Context, u *parley.User) error {
	return db.write(ctx, func(w *wtx) error { return w.UpdateUser(u) })
}

// UpdateUser is DB.UpdateUser in the unit of w.
func (w *wtx) UpdateUser(u *parley.User) error {
	res, err := w.exec(`UPDATE users SET name = ?, email = ?, role = ?, site_id = ?, banned_until = ?, picture = ?, sessions_after = ?, own_name = ? WHERE id = ?`,
		u.Name, u.Email, u.Role, u.SiteID, millis(u.BannedUntil), u.Picture, millis(u.SessionsAfter), u.OwnName, u.ID)
	if err != nil {
		return domainError(fmt.Errorf("update user: %w", err), "user %q: another staff member has that e-mail address", u.ID)
	}
	return mustAffect(res, "user %q not found", u.ID)
}

// User returns one user. ENotFound.
func (db *DB) User(ctx context.Context, id string) (*parley.User, error) {
	var u parley.User
	var banned, created, after int64
	err := db.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &created, &u.Picture, &after, &u.OwnName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromMillis(banned), fromMillis(created), fromMillis(after)
	return &u, nil
}

// User is store.Tx.User on SQLite: the unit's read, inside the single
// writer's transaction, which no other unit can change under it.
func (w *wtx) User(id string) (*parley.User, error) {
	var u parley.User
	var banned, created, after int64
	err := w.queryRow(`SELECT `+userCols+` FROM users WHERE id = ?`, id).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &created, &u.Picture, &after, &u.OwnName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromMillis(banned), fromMillis(created), fromMillis(after)
	return &u, nil
}

// SessionUser is User and whether the session of tokenHash was ended, in
// one query. ENotFound.
func (db *DB) SessionUser(ctx context.Context, id, tokenHash string) (*parley.User, bool, error) {
	var u parley.User
	var banned, created, after int64
	var revoked bool
	err := db.queryRow(ctx, `SELECT `+userCols+`,
			EXISTS (SELECT 1 FROM reader_session_revocations WHERE token_hash = ?)
		FROM users WHERE id = ?`, tokenHash, id).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &created, &u.Picture, &after, &u.OwnName, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, parley.Errorf(parley.ENotFound, "user %q not found", id)
	} else if err != nil {
		return nil, false, fmt.Errorf("read user: %w", err)
	}
	u.BannedUntil, u.Created, u.SessionsAfter = fromMillis(banned), fromMillis(created), fromMillis(after)
	return &u, revoked, nil
}

// Users returns the users with the ids that exist, in one query.
func (db *DB) Users(ctx context.Context, ids []string) (map[string]*parley.User, error) {
	return users(ctx, db.query, ids)
}

// usersSQL reads the users whose ids are in a JSON array: one statement,
// prepared once, whatever the number of ids (SQLite bounds the number of
// ? parameters, and an IN list of ? would be a new statement per length).
// The lookups probe the primary key.
const usersSQL = `SELECT ` + userCols + ` FROM users WHERE id IN (SELECT value FROM json_each(?))`

// users runs Users with query: on the reader pool, or in a snapshot.
func users(ctx context.Context, query queryFunc, ids []string) (map[string]*parley.User, error) {
	out := make(map[string]*parley.User, len(ids))
	list, odd, err := jsonIDs(ids)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	for _, id := range odd {
		us, err := scanUsers(query(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			out[u.ID] = u
		}
	}
	if list == "" {
		return out, nil
	}
	us, err := scanUsers(query(ctx, usersSQL, list))
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}

// jsonIDs returns ids as a JSON array for json_each, "" when there are
// none, and apart the ids that no JSON string holds (invalid UTF-8), which
// must be looked up one by one. Parley's ids are generated and never are.
func jsonIDs(ids []string) (list string, odd []string, err error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if utf8.ValidString(id) {
			valid = append(valid, id)
		} else {
			odd = append(odd, id)
		}
	}
	if len(valid) == 0 {
		return "", odd, nil
	}
	b, err := json.Marshal(valid)
	if err != nil {
		return "", nil, err
	}
	return string(b), odd, nil
}

// scanUsers reads and closes rows of userCols.
func scanUsers(rows *sql.Rows, err error) ([]*parley.User, error) {
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	defer rows.Close()
	var out []*parley.User
	for rows.Next() {
		var u parley.User
		var banned, created, after int64
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &created, &u.Picture, &after, &u.OwnName); err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		u.BannedUntil, u.Created, u.SessionsAfter = fromMillis(banned), fromMillis(created), fromMillis(after)
		out = append(out, &u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return out, nil
}
