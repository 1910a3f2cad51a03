package sqlite

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
)

// EventsSince returns up to limit events with ID > after, oldest first. The
// single writer assigns ids in commit order, so a reader never sees an id
// appear behind one it has already read.
func (db *DB) EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT id, type, site_id, page_id, comment_id FROM events
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []parley.Event
	for rows.Next() {
		var e parley.Event
		if err := rows.Scan(&e.ID, &e.Type, &e.SiteID, &e.PageID, &e.CommentID); err != nil {
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
