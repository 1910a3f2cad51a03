package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// A whole instance's dump ("parley export --all", "parley restore"): every
// row of every table that holds the instance's data, in a form that does
// not depend on the backend, so that a dump of SQLite restores into
// PostgreSQL and the other way round, and a dump of a restored database is
// byte for byte the dump it was restored from.
//
// The format is JSON Lines: a header line
//
//	{"format":"parley-instance","version":1,"tables":{"sites":["id",…],…}}
//
// then one line per row, {"t":"comments","r":[…]}, the values in the
// order of the header's columns, tables in the order of DumpTables (parents
// before children) and rows by primary key. Values are canonical: integers
// and floats as JSON numbers, booleans as booleans, times as RFC 3339 in
// UTC with as many fractional digits as the time has (null for none: the
// zero time, 0 on SQLite, NULL on PostgreSQL), byte strings as base64 (null
// for NULL), JSON columns compacted with their keys ordered, lists of
// strings as arrays. There is no export time in the file, so two dumps of
// the same data are the same bytes.

// DumpKind is the canonical type of a dumped column.
type DumpKind int

// Dump kinds and the Go type each value has between a backend and the codec.
const (
	DumpInt     DumpKind = iota // int64
	DumpFloat                   // float64
	DumpText                    // string
	DumpBool                    // bool
	DumpTime                    // time.Time, UTC; the zero time for none
	DumpBytes                   // []byte; nil for NULL
	DumpJSON                    // json.RawMessage, compact with ordered keys; nil for NULL
	DumpStrings                 // []string, never nil
)

// DumpColumn is one column of a dumped table.
type DumpColumn struct {
	Name string
	Kind DumpKind
}

// DumpTable is one dumped table: its columns as both schemas name them, and
// the primary key its rows are ordered by. Identity is the integer id column
// a backend's sequence must continue after, "" for none.
type DumpTable struct {
	Name     string
	OrderBy  string
	Identity string
	Columns  []DumpColumn
}

func cols(spec ...any) []DumpColumn {
	var out []DumpColumn
	for i := 0; i < len(spec); i += 2 {
		out = append(out, DumpColumn{Name: spec[i].(string), Kind: spec[i+1].(DumpKind)})
	}
	return out
}

