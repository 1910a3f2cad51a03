package parley

import "time"

// Site is one publisher's website, identified by a short slug such as "news".
type Site struct {
	ID           string    // slug: lower-case letters, digits and '-'
	Name         string    // shown to moderators
	Origins      []string  // allowed embedding origins, e.g. "https://news.example.com"
	PolicyURL    string    // the comment policy linked from every thread
	IgnoreParams []string  // extra query parameters stripped from article URLs
	Policy       []byte    // the moderation policy as JSON; owned by package moderation, opaque to storage
	Created      time.Time //
}
