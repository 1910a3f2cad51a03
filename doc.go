// Package parley is the vocabulary of the Parley comment server: sites, pages,
// comments, readers, reports, votes, moderation decisions and live events,
// plus the one error type every layer uses.
//
// It depends on the standard library only. Storage, moderation, HTTP and the
// command line all import it; it imports none of them.
package parley