// DumpTables lists the dumped tables, parents before the tables that refer
// to them. Every table of both schemas is either here or in DumpSkipped
// (TestDumpCoversSchema of each backend checks it, column by column).
var DumpTables = []DumpTable{
	{Name: "sites", OrderBy: "id", Columns: cols("id", DumpText, "name", DumpText, "origins", DumpStrings, "policy_url", DumpText,
		"ignore_params", DumpStrings, "policy", DumpBytes, "created", DumpTime)},
	{Name: "site_sso", OrderBy: "site_id", Columns: cols("site_id", DumpText, "secret", DumpBytes, "jwks_url", DumpText, "only_sso", DumpBool, "updated", DumpTime)},
	{Name: "site_oidc", OrderBy: "site_id", Columns: cols("site_id", DumpText, "issuer", DumpText, "client_id", DumpText, "client_secret", DumpBytes,
		"scopes", DumpText, "provider_name", DumpText, "moderators", DumpBool, "staff_subjects", DumpJSON, "updated", DumpTime)},
	{Name: "site_privacy", OrderBy: "site_id", Columns: cols("site_id", DumpText, "erasure", DumpText)},
	{Name: "site_models", OrderBy: "site_id", Columns: cols("site_id", DumpText, "version", DumpInt, "model", DumpBytes, "decisions", DumpInt,
		"base", DumpText, "created", DumpTime)},
	{Name: "users", OrderBy: "id", Columns: cols("id", DumpText, "name", DumpText, "email", DumpText, "role", DumpText, "site_id", DumpText,
		"banned_until", DumpTime, "created", DumpTime, "password_hash", DumpText, "picture", DumpText, "sessions_after", DumpTime, "own_name", DumpBool)},
	{Name: "pages", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "site_id", DumpText, "url", DumpText, "title", DumpText,
		"closed", DumpBool, "count", DumpInt, "last_number", DumpInt, "policy", DumpBytes, "created", DumpTime)},
	{Name: "comments", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "site_id", DumpText, "page_id", DumpInt, "parent_id", DumpInt,
		"root_id", DumpInt, "quote_id", DumpInt, "number", DumpInt, "author_id", DumpText, "author_name", DumpText, "ip_hash", DumpText,
		"featured", DumpBool, "seen", DumpBool, "text", DumpText, "html", DumpText, "status", DumpText, "reasons", DumpJSON,
		"toxicity", DumpFloat, "created", DumpTime, "edited", DumpTime, "score", DumpInt, "text_hash", DumpInt)},
	{Name: "imports", OrderBy: "site_id, source, source_id", Columns: cols("site_id", DumpText, "source", DumpText, "source_id", DumpText, "comment_id", DumpInt)},
	{Name: "reports", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "comment_id", DumpInt, "reporter_id", DumpText, "reason", DumpText,
		"note", DumpText, "outcome", DumpText, "created", DumpTime)},
	{Name: "votes", OrderBy: "comment_id, user_id", Columns: cols("comment_id", DumpInt, "user_id", DumpText, "value", DumpInt)},
	{Name: "author_stats", OrderBy: "author_id", Columns: cols("author_id", DumpText, "approved", DumpInt, "rejected", DumpInt, "pending", DumpInt, "upheld", DumpInt)},
	{Name: "sanctions", OrderBy: "user_id, site_id", Columns: cols("user_id", DumpText, "site_id", DumpText, "suspended_until", DumpTime,
		"premoderated", DumpBool, "updated", DumpTime)},
	{Name: "notes", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "user_id", DumpText, "site_id", DumpText, "author_id", DumpText,
		"author_name", DumpText, "text", DumpText, "created", DumpTime)},
	{Name: "actions", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "actor_id", DumpText, "actor_name", DumpText, "action", DumpText,
		"comment_id", DumpInt, "user_id", DumpText, "site_id", DumpText, "note", DumpText, "before", DumpBytes, "after", DumpBytes, "created", DumpTime)},
	{Name: "ban_marks", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "site_id", DumpText, "banned_id", DumpText, "kind", DumpText,
		"value", DumpText, "seen", DumpTime, "created", DumpTime, "expires", DumpTime)},
	{Name: "mail_prefs", OrderBy: "user_id", Columns: cols("user_id", DumpText, "no_replies", DumpBool, "no_alerts", DumpBool, "alert_digest", DumpBool, "updated", DumpTime)},
	{Name: "mail_queue", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "key", DumpText, "grp", DumpText, "kind", DumpText, "user_id", DumpText,
		"rcpt", DumpText, "data", DumpBytes, "created", DumpTime, "next_try", DumpTime, "attempts", DumpInt, "last_error", DumpText,
		"sent", DumpTime, "message_id", DumpText, "failed", DumpTime)},
	{Name: "webhooks", OrderBy: "id", Identity: "id", Columns: cols("id", DumpInt, "site_id", DumpText, "url", DumpText, "secret", DumpText,
		"events", DumpStrings, "format", DumpText, "created", DumpTime)},
	{Name: "sso_tokens", OrderBy: "site_id, jti", Columns: cols("site_id", DumpText, "jti", DumpText, "expires", DumpTime)},
	// Ended reader sessions: their cookies must not work again on the
	// restored instance.
	{Name: "reader_session_revocations", OrderBy: "token_hash", Columns: cols("token_hash", DumpText, "user_id", DumpText, "expires", DumpTime)},
}

// DumpSkipped are the tables a dump leaves out, and why: a restored
// instance starts with an empty event log (nothing is waiting to be
// delivered from a database that is not running), and with no sign-in,
// session or link in flight, so everyone signs in again.
var DumpSkipped = map[string]string{
	"events":             "the event log of a running instance; a restore starts a new one",
	"consumers":          "positions in the event log that is not restored",
	"webhook_deliveries": "the delivery log of events that are not restored",
	"staff_sessions":     "moderators sign in again on the restored instance",
	"oidc_logins":        "sign-ins in progress, minutes long",
	"mail_tokens":        "e-mailed links in flight, minutes long",
	"idempotency_keys":   "retries of requests to the old instance, a day long",
	"schema_migrations":  "the schema is the restoring binary's",
}

