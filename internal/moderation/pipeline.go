package moderation

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/textnorm"
)

// Rule ids, stable: they are stored with comments, returned by the API and
// shown to moderators.
const (
	RuleMaxLength   = "max_length"   // rejects: longer than Policy.MaxLength
	RuleFlood       = "flood"        // rejects: too many comments in a minute
	RuleDuplicate   = "duplicate"    // rejects: the same text again within the window
	RuleBannedWord  = "banned_word"  // rejects: a banned word
	RuleSuspectWord = "suspect_word" // holds: a suspect word
	RuleMaxLinks    = "max_links"    // holds: more links than Policy.MaxLinks
	RulePremodAll   = "premod_all"   // holds: the site pre-moderates everything
	RulePremodNew   = "premod_new"   // holds: the reader has too few approved comments
	RuleTrust       = "trust"        // holds: the reader's recent comments were mostly rejected
	RuleToxicity    = "toxicity"     // holds at Policy.ToxicityHold, rejects at Policy.ToxicityReject
	RuleReports     = "reports"      // holds: reported by enough readers (applied by the service)
	RuleBanEvasion  = "ban_evasion"  // holds: a new reader likely the same person as a banned one (applied by the service)
)

// Rejects reports whether a rule always rejects when it fires. The toxicity
// rule rejects only above its second threshold, so it is not one of them.
func Rejects(rule string) bool {
	switch rule {
	case RuleMaxLength, RuleFlood, RuleDuplicate, RuleBannedWord:
		return true
	}
	return false
}

// Scorer is a toxicity model. Score rates the author's text; quote is the
// text of the comment it quotes, given as context and never scored as the
// author's words. Implementations must be safe for concurrent use.
type Scorer interface {
	Score(text, quote string) parley.Scores
}

// Input is what the service knows about a comment being posted.
type Input struct {
	Text  string // the author's text as written (markdown)
	Quote string // the text of the quoted comment, if any: never matched or scored as the author's

	Trust Trust // the author's record
	Staff bool  // the author moderates the site: holds do not apply

	RecentByAuthor int  // the author's comments in the last minute, this one excluded
	RecentByIP     int  // comments from the author's network (the IPv4 address, the IPv6 /64) in the last minute, this one excluded
	Duplicate      bool // the author posted the same text within Policy.FloodDuplicateWindow

	// Scorer is the toxicity model to run; nil runs the pipeline without
	// one (then the toxicity rule never fires).
	Scorer Scorer
}

// Pipeline is a compiled Policy. It is immutable and safe for concurrent
// use; compile once per policy change and keep it.
type Pipeline struct {
	policy Policy
	words  *index
}

// Compile validates p and compiles its word lists. Errors are *parley.Error
// with code EInvalid.
func Compile(p Policy) (*Pipeline, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	banned, suspect := p.BannedWords, p.SuspectWords
	if p.StarterPolicy {
		banned = append(slices.Clip(starter.Banned), p.BannedWords...)
		suspect = append(slices.Clip(starter.Suspect), p.SuspectWords...)
	}
	idx, err := compileIndex(banned, suspect)
	if err != nil {
		return nil, err
	}
	return &Pipeline{policy: p, words: idx}, nil
}

// Policy returns the policy the pipeline was compiled from.
func (p *Pipeline) Policy() Policy { return p.policy }

// maxEvidence bounds the spans one reason carries.
const maxEvidence = 20

