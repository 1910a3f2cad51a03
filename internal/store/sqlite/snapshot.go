package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// queryFunc runs a read query: DB.query on the reader pool, or
// snapshot.query inside a Snapshot's read transaction. The reads that a
// snapshot offers are written once, against a queryFunc.
type queryFunc func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// Snapshot runs fn in one read transaction on a reader connection, which
// it holds until fn returns. In WAL mode the transaction reads the
// database as the last commit before its first read left it, and writers
// go on meanwhile: the same isolation as Backup's. Its first read is made
// here, so the snapshot is the one of the call. While it lasts, a
// checkpoint cannot move past it, so the write-ahead log grows with what
// is written meanwhile, and is truncated by the first checkpoint after.
func (db *DB) Snapshot(ctx context.Context, fn func(store.Reader) error) (err error) {
	conn, err := db.rdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	s := &snapshot{db: db, conn: conn, stmts: make(map[string]*sql.Stmt)}
	defer s.end()
	// BEGIN defers the snapshot to the transaction's first read.
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	return fn(s)
}

// snapshot is the store.Reader of a Snapshot: the reads of the DB's
// methods, on the snapshot's connection inside its transaction.
type snapshot struct {
	db    *DB
	conn  *sql.Conn
	stmts map[string]*sql.Stmt // prepared on conn, closed by end
}

var _ store.Reader = (*snapshot)(nil)

// query runs a read query in the transaction, preparing its statement on
// the connection once per snapshot.
func (s *snapshot) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, ok := s.stmts[q]
	if !ok {
		var err error
		if st, err = s.conn.PrepareContext(ctx, q); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		s.stmts[q] = st
	}
	return st.QueryContext(ctx, args...)
}

// end closes the statements and ends the transaction.
func (s *snapshot) end() {
	for _, st := range s.stmts {
		st.Close()
	}
	if _, err := s.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		// A connection left inside a transaction must not go back to the
		// pool: ErrBadConn makes database/sql close it.
		s.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// Pages is DB.Pages in the snapshot.
func (s *snapshot) Pages(ctx context.Context, q store.PageQuery) ([]store.PageActivity, error) {
	return pages(ctx, s.query, q)
}

// PageComments is DB.PageComments in the snapshot. The thread cache
// serves it as it serves the DB's: a page's rows are cached under the
// revision they were read at, so what it holds for the snapshot's
// revision is what the snapshot would read.
func (s *snapshot) PageComments(ctx context.Context, pageID int64) ([]*parley.Comment, error) {
	var out []*parley.Comment
	err := s.conn.Raw(func(dc any) error {
		var err error
		out, err = s.db.readPageComments(ctx, dc, pageID)
		return err
	})
	return out, err
}

// PageReports is DB.PageReports in the snapshot.
func (s *snapshot) PageReports(ctx context.Context, pageID int64) (map[int64][]*parley.Report, error) {
	return pageReports(ctx, s.query, pageID)
}

// Users is DB.Users in the snapshot.
func (s *snapshot) Users(ctx context.Context, ids []string) (map[string]*parley.User, error) {
	return users(ctx, s.query, ids)
}
