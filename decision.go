package parley

// Span is a range of characters in a comment's original text: Start and End
// count Unicode code points (not bytes, not UTF-16 units), End exclusive.
// Code points are what the Civil Comments toxic-span annotations count and
// what JavaScript's Array.from(text) indexes.
type Span struct {
	Start int
	End   int
}

// Reason is one rule's explanation of why a comment was held or rejected.
type Reason struct {
	Rule    string // stable id, e.g. "banned_word", "toxicity", "max_links"
	Message string // for moderators, e.g. `banned word "idiot"`
	Spans   []Span // evidence in the original text; may be empty
	UserID  string // the reader the reason points to (the banned reader an author resembles); "" for none
}

// Decision is the moderation pipeline's verdict on a comment.
type Decision struct {
	Status   string   // StatusApproved, StatusPending or StatusRejected
	Reasons  []Reason // empty when approved without remark
	Toxicity float64  // model score, 0 when no model ran
}

// Scores is a toxicity model's verdict on a text, each score in [0,1].
type Scores struct {
	Toxicity       float64
	IdentityAttack float64
	Spam           float64
	Evidence       []Evidence // the n-grams that pushed Toxicity up most, strongest first
}

// Evidence is one feature of a text that raised a score, located in the text.
type Evidence struct {
	Span
	Feature string  // the n-gram, as the model saw it after normalisation
	Weight  float64 // its contribution to the logit
}
