// Package lab trains and evaluates the toxicity model of package toxicity:
// loading the shared training data, the training recipes, leave-one-source-out
// evaluation, the functional suite, the identity templates and the metrics
// behind `parley model train` and `parley model eval`. The server never
// imports it; it loads the model file lab writes.
//
// The hard part is the domain. In the shared training data every news
// comment is toxic and the non-toxic text comes from Wikipedia, forums and
// YouTube, so a careless model learns that news-comment style means toxic.
// The recipe in Train answers that with data, not word lists: the Civil
// Comments posts are cut into sentences labelled by the raters' toxic spans
// (in-domain non-toxic text), identity terms are swapped (or replaced by
// "people") in training copies so that naming a group carries no evidence,
// ToxiGen and Wikipedia talk train on graded ratings rather than yes/no
// labels, and the hold threshold is calibrated on ordinary news comments.
// Evaluate, LeaveOneOut, Bias, RunSuite and EvaluateTemplates measure it
// per source, across sources, per identity and on hand-written functional
// cases; docs/toxicity-figures.md has the numbers.
//
// The package depends on the standard library, the parley vocabulary,
// internal/textnorm and internal/toxicity only.
package lab