// DumpTableByName returns the dumped table called name.
func DumpTableByName(name string) (*DumpTable, bool) {
	for i := range DumpTables {
		if DumpTables[i].Name == name {
			return &DumpTables[i], true
		}
	}
	return nil, false
}

// Dumper is implemented by both backends.
type Dumper interface {
	// Dump calls emit with every row of every table of DumpTables, in
	// their order, rows by OrderBy, the values of the table's columns as
	// DumpKind says, all read in one snapshot.
	Dump(ctx context.Context, emit func(t *DumpTable, row []any) error) error
	// Restore stores rows into an empty database in one transaction:
	// rows calls its yield with each row (as Dump emits them, tables in
	// the order of DumpTables), and identity sequences continue after the
	// highest id restored. EConflict when the database holds a site or a
	// user already; on any error nothing is stored.
	Restore(ctx context.Context, rows func(yield func(t *DumpTable, row []any) error) error) error
}

// DumpHeader is the first line of a dump.
type DumpHeader struct {
	Format  string              `json:"format"`
	Version int                 `json:"version"`
	Tables  map[string][]string `json:"tables"`
}

type dumpLine struct {
	T string            `json:"t"`
	R []json.RawMessage `json:"r"`
}

// DumpCounts counts rows by table.
type DumpCounts map[string]int

// WriteDump writes the dump of d to w and returns how many rows of each
// table it wrote.
func WriteDump(ctx context.Context, d Dumper, w io.Writer) (DumpCounts, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	h := DumpHeader{Format: "parley-instance", Version: 1, Tables: map[string][]string{}}
	for _, t := range DumpTables {
		for _, c := range t.Columns {
			h.Tables[t.Name] = append(h.Tables[t.Name], c.Name)
		}
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return nil, err
	}
	counts := DumpCounts{}
	err := d.Dump(ctx, func(t *DumpTable, row []any) error {
		line := dumpLine{T: t.Name, R: make([]json.RawMessage, len(row))}
		for i, v := range row {
			raw, err := encodeDumpValue(t.Columns[i].Kind, v)
			if err != nil {
				return fmt.Errorf("dump %s.%s: %w", t.Name, t.Columns[i].Name, err)
			}
			line.R[i] = raw
		}
		counts[t.Name]++
		return enc.Encode(line)
	})
	if err != nil {
		return nil, err
	}
	return counts, bw.Flush()
}

