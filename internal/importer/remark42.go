package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// remark42 reads a Remark42 backup as remark42's "backup" (its native
// export) writes it: JSON Lines whose first line is a header
// {"version":1,"users":[…],"posts":[{"url","read_only"}…]} and every other
// line one comment {"id","pid","text" (HTML),"user":{"id","name"},
// "locator":{"site","url"},"time","delete","title","score","pin",…}.
// A page is announced before the first comment on its URL.
type remark42 struct {
	l       lineReader
	started bool
	seen    map[string]bool // page URLs announced: true once with a title
	queue   []Record
}

func newRemark42(r *bufio.Reader) *remark42 {
	return &remark42{l: lineReader{r: r}, seen: map[string]bool{}}
}

type remark42Header struct {
	Version *int `json:"version"`
	Posts   []struct {
		URL      string `json:"url"`
		ReadOnly bool   `json:"read_only"`
	} `json:"posts"`
}

type remark42Comment struct {
	ID   string `json:"id"`
	PID  string `json:"pid"`
	Text string `json:"text"`
	User struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"user"`
	Locator struct {
		Site string `json:"site"`
		URL  string `json:"url"`
	} `json:"locator"`
	Score  int       `json:"score"`
	Time   time.Time `json:"time"`
	Delete bool      `json:"delete"`
	Pin    bool      `json:"pin"`
	Title  string    `json:"title"`
	Edit   *struct {
		Time time.Time `json:"time"`
	} `json:"edit"`
}

func (x *remark42) Next() (Record, error) {
	for {
		if len(x.queue) > 0 {
			r := x.queue[0]
			x.queue = x.queue[1:]
			return r, nil
		}
		line, err := x.l.next()
		if err == errLineTooLong {
			return Record{Warning: fmt.Sprintf("line %d is over %d bytes and was skipped", x.l.line, MaxLine)}, nil
		} else if err == io.EOF {
			if !x.started {
				return Record{}, fmt.Errorf("%w: the file is empty", ErrFormat)
			}
			return Record{}, io.EOF
		} else if err != nil {
			return Record{}, err
		}
		first := !x.started
		x.started = true
		if first && !bytes.Contains(line, []byte(`"locator"`)) {
			var h remark42Header
			if err := json.Unmarshal(line, &h); err != nil || h.Version == nil {
				return Record{}, fmt.Errorf("%w: the first line is not a remark42 backup header", ErrFormat)
			}
			if *h.Version > 1 {
				return Record{}, fmt.Errorf("%w: remark42 backup version %d is not known", ErrFormat, *h.Version)
			}
			for _, p := range h.Posts {
				if u := pageURL(p.URL, false); u != "" {
					if _, ok := x.seen[u]; ok {
						continue
					}
					x.seen[u] = false
					x.queue = append(x.queue, Record{Page: &Page{Key: u, URL: u, Closed: p.ReadOnly}})
				}
			}
			continue
		}
		var rc remark42Comment
		if err := json.Unmarshal(line, &rc); err != nil {
			return Record{Warning: fmt.Sprintf("line %d is not a comment: %v", x.l.line, err)}, nil
		}
		url := pageURL(rc.Locator.URL, false)
		if rc.ID == "" || url == "" {
			return Record{Warning: fmt.Sprintf("line %d: a comment without id or url was skipped", x.l.line)}, nil
		}
		c := &Comment{
			ID:       short(rc.ID),
			PageKey:  url,
			ParentID: short(rc.PID),
			Author:   Author{ID: short(rc.User.ID), Name: short(rc.User.Name), Email: short(rc.User.Email)},
			HTML:     true,
			Status:   StatusApproved,
			Created:  rc.Time.UTC(),
			Score:    rc.Score,
			Featured: rc.Pin,
		}
		c.Body, c.Truncated = capped(rc.Text, MaxBody)
		if rc.Edit != nil {
			c.Edited = rc.Edit.Time.UTC()
		}
		if rc.Delete {
			c.Status = StatusDeleted
		}
		// A page is announced at its first comment, and again when a
		// comment brings the title it lacked (the header has none).
		if titled, ok := x.seen[url]; !ok || (!titled && rc.Title != "") {
			x.seen[url] = rc.Title != ""
			x.queue = append(x.queue, Record{Page: &Page{Key: url, URL: url, Title: short(rc.Title)}})
		}
		x.queue = append(x.queue, Record{Comment: c})
	}
}