// Decide runs every rule of the policy on a comment. The status is the
// strongest outcome of the rules that fired (rejected over pending over
// approved) and the reasons list each of them, in a fixed order, with the
// evidence located in in.Text.
func (p *Pipeline) Decide(in Input) parley.Decision {
	pol := &p.policy
	d := parley.Decision{Status: parley.StatusApproved}
	reject := func(r parley.Reason) {
		d.Status = parley.StatusRejected
		d.Reasons = append(d.Reasons, r)
	}
	hold := func(r parley.Reason) {
		if in.Staff {
			return
		}
		if d.Status == parley.StatusApproved {
			d.Status = parley.StatusPending
		}
		d.Reasons = append(d.Reasons, r)
	}

	if pol.MaxLength > 0 {
		// A text of no more bytes than the limit has no more characters.
		if n := len(in.Text); n > pol.MaxLength && utf8.RuneCountInString(in.Text) > pol.MaxLength {
			n = utf8.RuneCountInString(in.Text)
			reject(parley.Reason{
				Rule:    RuleMaxLength,
				Message: fmt.Sprintf("%d characters; the limit is %d", n, pol.MaxLength),
				Spans:   []parley.Span{{Start: pol.MaxLength, End: n}},
			})
		}
	}
	switch {
	case pol.FloodPerMinute > 0 && in.RecentByAuthor >= pol.FloodPerMinute:
		reject(parley.Reason{Rule: RuleFlood, Message: fmt.Sprintf(
			"%d comments from this reader in the last minute; the limit is %d", in.RecentByAuthor+1, pol.FloodPerMinute)})
	case pol.FloodPerMinuteIP > 0 && in.RecentByIP >= pol.FloodPerMinuteIP:
		reject(parley.Reason{Rule: RuleFlood, Message: fmt.Sprintf(
			"%d comments from this IP address in the last minute; the limit is %d", in.RecentByIP+1, pol.FloodPerMinuteIP)})
	}
	if in.Duplicate && pol.FloodDuplicateWindow > 0 {
		reject(parley.Reason{Rule: RuleDuplicate, Message: fmt.Sprintf(
			"the same text was posted by this reader within %s", pol.DuplicateWindow())})
	}

	if len(p.words.entries) > 0 {
		banned, suspect := p.matchWords(in.Text)
		if banned.Rule != "" {
			reject(banned)
		}
		if suspect.Rule != "" {
			hold(suspect)
		}
	}
	if pol.StarterPolicy {
		if r := disguise(in.Text); r.Rule != "" {
			hold(r)
		}
	}
	if pol.MaxLinks >= 0 {
		if spans := links(in.Text); len(spans) > pol.MaxLinks {
			hold(parley.Reason{
				Rule:    RuleMaxLinks,
				Message: fmt.Sprintf("%d links; the limit is %d", len(spans), pol.MaxLinks),
				Spans:   spans[:min(len(spans), maxEvidence)],
			})
		}
	}

	switch {
	case pol.Mode == ModePreAll:
		hold(parley.Reason{Rule: RulePremodAll, Message: "this site reviews every comment before it is published"})
	case pol.Mode == ModePreNew && in.Trust.Approved < pol.PreNewMinApproved:
		hold(parley.Reason{Rule: RulePremodNew, Message: fmt.Sprintf(
			"new reader: %d of %d approved comments needed to post without review", in.Trust.Approved, pol.PreNewMinApproved)})
	}
	switch {
	case in.Trust.Premoderated:
		hold(parley.Reason{Rule: RuleTrust, Message: "a moderator put this reader in pre-moderation"})
	case pol.AutoPremod.needs(in.Trust):
		rejected, seen := pol.AutoPremod.count(in.Trust)
		hold(parley.Reason{Rule: RuleTrust, Message: fmt.Sprintf(
			"%d of this reader's last %d moderated comments were rejected", rejected, seen)})
	}

	if in.Scorer != nil {
		sc := in.Scorer.Score(in.Text, in.Quote)
		d.Toxicity = sc.Toxicity
		switch {
		case pol.ToxicityReject > 0 && sc.Toxicity >= pol.ToxicityReject:
			reject(toxicityReason(in.Text, sc, pol.ToxicityReject))
		case pol.ToxicityHold > 0 && sc.Toxicity >= pol.ToxicityHold:
			hold(toxicityReason(in.Text, sc, pol.ToxicityHold))
		}
		if n := len(d.Reasons); n > 0 && d.Reasons[n-1].Rule == RuleToxicity && sc.IdentityAttack >= identityHint {
			d.Reasons = append(d.Reasons, parley.Reason{Rule: RuleGroupAttack,
				Message: fmt.Sprintf("the model reads it as an attack on a group (%.2f)", sc.IdentityAttack)})
		}
	}
	return d
}

// toxicityReason explains a toxicity verdict with the model's evidence,
// each span narrowed to its words of meaning (a function word such as
// "are" or "a" is never evidence).
func toxicityReason(text string, sc parley.Scores, threshold float64) parley.Reason {
	r := parley.Reason{Rule: RuleToxicity}
	var words []string
	runes := []rune(text)
	for _, e := range sc.Evidence {
		if len(r.Spans) == maxEvidence {
			break
		}
		if e.Weight > 0 && e.End > e.Start {
			sp, ok := trimFunctionWords(runes, e.Span)
			if !ok || slices.Contains(r.Spans, sp) {
				continue
			}
			r.Spans = append(r.Spans, sp)
			if len(words) < 3 && e.Feature != "" {
				words = append(words, strconv.Quote(e.Feature))
			}
		}
	}
	// For the moderator: the score against the threshold, what weighed
	// most, and whether the model reads it as an attack on a group.
	var b strings.Builder
	fmt.Fprintf(&b, "toxicity %.2f (threshold %.2f)", sc.Toxicity, threshold)
	if len(words) > 0 {
		b.WriteString("; strongest words: " + strings.Join(words, ", "))
	}
	if sc.IdentityAttack >= identityHint {
		fmt.Fprintf(&b, "; reads as an attack on a group (%.2f)", sc.IdentityAttack)
	}
	r.Message = b.String()
	return r
}

// identityHint is the identity-attack score from which a toxicity reason
// says the comment reads as an attack on a group.
const identityHint = 0.7

