// Package importer reads the comment exports of other systems — Disqus XML,
// WordPress WXR, Remark42 backups — and Parley's own export, and yields them
// as a stream of neutral records. It knows nothing of storage: the service
// decides what becomes of each record (package service, Import).
//
// Every reader streams: XML is read token by token (encoding/xml, which
// never resolves external entities or fetches a DTD) and JSON Lines one line
// at a time, so the size of an export bounds neither memory nor time per
// record. Each field is capped as it is read (see the Max constants); what
// is over a cap is cut and the record says so. Invalid UTF-8 and characters
// XML forbids are replaced by U+FFFD before the XML tokenizer sees them, so
// one bad byte in a multi-gigabyte export does not stop the import.
package importer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Formats are the sources Parley imports from, as named on the command line.
var Formats = []string{FormatDisqus, FormatWordPress, FormatRemark42, FormatParley}

// Format names.
const (
	FormatDisqus    = "disqus"
	FormatWordPress = "wordpress"
	FormatRemark42  = "remark42"
	FormatParley    = "parley"
)

// Caps on what a reader keeps of one field. A comment's body is kept up to
// MaxBody bytes of the source's HTML or markdown (enough for the API's 64 KiB
// of markdown after conversion); the rest is cut and Comment.Truncated set.
const (
	MaxBody  = 256 << 10
	MaxShort = 2048    // ids, names, e-mail addresses, titles, URLs
	MaxLine  = 4 << 20 // one JSON line; a longer one is skipped with a warning
	// MaxPolicy bounds a page's policy override (Parley's own export), as
	// "parley page policy --set -" reads one; a longer one is skipped
	// with a warning, the page kept.
	MaxPolicy = 1 << 20
)

// Statuses of imported comments, as the source had them.
const (
	StatusApproved = "approved"
	StatusPending  = "pending"  // awaiting moderation on the old system
	StatusRejected = "rejected" // refused by a moderator (Parley's own export)
	StatusSpam     = "spam"     // marked as spam or trashed
	StatusDeleted  = "deleted"
)

// Page is an article of the source with its thread.
type Page struct {
	Key     string // the source's id of the thread: comments name it in PageKey
	URL     string // as the source has it; the service canonicalises it
	Title   string
	Closed  bool
	Deleted bool // the source deleted the thread: its comments are not imported
	// Policy is the page's override of its site's policy, a JSON object
	// (Parley's own export only; nil for none). The service validates it.
	Policy json.RawMessage
}

// Author is who wrote a comment on the source.
type Author struct {
	ID    string // the source's id of the author ("" when it has none)
	Name  string
	Email string // private: stored for the publisher, never shown to readers
}

// Report is a reader's report of a comment (Parley's own export only).
type Report struct {
	Reporter Author
	Reason   string
	Note     string
	Outcome  string
	Created  time.Time
}

// Comment is one comment of the source.
type Comment struct {
	ID       string // unique within the source; keeps re-imports idempotent
	PageKey  string
	ParentID string // "" for a top-level comment
	QuoteID  string // the quoted comment (Parley's own export only)
	Author   Author
	Body     string // HTML when HTML is set, else markdown
	HTML     bool
	Status   string
	Created  time.Time // zero when the source has no valid time
	Edited   time.Time
	Score    int
	Featured bool
	Reasons  []Reason // why it is held or rejected (Parley's own export only)
	Toxicity float64
	Reports  []Report
	// Truncated is set when Body was cut at MaxBody.
	Truncated bool
}

// Reason is a moderation reason carried over from Parley's own export.
type Reason struct {
	Rule    string
	Message string
}

// Record is one item of an export: a page, a comment, or a warning about
// something the reader skipped (the import report lists them).
type Record struct {
	Page    *Page
	Comment *Comment
	Warning string
}

// Reader yields the records of an export in file order. Next returns io.EOF
// after the last one; any other error ends the stream.
type Reader interface {
	Next() (Record, error)
}

// NewReader returns the reader of format over r. A gzip-compressed input
// (by its magic number, whatever the file is called) is decompressed.
func NewReader(format string, r io.Reader) (Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	switch format {
	case FormatDisqus:
		return newDisqus(br), nil
	case FormatWordPress:
		return newWordPress(br), nil
	case FormatRemark42:
		return newRemark42(br), nil
	case FormatParley:
		return newParley(br), nil
	}
	return nil, fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// ErrFormat is wrapped by errors that say the input is not of the format.
var ErrFormat = errors.New("not a valid export")

// capped returns s cut to at most n bytes at a rune boundary, and whether it
// was cut.
func capped(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// short trims and caps a short field.
func short(s string) string {
	s, _ = capped(strings.TrimSpace(s), MaxShort)
	return s
}

// overLong ends a page URL that was longer than MaxShort bytes.
const overLong = "…"

// pageURL trims a page's URL. Unlike the other short fields it is never
// cut to fit: a URL cut to MaxShort bytes is another page's address, and
// two pages sharing their first MaxShort bytes would become one. A URL
// over MaxShort (or cut while read, as cut says) is kept as its first
// MaxShort bytes followed by overLong, which makes it longer than
// parley.MaxURLLength (= MaxShort): the import refuses it, with a
// warning, and skips its comments.
func pageURL(s string, cut bool) string {
	s = strings.TrimSpace(s)
	if s, c := capped(s, MaxShort); c || cut {
		return s + overLong
	}
	return s
}
