package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

var _ store.Dumper = (*DB)(nil)

func columnList(t *store.DumpTable) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = `"` + c.Name + `"`
	}
	return strings.Join(names, ", ")
}

// Dump reads every dumped table in one REPEATABLE READ snapshot (see
// store.Dumper).
func (db *DB) Dump(ctx context.Context, emit func(t *store.DumpTable, row []any) error) error {
	return db.snapshot(ctx, func(tx pgx.Tx) error {
		for i := range store.DumpTables {
			t := &store.DumpTables[i]
			if err := dumpTable(ctx, tx, t, emit); err != nil {
				return err
			}
		}
		return nil
	})
}

func dumpTable(ctx context.Context, tx pgx.Tx, t *store.DumpTable, emit func(*store.DumpTable, []any) error) error {
	rows, err := tx.Query(ctx, `SELECT `+columnList(t)+` FROM "`+t.Name+`" ORDER BY `+t.OrderBy)
	if err != nil {
		return wrap(err, "dump "+t.Name)
	}
	defer rows.Close()
	for rows.Next() {
		dest := make([]any, len(t.Columns))
		for i, c := range t.Columns {
			switch c.Kind {
			case store.DumpInt:
				dest[i] = new(int64)
			case store.DumpFloat:
				dest[i] = new(float64)
			case store.DumpText:
				dest[i] = new(string)
			case store.DumpBool:
				dest[i] = new(bool)
			case store.DumpTime:
				dest[i] = new(*time.Time)
			case store.DumpBytes, store.DumpJSON:
				dest[i] = new([]byte)
			case store.DumpStrings:
				dest[i] = new([]string)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return wrap(err, "dump "+t.Name)
		}
		row := make([]any, len(dest))
		for i, c := range t.Columns {
			switch c.Kind {
			case store.DumpInt:
				row[i] = *dest[i].(*int64)
			case store.DumpFloat:
				row[i] = *dest[i].(*float64)
			case store.DumpText:
				row[i] = *dest[i].(*string)
			case store.DumpBool:
				row[i] = *dest[i].(*bool)
			case store.DumpTime:
				row[i] = fromNull(*dest[i].(**time.Time))
			case store.DumpBytes:
				row[i] = *dest[i].(*[]byte)
			case store.DumpJSON:
				if b := *dest[i].(*[]byte); b != nil {
					row[i] = json.RawMessage(b)
				} else {
					row[i] = json.RawMessage(nil)
				}
			case store.DumpStrings:
				l := *dest[i].(*[]string)
				if l == nil {
					l = []string{}
				}
				row[i] = l
			}
		}
		if err := emit(t, row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap(err, "dump "+t.Name)
	}
	return nil
}

// Restore stores a dump into this database, which must hold no site and
// no user, in one transaction, and moves each identity sequence past the
// highest id restored (see store.Dumper). It is not retried: rows reads
// the dump once.
func (db *DB) Restore(ctx context.Context, rows func(yield func(t *store.DumpTable, row []any) error) error) error {
	return db.tryWrite(ctx, func(tx pgx.Tx) error {
		var used int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM sites) + (SELECT count(*) FROM users)`).Scan(&used); err != nil {
			return wrap(err, "restore")
		}
		if used > 0 {
			return parley.Errorf(parley.EConflict, "the database holds sites or users already: restore into an empty database")
		}
		nullable := map[string]bool{}
		rs, err := tx.Query(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND is_nullable = 'YES'`)
		if err != nil {
			return wrap(err, "restore")
		}
		for rs.Next() {
			var n string
			if err := rs.Scan(&n); err != nil {
				rs.Close()
				return wrap(err, "restore")
			}
			nullable[n] = true
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return wrap(err, "restore")
		}
		const batchSize = 500
		b := &pgx.Batch{}
		flush := func() error {
			if b.Len() == 0 {
				return nil
			}
			err := tx.SendBatch(ctx, b).Close()
			b = &pgx.Batch{}
			if err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			return nil
		}
		inserts := map[string]string{}
		err = rows(func(t *store.DumpTable, row []any) error {
			q, ok := inserts[t.Name]
			if !ok {
				marks := make([]string, len(t.Columns))
				for i := range marks {
					marks[i] = fmt.Sprintf("$%d", i+1)
				}
				override := ""
				if t.Identity != "" {
					override = " OVERRIDING SYSTEM VALUE"
				}
				q = `INSERT INTO "` + t.Name + `" (` + columnList(t) + `)` + override + ` VALUES (` + strings.Join(marks, ", ") + `)`
				inserts[t.Name] = q
			}
			args := make([]any, len(row))
			for i, c := range t.Columns {
				args[i] = toPostgres(c.Kind, nullable[t.Name+"."+c.Name], row[i])
			}
			b.Queue(q, args...)
			if b.Len() >= batchSize {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		for _, t := range store.DumpTables {
			if t.Identity == "" {
				continue
			}
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), max(`+t.Identity+`)) FROM "`+t.Name+`" HAVING max(`+t.Identity+`) IS NOT NULL`,
				t.Name, t.Identity); err != nil {
				return wrap(err, "restore: sequence of "+t.Name)
			}
		}
		return nil
	})
}

// toPostgres converts a dumped value for a column: the zero time is NULL
// where the column may be NULL and the Unix epoch where it may not (as the
// store writes a zero time there).
func toPostgres(k store.DumpKind, nullable bool, v any) any {
	switch k {
	case store.DumpTime:
		t := v.(time.Time)
		if t.IsZero() {
			if nullable {
				return nil
			}
			return time.Unix(0, 0).UTC()
		}
		return t
	case store.DumpBytes:
		if b := v.([]byte); b != nil {
			return b
		}
		return nil
	case store.DumpJSON:
		if raw := v.(json.RawMessage); raw != nil {
			return string(raw)
		}
		return nil
	}
	return v
}
