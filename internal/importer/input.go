package importer

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// cleanXML passes valid UTF-8 through and replaces invalid sequences and
// the characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) with
// U+FFFD, so that encoding/xml does not stop at the first bad byte of an
// export. Replaced counts what it replaced.
type cleanXML struct {
	r        *bufio.Reader
	Replaced int
}

func (c *cleanXML) Read(p []byte) (int, error) {
	n := 0
	for n+utf8.UTFMax <= len(p) {
		r, size, err := c.r.ReadRune()
		if err != nil {
			if n > 0 && err == io.EOF {
				return n, nil
			}
			return n, err
		}
		if (r == utf8.RuneError && size == 1) || !xmlChar(r) {
			r = utf8.RuneError
			c.Replaced++
		}
		n += utf8.EncodeRune(p[n:], r)
		if c.r.Buffered() == 0 && n > 0 {
			break // hand over what we have rather than block on the next read
		}
	}
	if n == 0 && len(p) < utf8.UTFMax {
		return 0, io.ErrShortBuffer
	}
	return n, nil
}

// xmlChar reports whether r may appear in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// newXMLDecoder returns a decoder for an export. It is not strict, so that
// an entity it does not know (&nbsp; and the other HTML names are known)
// stays as literal text instead of failing the whole import. Entities
// declared in a DOCTYPE are never expanded: encoding/xml reads a DOCTYPE as
// an opaque directive, so neither external entities (file://, http://) nor
// nested internal ones ("billion laughs") are ever resolved, and nothing is
// fetched. An encoding other than UTF-8 declared in the XML declaration is
// converted to UTF-8 (golang.org/x/net/html/charset) before cleaning.
func newXMLDecoder(r *bufio.Reader) (*xml.Decoder, *cleanXML) {
	if label := declaredEncoding(r); label != "" && !strings.EqualFold(label, "utf-8") && !strings.EqualFold(label, "utf8") {
		if cr, err := charset.NewReaderLabel(label, r); err == nil {
			r = bufio.NewReaderSize(cr, 64<<10)
		}
	}
	c := &cleanXML{r: r}
	d := xml.NewDecoder(c)
	d.Strict = false
	d.Entity = xml.HTMLEntity
	// The stream is UTF-8 by now, whatever the declaration says.
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) { return in, nil }
	return d, c
}

// declaredEncoding returns the encoding named in the XML declaration at the
// start of r, "" when there is none.
func declaredEncoding(r *bufio.Reader) string {
	head, _ := r.Peek(256)
	s := string(head)
	if !strings.HasPrefix(strings.TrimLeft(s, "\ufeff \t\r\n"), "<?xml") {
		return ""
	}
	end := strings.Index(s, "?>")
	if end < 0 {
		return ""
	}
	decl := s[:end]
	i := strings.Index(decl, "encoding=")
	if i < 0 || i+10 > len(decl) {
		return ""
	}
	q := decl[i+9]
	rest := decl[i+10:]
	j := strings.IndexByte(rest, q)
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// element is the text and attributes of one XML element and its
// descendants, by path relative to it ("author/name"), each text capped.
type element struct {
	attrs map[string]map[string]string // path → local attribute name → value
	text  map[string]*strings.Builder
	cut   map[string]bool // paths whose text was cut at its cap
}

// maxDepth bounds how deeply collect descends; deeper text is ignored.
const maxDepth = 16

// collect reads the element that start opened up to its end, keeping the
// text and attributes of every descendant by path; limit gives each path's
// cap in bytes.
func collect(d *xml.Decoder, start xml.StartElement, limit func(path string) int) (*element, error) {
	e := &element{attrs: map[string]map[string]string{}, text: map[string]*strings.Builder{}, cut: map[string]bool{}}
	addAttrs := func(path string, as []xml.Attr) {
		if len(as) == 0 {
			return
		}
		m := map[string]string{}
		for _, a := range as {
			m[a.Name.Local] = short(a.Value)
		}
		e.attrs[path] = m
	}
	addAttrs("", start.Attr)
	var stack []string
	path := ""
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("%w: the file ends inside <%s>", ErrFormat, start.Name.Local)
			}
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if len(stack) <= maxDepth {
				path = strings.Join(stack, "/")
				addAttrs(path, t.Attr)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return e, nil
			}
			stack = stack[:len(stack)-1]
			if len(stack) <= maxDepth {
				path = strings.Join(stack, "/")
			}
		case xml.CharData:
			if len(stack) > maxDepth {
				continue
			}
			b := e.text[path]
			if b == nil {
				b = &strings.Builder{}
				e.text[path] = b
			}
			room := limit(path) - b.Len()
			if len(t) > room {
				s, _ := capped(string(t), max(room, 0))
				b.WriteString(s)
				e.cut[path] = true
				continue
			}
			b.Write(t)
		}
	}
}

// get returns the trimmed text at path.
func (e *element) get(path string) string {
	if b := e.text[path]; b != nil {
		return strings.TrimSpace(b.String())
	}
	return ""
}

// attr returns the attribute of the element at path.
func (e *element) attr(path, name string) string { return e.attrs[path][name] }

// lineReader reads JSON Lines, each at most MaxLine bytes.
type lineReader struct {
	r    *bufio.Reader
	line int
}

// errLineTooLong is returned for a line over MaxLine; it has been skipped
// and the next read continues after it.
var errLineTooLong = errors.New("line too long")

// next returns the next non-blank line.
func (l *lineReader) next() ([]byte, error) {
	for {
		var buf []byte
		tooLong := false
		for {
			chunk, err := l.r.ReadSlice('\n')
			if !tooLong {
				if len(buf)+len(chunk) > MaxLine {
					tooLong, buf = true, nil
				} else {
					buf = append(buf, chunk...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && (err != io.EOF || (len(buf) == 0 && !tooLong)) {
				return nil, err
			}
			break
		}
		l.line++
		if tooLong {
			return nil, errLineTooLong
		}
		if b := bytes.TrimSpace(buf); len(b) > 0 {
			return b, nil
		}
	}
}
