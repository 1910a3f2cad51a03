package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// threadCache keeps the rendered JSON of thread pages as every anonymous
// reader sees them, plain and gzipped, keyed by site, canonical URL, sort,
// limit and cursor. A write to a page drops that page's entries and nothing
// else. Readers who see something personal (their own pending comments) are
// answered outside the cache.
type threadCache struct {
	mu      sync.Mutex
	entries map[string]*cachedThread
	byPage  map[int64]map[string]bool
	gen     map[int64]uint64 // bumped on every invalidation of a page
	pages   map[string]int64 // site and canonical URL -> page id (ids never change)
	size    int              // bytes held
	max     int              // bytes allowed before the cache is emptied
	off     bool             // Options.NoThreadCache: every get misses, put keeps nothing
}

type cachedThread struct {
	pageID int64
	body   []byte
	gz     []byte
	etag   string
	built  time.Time // when the response was rendered (its Last-Modified, to the second)
	// The header values, formatted once.
	lastModified, bodyLen, gzLen string
	pending                      map[string]bool // readers with pending comments on the page
	contentType                  string          // "" for JSON (threads); feeds set theirs
}

// sitewide is the page id under which site feeds are cached: every page's
// invalidation drops them too, as a write to any page changes its site's feed.
const sitewide = -1

func newThreadCache(maxBytes int) *threadCache {
	return &threadCache{
		entries: make(map[string]*cachedThread),
		byPage:  make(map[int64]map[string]bool),
		gen:     make(map[int64]uint64),
		pages:   make(map[string]int64),
		max:     maxBytes,
	}
}

func (c *threadCache) get(key string) *cachedThread {
	if c.off {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[key]
}

// bytes returns the bytes held.
func (c *threadCache) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// pageOf returns the page id learnt for a site and canonical URL, 0 if none.
func (c *threadCache) pageOf(key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pages[key]
}

// learn records the page id of a site and canonical URL.
func (c *threadCache) learn(key string, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) > 100_000 {
		clear(c.pages)
	}
	c.pages[key] = id
}

// generation returns the page's invalidation counter; put stores an entry
// only if the counter has not moved since, so a response built from data
// older than a concurrent write is never cached.
func (c *threadCache) generation(pageID int64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen[pageID]
}

func (c *threadCache) put(key string, gen uint64, e *cachedThread) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.gen[e.pageID] != gen {
		return
	}
	n := len(e.body) + len(e.gz)
	if c.size+n > c.max {
		// Simple and bounded: a full cache starts over. Hot pages refill at
		// once; what is cold was not worth keeping.
		clear(c.entries)
		clear(c.byPage)
		c.size = 0
	}
	if old := c.entries[key]; old != nil {
		c.size -= len(old.body) + len(old.gz)
	}
	c.entries[key] = e
	c.size += n
	keys := c.byPage[e.pageID]
	if keys == nil {
		keys = make(map[string]bool)
		c.byPage[e.pageID] = keys
	}
	keys[key] = true
}

// invalidate drops every cached response of a page.
func (c *threadCache) invalidate(pageID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen[pageID]++
	for k := range c.byPage[pageID] {
		if e := c.entries[k]; e != nil {
			c.size -= len(e.body) + len(e.gz)
		}
		delete(c.entries, k)
	}
	delete(c.byPage, pageID)
	if pageID != sitewide {
		c.gen[sitewide]++
		for k := range c.byPage[sitewide] {
			if e := c.entries[k]; e != nil {
				c.size -= len(e.body) + len(e.gz)
			}
			delete(c.entries, k)
		}
		delete(c.byPage, sitewide)
	}
}

// newCached compresses body once and computes its ETag.
func newCached(pageID int64, body []byte, pending map[string]bool) *cachedThread {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(body)
	zw.Close()
	sum := sha256.Sum256(body)
	built := time.Now().UTC()
	return &cachedThread{
		pageID:       pageID,
		body:         body,
		gz:           buf.Bytes(),
		etag:         `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		built:        built,
		pending:      pending,
		lastModified: built.Format(http.TimeFormat), // HTTP dates drop the fraction
		bodyLen:      strconv.Itoa(len(body)),
		gzLen:        strconv.Itoa(buf.Len()),
	}
}

// invalidateSite drops the entries of every page of siteID, after a change
// to the site's policy (which can close all its pages).
func (c *threadCache) invalidateSite(siteID string) {
	c.mu.Lock()
	pages := make(map[int64]bool)
	for key, id := range c.pages {
		if strings.HasPrefix(key, siteID+"\x00") {
			pages[id] = true
		}
	}
	c.mu.Unlock()
	for id := range pages {
		c.invalidate(id)
	}
	c.invalidate(sitewide) // the site's feed, even when no page of it was read here
}
