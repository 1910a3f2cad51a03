package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
)

// EventsSince returns up to limit events with ID > after, oldest first. The
// single writer assigns ids in commit order, so a reader never sees an id
// appear behind one it has already read. The newest events this process
// committed come from memory (see store.EventTail); those another process wrote
// to the file after them come at the next call, which reads the file.
func (db *DB) EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	if evs, ok := db.tail.Since(after, limit); ok {
		return evs, nil
	}
	rows, err := db.query(ctx, `SELECT id, type, site_id, page_id, comment_id, user_id FROM events
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []parley.Event
	for rows.Next() {
		var e parley.Event
		if err := rows.Scan(&e.ID, &e.Type, &e.SiteID, &e.PageID, &e.CommentID, &e.UserID); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// LastEventID returns the newest event's ID, 0 when there is none. It reads
// the AUTOINCREMENT counter, so it does not go back when events are pruned.
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := db.queryRow(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read last event id: %w", err)
	}
	return id, nil
}

// ConsumerPosition returns the stored position of a durable consumer. ENotFound.
func (db *DB) ConsumerPosition(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := db.queryRow(ctx, `SELECT position FROM consumers WHERE name = ?`, name).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, parley.Errorf(parley.ENotFound, "no consumer %q", name)
	} else if err != nil {
		return 0, fmt.Errorf("read consumer position: %w", err)
	}
	return pos, nil
}

// SetConsumerPosition stores the position of a durable consumer.
func (db *DB) SetConsumerPosition(ctx context.Context, name string, pos int64) error {
	if name == "" {
		return parley.Errorf(parley.EInvalid, "a consumer needs a name")
	}
	return db.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO consumers (name, position, updated) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated = excluded.updated`,
			name, pos, millis(w.db.now()))
		if err != nil {
			return fmt.Errorf("store consumer position: %w", err)
		}
		return nil
	})
}

// DeleteConsumer forgets a durable consumer.
func (db *DB) DeleteConsumer(ctx context.Context, name string) error {
	return db.write(ctx, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM consumers WHERE name = ?`, name); err != nil {
			return fmt.Errorf("delete consumer: %w", err)
		}
		return nil
	})
}