// matchWords finds the banned and suspect words in text and returns one
// reason for each list that matched (Rule empty when none did).
func (p *Pipeline) matchWords(text string) (banned, suspect parley.Reason) {
	tx := textnorm.Normalize(text)
	s := getScratch()
	defer putScratch(s)
	s.toks = textnorm.AppendTokens(s.toks, tx)
	s.hits = p.words.find(tx.Norm, s.toks, s.hits)
	if len(s.hits) == 0 {
		return banned, suspect
	}
	var words [numLists][]string
	out := [numLists]*parley.Reason{listBanned: &banned, listSuspect: &suspect}
	for _, h := range s.hits {
		r := out[h.list]
		a, b := tx.Orig(h.start, h.end)
		span := textnorm.RuneSpan(text, a, b)
		if n := len(r.Spans); n > 0 && r.Spans[n-1] == span {
			continue // the same word through two forms
		}
		if len(r.Spans) < maxEvidence {
			r.Spans = append(r.Spans, span)
		}
		if w := p.words.entries[h.entry].word; !slices.Contains(words[h.list], w) {
			words[h.list] = append(words[h.list], w)
		}
	}
	for list, r := range out {
		if len(words[list]) == 0 {
			continue
		}
		kind := [...]string{"banned", "suspect"}[list]
		r.Rule = [...]string{RuleBannedWord, RuleSuspectWord}[list]
		r.Message = kind + " " + plural(len(words[list]), "word") + " " + quoteList(words[list])
	}
	return banned, suspect
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// quoteList formats words as `"a", "b"`, at most five.
func quoteList(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more", len(words)-5)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", w)
	}
	return b.String()
}

// links returns the spans of the links in text: URLs starting with a scheme
// (http://, https://, ftp://) or with "www.".
func links(text string) []parley.Span {
	var spans []parley.Span
	for i := 0; i < len(text); {
		// Jump to the next "://" or "ww." (fast substring searches); most
		// comments have neither.
		next := len(text)
		if k := strings.Index(text[i:], "://"); k >= 0 {
			next = i + k
		}
		if k := strings.Index(text[i:next], "ww."); k >= 0 {
			next = i + k
		}
		if k := strings.Index(text[i:next], "WW."); k >= 0 {
			next = i + k
		}
		if next == len(text) {
			break
		}
		start := -1
		if text[next] == ':' {
			start = schemeStart(text, next)
		} else if w := next - 1; w >= 0 && (text[w] == 'w' || text[w] == 'W') &&
			(w == 0 || !urlByte(text[w-1])) && next+3 < len(text) && urlByte(text[next+3]) {
			start = w
		}
		if start < 0 {
			i = next + 1
			continue
		}
		end := next
		for end < len(text) && urlByte(text[end]) {
			end++
		}
		spans = append(spans, textnorm.RuneSpan(text, start, end))
		i = end
	}
	return spans
}

// schemeStart returns where the scheme before "://" at i starts, or -1 when
// it is not http, https or ftp.
func schemeStart(text string, i int) int {
	for _, s := range [...]string{"https", "http", "ftp"} {
		if i >= len(s) && strings.EqualFold(text[i-len(s):i], s) {
			start := i - len(s)
			if start == 0 || !isAlnum(text[start-1]) {
				return start
			}
		}
	}
	return -1
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// urlByte reports whether c can be part of a URL in running text.
func urlByte(c byte) bool {
	if c >= utf8.RuneSelf {
		return true // internationalised domains and paths
	}
	if isAlnum(c) {
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&*+,;=%", c) >= 0
}

// AuthorMessage returns what the author of a comment is told about a
// decision: nothing when it is approved, a neutral notice when it is held,
// and for a rejection a clear message that does not reveal which word or
// score tripped the rules (so they cannot be probed), except for limits the
// author can act on (length, flooding, duplicates).
func AuthorMessage(d parley.Decision) string {
	switch d.Status {
	case parley.StatusPending:
		// Held for what it says, the text is the reason; held for who
		// posts it, the text is fine and the message must not suggest
		// changing it.
		about, namePoint := "", ""
		for _, r := range d.Reasons {
			switch r.Rule {
			case RuleNameWords, RuleNameInsult, RuleNameGroup:
				if about == "" {
					about, namePoint = "name", AuthorPoint(r)
				}
			case RulePremodNew, RulePremodAll, RuleTrust:
				if about == "" {
					about = r.Rule
				}
			case RuleBanEvasion:
				// Not a word of the ban: the reader is new to the site.
				if about == "" {
					about = RulePremodNew
				}
			default:
				about = "text"
			}
			if about == "text" {
				break
			}
		}
		switch about {
		case "name":
			return "Your comment is held for review by a moderator because your display name " + PointPhrase(namePoint) + ". It will appear once it is approved; next time, choose another name."
		case RulePremodNew:
			return "This site reviews comments from new readers before they appear. Yours will be published once a moderator approves it; there is nothing you need to change."
		case RulePremodAll:
			return "This site reviews every comment before it appears. Yours will be published once a moderator approves it."
		case RuleTrust:
			return "A moderator reviews your comments before they appear. Yours will be published once it is approved."
		}
		return "Your comment is held for review by a moderator. It will appear once it is approved."
	case parley.StatusRejected:
		for _, r := range d.Reasons {
			switch r.Rule {
			case RuleMaxLength:
				return "Your comment is longer than this site allows. Please shorten it and try again."
			case RuleFlood:
				return "You are posting faster than this site allows. Please wait a minute, then post it again."
			case RuleDuplicate:
				return "You have already posted this comment."
			}
		}
		return "Your comment was not published because it does not meet this site's comment policy."
	}
	return ""
}
