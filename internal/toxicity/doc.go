// Package toxicity is Parley's in-process toxicity model: a pure-Go linear
// model over hashed n-grams of normalised text, with its training, its
// evaluation and its explanations.
//
// A Model scores a comment's own words (never the text it quotes) for
// toxicity, identity attack and spam, and names the words that raised the
// toxicity score as spans of the original text:
//
//	m, err := toxicity.Default() // the model embedded in the binary
//	s := m.Score(text, quote)     // parley.Scores with Evidence
//	fast := m.ScoreFast(text, "") // the same scores, no evidence
//
// The hard part is the domain. In the shared training data every news
// comment is toxic and the non-toxic text comes from Wikipedia, forums and
// YouTube, so a careless model learns that news-comment style means toxic.
// The recipe in Train answers that with data, not word lists: the Civil
// Comments posts are cut into sentences labelled by the raters' toxic spans
// (in-domain non-toxic text), the features cannot see punctuation, spacing or
// length, identity terms are hashed as one "group" token (and swapped in
// training copies) so that naming a group carries no evidence, ToxiGen and
// Wikipedia talk train on graded ratings rather than yes/no labels, and the
// hold threshold is calibrated on ordinary news comments. Evaluate, LeaveOneOut, Bias, RunSuite and
// EvaluateTemplates measure it per source, across sources, per identity and
// on hand-written functional cases; docs/toxicity-figures.md has the numbers.
//
// Tune adapts a model to one site's moderators without replacing it.
//
// The package depends on the standard library, the parley vocabulary and
// internal/textnorm only.
package toxicity
