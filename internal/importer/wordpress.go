package importer

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// wordPress reads a WordPress WXR export: RSS 2.0 with the wp: namespace,
// one <item> per post with its <link>, <title>, <wp:post_id> and its
// <wp:comment> entries (comment_id, comment_author, comment_author_email,
// comment_date_gmt, comment_content, comment_approved 1/0/spam/trash,
// comment_parent, comment_type, comment_user_id). Pingbacks and
// trackbacks are skipped. An item's page is announced at its first
// comment, so <link> must come before the comments, as WordPress writes it.
type wordPress struct {
	d       *xml.Decoder
	clean   *cleanXML
	started bool
	warned  int
	inItem  bool
	item    struct{ key, link, title, postID string }
	pageOut bool // the current item's page was announced
	queue   []Record
}

func newWordPress(r *bufio.Reader) *wordPress {
	d, c := newXMLDecoder(r)
	return &wordPress{d: d, clean: c}
}

func (x *wordPress) Next() (Record, error) {
	if !x.started {
		if err := root(x.d, "rss"); err != nil {
			return Record{}, err
		}
		x.started = true
	}
	for {
		if len(x.queue) > 0 {
			r := x.queue[0]
			x.queue = x.queue[1:]
			return r, nil
		}
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
		switch t := tok.(type) {
		case xml.StartElement:
			if !x.inItem {
				if t.Name.Local == "item" {
					x.inItem, x.pageOut = true, false
					x.item = struct{ key, link, title, postID string }{}
				}
				continue // channel and its children: descend
			}
			if t.Name.Local == "comment" {
				e, err := collect(x.d, t, func(path string) int {
					if path == "comment_content" {
						return MaxBody
					}
					return MaxShort
				})
				if err != nil {
					return Record{}, err
				}
				x.comment(e)
				continue
			}
			e, err := collect(x.d, t, shortFields)
			if err != nil {
				return Record{}, err
			}
			switch t.Name.Local {
			case "link":
				x.item.link = pageURL(e.get(""), e.cut[""])
			case "title":
				x.item.title = short(e.get(""))
			case "post_id":
				x.item.postID = short(e.get(""))
			}
		case xml.EndElement:
			if x.inItem && t.Name.Local == "item" {
				x.inItem = false
			}
		}
	}
}

// comment queues the records of one <wp:comment>: its page first when it
// is the item's first comment.
func (x *wordPress) comment(e *element) {
	if !x.pageOut {
		x.pageOut = true
		x.item.key = x.item.postID
		if x.item.key == "" {
			x.item.key = x.item.link
		}
		x.queue = append(x.queue, Record{Page: &Page{Key: x.item.key, URL: x.item.link, Title: x.item.title}})
	}
	typ := e.get("comment_type")
	if typ != "" && typ != "comment" {
		x.queue = append(x.queue, Record{Warning: "skipped a " + short(typ)})
		return
	}
	c := &Comment{
		ID:        e.get("comment_id"),
		PageKey:   x.item.key,
		Author:    Author{Name: short(e.get("comment_author")), Email: short(e.get("comment_author_email"))},
		Body:      wpAutoP(e.get("comment_content")),
		HTML:      true,
		Truncated: e.cut["comment_content"],
		Created:   parseTime(e.get("comment_date_gmt")),
	}
	if c.Created.IsZero() {
		c.Created = parseTime(e.get("comment_date")) // local time, read as UTC: the best there is
	}
	if p := e.get("comment_parent"); p != "0" {
		c.ParentID = short(p)
	}
	if u := e.get("comment_user_id"); u != "" && u != "0" {
		c.Author.ID = "wp-user-" + short(u)
	}
	switch e.get("comment_approved") {
	case "1", "approve", "approved":
		c.Status = StatusApproved
	case "0", "hold":
		c.Status = StatusPending
	case "spam":
		c.Status = StatusSpam
	case "trash", "post-trashed":
		c.Status = StatusDeleted
	default:
		c.Status = StatusPending
	}
	if c.ID == "" {
		x.queue = append(x.queue, Record{Warning: "a comment without comment_id was skipped"})
		return
	}
	x.queue = append(x.queue, Record{Comment: c})
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n\s*`)

// wpAutoP does what WordPress does when it shows a comment: blank lines
// separate paragraphs and a single newline is a line break.
func wpAutoP(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
	s = blankLines.ReplaceAllString(s, "<p>")
	return strings.ReplaceAll(s, "\n", "<br>")
}
