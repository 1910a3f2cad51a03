// Package moderation enforces a site's comment policy. It is pure: the
// service counts what needs storage (a reader's record, their recent posts)
// and passes it in an Input; Decide returns a parley.Decision with a status
// and the reasons for it, each with a stable rule id, a message for
// moderators and the evidence located in the comment's original text.
//
// A Policy is compiled once into a Pipeline (word lists become hash tables);
// deciding on a 500-character comment takes a few microseconds. Word lists
// match on text normalised by package textnorm, so case, look-alike letters,
// invisible characters, leetspeak, stretched letters, separators and masks do
// not evade them, while matching whole words keeps innocent words that
// contain a listed word ("Scunthorpe", "class", "assassin") from being caught.
//
// The toxicity model plugs in through the Scorer interface.
package moderation
