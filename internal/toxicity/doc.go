// Package toxicity is Parley's in-process toxicity model at run time: a
// pure-Go linear model over hashed n-grams of normalised text, loaded from
// its file, scoring and explaining comments, and tuned per site by the
// server. Training and evaluation live in internal/toxicity/lab; the server
// does not import it.
//
// A Model scores a comment's own words (never the text it quotes) for
// toxicity, identity attack and spam, and names the words that raised the
// toxicity score as spans of the original text:
//
//	m, err := toxicity.Default() // the model embedded in the binary
//	s := m.Score(text, quote)     // parley.Scores with Evidence
//	fast := m.ScoreFast(text, "") // the same scores, no evidence
//
// The features cannot see punctuation, spacing or length; identity terms
// are hashed as one "group" token per grammatical class (identity.go), so
// which group a comment names carries no evidence; word-class features
// (classes.go) let a threat or a dehumanising predicate weigh against the
// many n-grams of a sentence. Info records how a model was trained, and a
// model file always scores with the features it was trained on.
//
// Tune adapts a model to one site's moderators without replacing it.
//
// The package depends on the standard library, the parley vocabulary and
// internal/textnorm only.
package toxicity
