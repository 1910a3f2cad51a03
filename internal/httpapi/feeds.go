package httpapi

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// Feeds: RSS 2.0 and Atom of the newest approved comments of a page or a
// site. Entries carry the comment's HTML as it was sanitised at write time,
// escaped by encoding/xml, and the author's display name only. Page feeds
// are cached with the page's thread responses and dropped with them; site
// feeds are dropped by a write to any page (see sitewide).

type feedScope int

const (
	feedPage feedScope = iota
	feedSite
)

type feedFormat int

const (
	feedRSS feedFormat = iota
	feedAtom
)

func (s *Server) handleFeed(scope feedScope, format feedFormat) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		site, rawURL := q.Get("site"), q.Get("url")
		if site == "" || (scope == feedPage && rawURL == "") {
			msg := "site is required"
			if scope == feedPage {
				msg = "site and url are required"
			}
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "%s", msg))
			return
		}
		ctx := r.Context()
		key := "feed\x00" + strconv.Itoa(int(scope)) + strconv.Itoa(int(format)) + "\x00" + site
		pid, pageKey := int64(sitewide), ""
		if scope == feedPage {
			_, canon, err := s.svc.Canonical(ctx, site, rawURL)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			key += "\x00" + canon
			pageKey = site + "\x00" + canon
			pid = s.cache.pageOf(pageKey)
		}
		if e := s.cache.get(key); e != nil {
			s.metrics.cacheHit.Inc()
			s.writeCached(w, r, e)
			return
		}
		s.metrics.cacheMiss.Inc()
		gen := s.cache.generation(pid)
		var v *service.FeedView
		var err error
		if scope == feedPage {
			v, err = s.svc.PageFeed(ctx, site, rawURL)
			if err == nil && v.Page.ID != 0 && v.Page.ID != pid {
				s.cache.learn(pageKey, v.Page.ID)
				pid, gen = v.Page.ID, s.cache.generation(v.Page.ID)
				v, err = s.svc.PageFeed(ctx, site, rawURL)
			}
		} else {
			v, err = s.svc.SiteFeed(ctx, site)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		self := s.baseOrigin + r.URL.RequestURI()
		var body []byte
		ct := "application/rss+xml; charset=utf-8"
		if format == feedAtom {
			body, err = atomFeed(v, self)
			ct = "application/atom+xml; charset=utf-8"
		} else {
			body, err = rssFeed(v, self)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		e := newCached(pid, body, nil)
		e.contentType = ct
		if pid != 0 {
			s.cache.put(key, gen, e)
		}
		s.writeCached(w, r, e)
	}
}

// feedMeta is the title, link and description of a feed.
func feedMeta(v *service.FeedView) (title, link, desc string) {
	if v.Page != nil {
		t := v.Page.Title
		if t == "" {
			t = v.Page.URL
		}
		return "Comments on " + t, v.Page.URL, "The newest comments on " + t
	}
	name := v.Site.Name
	if name == "" {
		name = v.Site.ID
	}
	link = ""
	if len(v.Site.Origins) > 0 {
		link = v.Site.Origins[0] + "/"
	}
	return "Comments on " + name, link, "The newest comments on " + name
}

func entryTitle(e service.FeedEntry) string {
	t := e.Page.Title
	if t == "" {
		t = e.Page.URL
	}
	return e.Comment.AuthorName + " on " + t
}

func entryLink(e service.FeedEntry) string {
	return e.Page.URL + "#parley-c-" + strconv.FormatInt(e.Comment.ID, 10)
}

func entryID(v *service.FeedView, e service.FeedEntry) string {
	return "urn:parley:" + url.PathEscape(v.Site.ID) + ":comment:" + strconv.FormatInt(e.Comment.ID, 10)
}

func entryUpdated(c *parley.Comment) time.Time {
	if !c.Edited.IsZero() {
		return c.Edited.UTC()
	}
	return c.Created.UTC()
}

// feedUpdated is the newest entry's update, or the page's creation.
func feedUpdated(v *service.FeedView) time.Time {
	var t time.Time
	for _, e := range v.Entries {
		if u := entryUpdated(e.Comment); u.After(t) {
			t = u
		}
	}
	if t.IsZero() && v.Page != nil {
		t = v.Page.Created.UTC()
	}
	if t.IsZero() {
		t = v.Site.Created.UTC()
	}
	return t
}

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	DC      string     `xml:"xmlns:dc,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Generator     string    `xml:"generator"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Creator     string  `xml:"dc:creator"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

func rssFeed(v *service.FeedView, self string) ([]byte, error) {
	title, link, desc := feedMeta(v)
	d := rssDoc{Version: "2.0", DC: "http://purl.org/dc/elements/1.1/", Channel: rssChannel{
		Title: title, Link: link, Description: desc, Generator: "Parley",
		LastBuildDate: feedUpdated(v).Format(time.RFC1123Z),
		Items:         make([]rssItem, 0, len(v.Entries)),
	}}
	for _, e := range v.Entries {
		d.Channel.Items = append(d.Channel.Items, rssItem{
			Title: entryTitle(e), Link: entryLink(e),
			GUID:    rssGUID{IsPermaLink: "false", Value: entryID(v, e)},
			PubDate: e.Comment.Created.UTC().Format(time.RFC1123Z),
			Creator: e.Comment.AuthorName, Description: e.Comment.HTML,
		})
	}
	return encodeXML(d)
}

type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Updated   string      `xml:"updated"`
	Published string      `xml:"published"`
	Author    atomAuthor  `xml:"author"`
	Link      atomLink    `xml:"link"`
	Content   atomContent `xml:"content"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomContent struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

func atomFeed(v *service.FeedView, self string) ([]byte, error) {
	title, link, _ := feedMeta(v)
	id := "urn:parley:" + url.PathEscape(v.Site.ID) + ":feed"
	if v.Page != nil {
		id += ":" + url.PathEscape(v.Page.URL)
	}
	d := atomDoc{ID: id, Title: title, Updated: feedUpdated(v).Format(time.RFC3339),
		Links: []atomLink{{Rel: "self", Href: self}}}
	if link != "" {
		d.Links = append(d.Links, atomLink{Rel: "alternate", Href: link})
	}
	for _, e := range v.Entries {
		name := e.Comment.AuthorName
		if name == "" {
			name = "Anonymous"
		}
		d.Entries = append(d.Entries, atomEntry{
			ID: entryID(v, e), Title: entryTitle(e),
			Updated:   entryUpdated(e.Comment).Format(time.RFC3339),
			Published: e.Comment.Created.UTC().Format(time.RFC3339),
			Author:    atomAuthor{Name: name},
			Link:      atomLink{Rel: "alternate", Href: entryLink(e)},
			Content:   atomContent{Type: "html", Value: e.Comment.HTML},
		})
	}
	return encodeXML(d)
}

func encodeXML(d any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
