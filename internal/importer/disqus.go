package importer

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// disqus reads a Disqus XML export: a <disqus> root with <category>,
// <thread dsq:id> (link, title, isClosed, isDeleted) and <post dsq:id>
// (thread and parent by dsq:id, message as HTML, createdAt, author name,
// email and username, isDeleted, isSpam) elements, in any order.
type disqus struct {
	d       *xml.Decoder
	clean   *cleanXML
	started bool
	warned  int // replacements already reported
}

func newDisqus(r *bufio.Reader) *disqus {
	d, c := newXMLDecoder(r)
	return &disqus{d: d, clean: c}
}

func (x *disqus) Next() (Record, error) {
	if !x.started {
		if err := root(x.d, "disqus"); err != nil {
			return Record{}, err
		}
		x.started = true
	}
	for {
		if n := x.clean.Replaced; n > x.warned {
			x.warned = n
			return Record{Warning: fmt.Sprintf("replaced invalid UTF-8 or control characters (%d so far)", n)}, nil
		}
		tok, err := x.d.Token()
		if err == io.EOF {
			return Record{}, io.EOF
		} else if err != nil {
			return Record{}, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "disqus" {
				return Record{}, io.EOF
			}
			continue
		}
		switch se.Name.Local {
		case "thread":
			e, err := collect(x.d, se, shortFields)
			if err != nil {
				return Record{}, err
			}
			p := &Page{Key: e.attr("", "id"), URL: pageURL(e.get("link"), e.cut["link"]), Title: short(e.get("title")),
				Closed: e.get("isClosed") == "true", Deleted: e.get("isDeleted") == "true"}
			if p.Key == "" {
				return Record{Warning: "a thread without dsq:id was skipped"}, nil
			}
			return Record{Page: p}, nil
		case "post":
			e, err := collect(x.d, se, func(path string) int {
				if path == "message" {
					return MaxBody
				}
				return MaxShort
			})
			if err != nil {
				return Record{}, err
			}
			c := &Comment{
				ID:        e.attr("", "id"),
				PageKey:   e.attr("thread", "id"),
				ParentID:  e.attr("parent", "id"),
				Body:      e.get("message"),
				HTML:      true,
				Truncated: e.cut["message"],
				Author:    Author{Name: short(e.get("author/name")), Email: short(e.get("author/email"))},
				Status:    StatusApproved,
				Created:   parseTime(e.get("createdAt")),
			}
			if e.get("author/isAnonymous") != "true" {
				c.Author.ID = short(e.get("author/username"))
			}
			switch {
			case e.get("isSpam") == "true":
				c.Status = StatusSpam
			case e.get("isDeleted") == "true":
				c.Status = StatusDeleted
			}
			if c.ID == "" || c.PageKey == "" {
				return Record{Warning: "a post without dsq:id or thread was skipped"}, nil
			}
			return Record{Comment: c}, nil
		default:
			if err := x.d.Skip(); err != nil {
				return Record{}, fmt.Errorf("%w: %v", ErrFormat, err)
			}
		}
	}
}

// shortFields caps every field at MaxShort.
func shortFields(string) int { return MaxShort }

// root reads up to the document's root element and checks its name.
func root(d *xml.Decoder, name string) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return fmt.Errorf("%w: no <%s> element", ErrFormat, name)
		} else if err != nil {
			return fmt.Errorf("%w: %v", ErrFormat, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != name {
				return fmt.Errorf("%w: the root element is <%s>, not <%s>", ErrFormat, se.Name.Local, name)
			}
			return nil
		}
	}
}

// parseTime reads the time formats exports use; the zero time when none fits.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.RFC1123Z} {
		if t, err := time.Parse(layout, s); err == nil && t.Year() > 1970 && t.Year() < 3000 {
			return t.UTC()
		}
	}
	return time.Time{}
}