// ReadDump restores the dump read from r into d (see Dumper.Restore) and
// returns how many rows of each table it stored. EInvalid for a file that
// is not a version 1 dump, a table or column this binary does not know,
// or a value of the wrong type.
func ReadDump(ctx context.Context, d Dumper, r io.Reader) (DumpCounts, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := readLine(br)
	if err != nil {
		return nil, parley.Errorf(parley.EInvalid, "not a Parley instance dump: %v", err)
	}
	var h DumpHeader
	if err := json.Unmarshal(first, &h); err != nil || h.Format != "parley-instance" {
		return nil, parley.Errorf(parley.EInvalid, "not a Parley instance dump (the first line is no parley-instance header)")
	}
	if h.Version != 1 {
		return nil, parley.Errorf(parley.EInvalid, "a dump of version %d: this binary reads version 1", h.Version)
	}
	// The file's columns must be the binary's: a dump from an older or
	// newer schema is refused, never restored with a column silently lost.
	for name, fileCols := range h.Tables {
		t, ok := DumpTableByName(name)
		if !ok {
			return nil, parley.Errorf(parley.EInvalid, "the dump has a table %q this binary does not know", name)
		}
		var want []string
		for _, c := range t.Columns {
			want = append(want, c.Name)
		}
		if !slices.Equal(fileCols, want) {
			return nil, parley.Errorf(parley.EInvalid, "the dump's columns of %s are %v; this binary's are %v", name, fileCols, want)
		}
	}
	counts := DumpCounts{}
	order := map[string]int{}
	for i, t := range DumpTables {
		order[t.Name] = i
	}
	lineNo := 1
	err = d.Restore(ctx, func(yield func(t *DumpTable, row []any) error) error {
		last := -1
		for {
			b, err := readLine(br)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			lineNo++
			var l dumpLine
			if err := json.Unmarshal(b, &l); err != nil {
				return parley.Errorf(parley.EInvalid, "line %d: %v", lineNo, err)
			}
			t, ok := DumpTableByName(l.T)
			if !ok || h.Tables[l.T] == nil {
				return parley.Errorf(parley.EInvalid, "line %d: unknown table %q", lineNo, l.T)
			}
			if order[l.T] < last {
				return parley.Errorf(parley.EInvalid, "line %d: a row of %s after the rows of a table that refers to it", lineNo, l.T)
			}
			last = order[l.T]
			if len(l.R) != len(t.Columns) {
				return parley.Errorf(parley.EInvalid, "line %d: %d values for the %d columns of %s", lineNo, len(l.R), len(t.Columns), l.T)
			}
			row := make([]any, len(l.R))
			for i, raw := range l.R {
				v, err := decodeDumpValue(t.Columns[i].Kind, raw)
				if err != nil {
					return parley.Errorf(parley.EInvalid, "line %d: %s.%s: %v", lineNo, l.T, t.Columns[i].Name, err)
				}
				row[i] = v
			}
			if err := yield(t, row); err != nil {
				return err
			}
			counts[t.Name]++
		}
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// readLine reads one line of any length, without its newline; io.EOF at the end.
func readLine(br *bufio.Reader) ([]byte, error) {
	for {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			return nil, err
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			if err != nil {
				return nil, err
			}
			continue // a blank line
		}
		return b, nil
	}
}

func encodeDumpValue(k DumpKind, v any) (json.RawMessage, error) {
	switch k {
	case DumpTime:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("%T for a time", v)
		}
		if t.IsZero() || t.Equal(time.Unix(0, 0)) {
			return json.RawMessage("null"), nil
		}
		return json.Marshal(t.UTC().Format(time.RFC3339Nano))
	case DumpJSON:
		raw, _ := v.(json.RawMessage)
		if raw == nil {
			return json.RawMessage("null"), nil
		}
		return CanonicalJSON(raw)
	case DumpBytes:
		b, _ := v.([]byte)
		if b == nil {
			return json.RawMessage("null"), nil
		}
		return json.Marshal(b)
	case DumpStrings:
		s, _ := v.([]string)
		if s == nil {
			s = []string{}
		}
		return json.Marshal(s)
	}
	return json.Marshal(v)
}

func decodeDumpValue(k DumpKind, raw json.RawMessage) (any, error) {
	null := string(raw) == "null"
	switch k {
	case DumpInt:
		var n int64
		err := json.Unmarshal(raw, &n)
		if null {
			err = fmt.Errorf("null for an integer")
		}
		return n, err
	case DumpFloat:
		var f float64
		err := json.Unmarshal(raw, &f)
		if null {
			err = fmt.Errorf("null for a number")
		}
		return f, err
	case DumpText:
		var s string
		err := json.Unmarshal(raw, &s)
		if null {
			err = fmt.Errorf("null for a string")
		}
		return s, err
	case DumpBool:
		var b bool
		err := json.Unmarshal(raw, &b)
		if null {
			err = fmt.Errorf("null for a boolean")
		}
		return b, err
	case DumpTime:
		if null {
			return time.Time{}, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err
	case DumpBytes:
		if null {
			return []byte(nil), nil
		}
		var b []byte
		err := json.Unmarshal(raw, &b)
		if b == nil {
			b = []byte{}
		}
		return b, err
	case DumpJSON:
		if null {
			return json.RawMessage(nil), nil
		}
		c, err := CanonicalJSON(raw)
		return c, err
	case DumpStrings:
		var s []string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s == nil {
			s = []string{}
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown kind %d", k)
}

// CanonicalJSON returns raw compacted with the keys of its objects ordered,
// numbers kept as written: the same document whichever backend stored it
// (PostgreSQL's jsonb reorders keys and adds spaces).
func CanonicalJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}
