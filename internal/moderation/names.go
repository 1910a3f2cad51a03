package moderation

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/textnorm"
)

// Display names are moderated like comments, with rules of their own: a
// name shows beside every comment its reader writes, so what a comment's
// policy would hold is held and what it would reject is refused, with a
// message naming the policy point, never the words.
//
// The rules, in order: the name obscenities below (refused); the site's
// banned words and the starter policy's slurs (refused), its suspect words
// (held); a group's name in disguise (held); the toxicity model, on the
// name with the parts that are ordinary personal names put aside (held at
// the site's hold threshold; refused when it reads as an attack on a group
// or passes the reject threshold).

// Rule ids of the display-name rules; each names its policy point.
const (
	RuleNameWords  = "name_words"  // the name uses words the site's lists or the name list do not allow
	RuleNameInsult = "name_insult" // the model reads the name as an insult or abuse
	RuleNameGroup  = "name_group"  // the name attacks a group of people
)

// nameObscenities are refused in a display name whatever the site's lists
// say: words a comment may quote or use in anger, but that no one is
// called. Per language; a star takes any ending, "=" only the word itself.
var nameObscenities = mustWordList([]string{
	// English
	"fuck*", "=fuck", "motherfuck*", "cunt*", "=cunt", "shit*", "=shit", "twat", "wanker", "=wank", "bitch", "whore", "slut",
	"cocksuck*", "dickhead", "=asshole", "=arsehole", "bollocks", "=fuk", "=fck", "=fuq",
	// French, German, Spanish, Arabic transliterated
	"putain", "connard", "connasse", "salope", "encule", "=merde", "arschloch", "fotze", "wichser", "hurensohn",
	"=puta", "=puto", "mierda", "cabron", "gilipollas", "pendejo", "=sharmouta", "=kuss",
})

func mustWordList(entries []string) *WordList {
	l, err := NewWordList(entries)
	if err != nil {
		panic(fmt.Sprintf("name obscenities: %v", err))
	}
	return l
}

// personalNames are parts of ordinary names, in many languages, that a
// model trained on comments reads as rude: they are put aside before the
// name is scored, so "Dick Smith", "Sexton", "Cockburn" or "Fanny Blankers"
// pass. Word lists still see them (a site that bans "dick" bans it here too).
var personalNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`dick dickens dickson dix cock cockburn cockerell cox willy willie fanny
		randy butt butts butte hooker seaman sexton cummings cumming gay gaye wang dong phuc phuoc kuntz
		hardick assange assad bangs balls ball fuchs titus titmuss wiener weiner prick pratt bumstead
		sachs sax sucksmith weed`) {
		m[textnorm.NameKey(n)] = true
	}
	return m
}()

// NameVerdict is the outcome of a display name.
type NameVerdict struct {
	Status string        // parley.StatusApproved; StatusPending: hold the comment; StatusRejected: refuse the name
	Reason parley.Reason // for moderators (Rule one of the RuleName* ids, no spans); zero when approved
}

// Point is the policy point of the verdict ("" when approved).
func (v NameVerdict) Point() string {
	switch v.Reason.Rule {
	case RuleNameGroup:
		return PointGroup
	case RuleNameInsult:
		return PointInsult
	case RuleNameWords:
		return PointWords
	}
	return ""
}

// PointPhrase words a policy point for an English message: "attacks a
// group of people".
func PointPhrase(point string) string {
	switch point {
	case PointGroup:
		return "attacks a group of people"
	case PointInsult:
		return "reads as an insult or abuse"
	case PointWords:
		return "uses language this site does not allow"
	case PointLinks:
		return "has more links than this site publishes unreviewed"
	case PointLength:
		return "is longer than this site allows"
	}
	return "does not meet this site's policy"
}

// DecideName runs the display-name rules of the pipeline's policy on name,
// with the toxicity model sc (nil for none).
func (p *Pipeline) DecideName(name string, sc Scorer) NameVerdict {
	verdict := func(status, rule, format string, args ...any) NameVerdict {
		return NameVerdict{Status: status, Reason: parley.Reason{Rule: rule,
			Message: fmt.Sprintf("display name %q: ", name) + fmt.Sprintf(format, args...)}}
	}
	if ms := nameObscenities.Match(name); len(ms) > 0 {
		return verdict(parley.StatusRejected, RuleNameWords, "an obscenity")
	}
	if len(p.words.entries) > 0 {
		banned, suspect := p.matchWords(name)
		if banned.Rule != "" {
			return verdict(parley.StatusRejected, RuleNameWords, "%s", banned.Message)
		}
		if suspect.Rule != "" {
			return verdict(parley.StatusPending, RuleNameWords, "%s", suspect.Message)
		}
	}
	var hold NameVerdict
	if p.policy.StarterPolicy {
		if r := disguise(name); r.Rule != "" {
			hold = verdict(parley.StatusPending, RuleNameGroup, "%s", r.Message)
		}
	}
	if sc != nil {
		// The model reads the name as textnorm does (disguises undone),
		// with its personal-name parts put aside.
		pol := &p.policy
		s := sc.Score(nameToScore(name), "")
		if plain := nameToScore(textnorm.Normalize(name).Norm); plain != nameToScore(name) {
			if t := sc.Score(plain, ""); t.Toxicity > s.Toxicity {
				s = t
			}
		}
		rule := RuleNameInsult
		if s.IdentityAttack >= nameIdentityHint {
			rule = RuleNameGroup
		}
		switch {
		case pol.ToxicityHold > 0 && s.Toxicity >= pol.ToxicityHold && s.IdentityAttack >= identityHint,
			pol.ToxicityHold > 0 && s.Toxicity >= nameRefuse:
			return verdict(parley.StatusRejected, rule, "toxicity %.2f, attack on a group %.2f", s.Toxicity, s.IdentityAttack)
		case pol.ToxicityReject > 0 && s.Toxicity >= pol.ToxicityReject:
			return verdict(parley.StatusRejected, rule, "toxicity %.2f (threshold %.2f)", s.Toxicity, pol.ToxicityReject)
		case hold.Status == "" && pol.ToxicityHold > 0 && s.Toxicity >= pol.ToxicityHold:
			hold = verdict(parley.StatusPending, rule, "toxicity %.2f (threshold %.2f)", s.Toxicity, pol.ToxicityHold)
		}
	}
	if hold.Status != "" {
		return hold
	}
	return NameVerdict{Status: parley.StatusApproved}
}

// A display name the model scores nameRefuse or more is refused, not held:
// no one is called that. From nameIdentityHint of identity attack its
// point is the attack on a group.
const (
	nameRefuse       = 0.95
	nameIdentityHint = 0.5
)

// nameToScore is the name with its ordinary personal-name parts replaced
// by a neutral one, for the model.
func nameToScore(name string) string {
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' || r == '.' || r == ',' })
	for i, w := range parts {
		if personalNames[textnorm.NameKey(w)] {
			parts[i] = "Smith"
		}
	}
	return strings.Join(parts, " ")
}
