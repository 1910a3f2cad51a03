package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
)

const userCols = `id, name, email, role, site_id, banned_until, created`

// CreateUser stores a new user; Created is set when zero. EConflict if the id exists.
func (db *DB) CreateUser(ctx context.Context, u *parley.User) error {
	if u.ID == "" {
		return parley.Errorf(parley.EInvalid, "a user needs an id")
	}
	created := u.Created
	if created.IsZero() {
		created = db.now()
	}
	err := db.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Name, u.Email, u.Role, u.SiteID, millis(u.BannedUntil), millis(created))
		if err != nil {
			return domainError(fmt.Errorf("insert user: %w", err), "user %q, or a staff member with its e-mail address, already exists", u.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	u.Created = roundTrip(created)
	return nil
}

// UpdateUser stores the user's name, e-mail, role, site and ban. ENotFound.
func (db *DB) UpdateUser(ctx context.Context, u *parley.User) error {
	return db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE users SET name = ?, email = ?, role = ?, site_id = ?, banned_until = ? WHERE id = ?`,
			u.Name, u.Email, u.Role, u.SiteID, millis(u.BannedUntil), u.ID)
		if err != nil {
			return domainError(fmt.Errorf("update user: %w", err), "user %q: another staff member has that e-mail address", u.ID)
		}
		return mustAffect(res, "user %q not found", u.ID)
	})
}

// User returns one user. ENotFound.
func (db *DB) User(ctx context.Context, id string) (*parley.User, error) {
	var u parley.User
	var banned, created int64
	err := db.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.SiteID, &banned, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	u.BannedUntil, u.Created = fromMillis(banned), fromMillis(created)
	return &u, nil
}
