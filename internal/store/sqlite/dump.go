package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

var _ store.Dumper = (*DB)(nil)

// csvColumns are the lists of strings this schema keeps comma-separated
// rather than as a JSON array.
var csvColumns = map[string]bool{"webhooks.events": true}

// Dump reads every dumped table in one snapshot (see store.Dumper).
func (db *DB) Dump(ctx context.Context, emit func(t *store.DumpTable, row []any) error) error {
	return db.Snapshot(ctx, func(r store.Reader) error {
		s := r.(*snapshot)
		for i := range store.DumpTables {
			t := &store.DumpTables[i]
			if err := dumpTable(ctx, s.query, t, emit); err != nil {
				return err
			}
		}
		return nil
	})
}

func columnList(t *store.DumpTable) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = `"` + c.Name + `"`
	}
	return strings.Join(names, ", ")
}

func dumpTable(ctx context.Context, query queryFunc, t *store.DumpTable, emit func(*store.DumpTable, []any) error) error {
	rows, err := query(ctx, `SELECT `+columnList(t)+` FROM "`+t.Name+`" ORDER BY `+t.OrderBy)
	if err != nil {
		return fmt.Errorf("dump %s: %w", t.Name, err)
	}
	defer rows.Close()
	raw := make([]any, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("dump %s: %w", t.Name, err)
		}
		row := make([]any, len(raw))
		for i, c := range t.Columns {
			v, err := fromSQLite(c.Kind, csvColumns[t.Name+"."+c.Name], raw[i])
			if err != nil {
				return fmt.Errorf("dump %s.%s: %w", t.Name, c.Name, err)
			}
			row[i] = v
		}
		if err := emit(t, row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dump %s: %w", t.Name, err)
	}
	return nil
}

func asInt(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("%T for an integer", v)
}

func asText(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

// fromSQLite converts a value as the driver scans it to its dump kind.
func fromSQLite(k store.DumpKind, csv bool, v any) (any, error) {
	switch k {
	case store.DumpInt:
		return asInt(v)
	case store.DumpFloat:
		switch f := v.(type) {
		case float64:
			return f, nil
		case int64:
			return float64(f), nil
		}
		return nil, fmt.Errorf("%T for a number", v)
	case store.DumpText:
		s, ok := asText(v)
		if !ok {
			return nil, fmt.Errorf("%T for a string", v)
		}
		return s, nil
	case store.DumpBool:
		n, err := asInt(v)
		return n != 0, err
	case store.DumpTime:
		n, err := asInt(v)
		return fromMillis(n), err
	case store.DumpBytes:
		switch b := v.(type) {
		case nil:
			return []byte(nil), nil
		case []byte:
			return append([]byte{}, b...), nil
		case string:
			return []byte(b), nil
		}
		return nil, fmt.Errorf("%T for bytes", v)
	case store.DumpJSON:
		if v == nil {
			return json.RawMessage(nil), nil
		}
		s, ok := asText(v)
		if !ok {
			return nil, fmt.Errorf("%T for JSON", v)
		}
		return json.RawMessage(s), nil
	case store.DumpStrings:
		s, ok := asText(v)
		if !ok {
			return nil, fmt.Errorf("%T for a list", v)
		}
		if csv {
			if s == "" {
				return []string{}, nil
			}
			return strings.Split(s, ","), nil
		}
		var l []string
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("unknown kind %d", k)
}

// columnInfo is what the schema says of a column.
type columnInfo struct {
	typ     string // INTEGER, TEXT, BLOB, REAL
	notNull bool
}

// Restore stores a dump into this database, which must hold no site and
// no user, in one write of the writer (see store.Dumper).
func (db *DB) Restore(ctx context.Context, rows func(yield func(t *store.DumpTable, row []any) error) error) error {
	return db.write(ctx, func(w *wtx) error {
		var used int
		if err := w.tx.QueryRowContext(w.ctx, `SELECT (SELECT count(*) FROM sites) + (SELECT count(*) FROM users)`).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return parley.Errorf(parley.EConflict, "the database holds sites or users already: restore into an empty database")
		}
		info := map[string]map[string]columnInfo{}
		for _, t := range store.DumpTables {
			cols := map[string]columnInfo{}
			rs, err := w.tx.QueryContext(w.ctx, `SELECT name, type, "notnull" FROM pragma_table_info(?)`, t.Name)
			if err != nil {
				return err
			}
			for rs.Next() {
				var name string
				var ci columnInfo
				if err := rs.Scan(&name, &ci.typ, &ci.notNull); err != nil {
					rs.Close()
					return err
				}
				cols[name] = ci
			}
			rs.Close()
			info[t.Name] = cols
		}
		stmts := map[string]*sql.Stmt{}
		defer func() {
			for _, s := range stmts {
				s.Close()
			}
		}()
		return rows(func(t *store.DumpTable, row []any) error {
			st := stmts[t.Name]
			if st == nil {
				marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.Columns)), ", ")
				var err error
				if st, err = w.tx.PrepareContext(w.ctx, `INSERT INTO "`+t.Name+`" (`+columnList(t)+`) VALUES (`+marks+`)`); err != nil {
					return fmt.Errorf("restore %s: %w", t.Name, err)
				}
				stmts[t.Name] = st
			}
			args := make([]any, len(row))
			for i, c := range t.Columns {
				ci, ok := info[t.Name][c.Name]
				if !ok {
					return fmt.Errorf("restore: the schema has no column %s.%s", t.Name, c.Name)
				}
				v, err := toSQLite(c.Kind, ci, csvColumns[t.Name+"."+c.Name], row[i])
				if err != nil {
					return parley.Errorf(parley.EInvalid, "restore %s.%s: %v", t.Name, c.Name, err)
				}
				args[i] = v
			}
			if _, err := st.ExecContext(w.ctx, args...); err != nil {
				return fmt.Errorf("restore %s: %w", t.Name, err)
			}
			return nil
		})
	})
}

// toSQLite converts a dumped value for the column.
func toSQLite(k store.DumpKind, ci columnInfo, csv bool, v any) (any, error) {
	switch k {
	case store.DumpBool:
		if v.(bool) {
			return int64(1), nil
		}
		return int64(0), nil
	case store.DumpTime:
		t := v.(time.Time)
		if t.IsZero() && !ci.notNull {
			return nil, nil
		}
		return millis(t), nil
	case store.DumpBytes:
		b := v.([]byte)
		if b == nil {
			if ci.notNull {
				return nil, fmt.Errorf("null for a column that may not be")
			}
			return nil, nil
		}
		if ci.typ == "TEXT" {
			return string(b), nil
		}
		return b, nil
	case store.DumpJSON:
		raw := v.(json.RawMessage)
		if raw == nil {
			return nil, nil
		}
		return string(raw), nil
	case store.DumpStrings:
		l := v.([]string)
		if csv {
			return strings.Join(l, ","), nil
		}
		return jsonList(l), nil
	}
	return v, nil
}
