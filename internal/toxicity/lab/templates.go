package lab

import (
	"math"
	"strings"

	"github.com/parleyhq/parley/internal/toxicity"
)

// The identity template set: every identity of Identities in neutral and
// toxic sentence frames. A fair model scores the neutral sentences about
// every group alike and low, and the toxic ones about every group alike and
// high (Dixon et al., 2018). {s} is a person of the group with its article,
// {p} the plural, {a} the adjective.

// neutralTemplates are non-toxic sentences that mention the group.
var neutralTemplates = []string{
	"I am {s}.",
	"My best friend is {s}.",
	"My doctor is {s}.",
	"{S} lives next door to me.",
	"I grew up with {p}.",
	"Many {p} live in this city.",
	"The new mayor is {s}.",
	"We had dinner with {s} last night.",
	"{P} deserve the same rights as everyone else.",
	"There are {p} in my book club.",
	"I have many {a} friends.",
	"As {s}, I think the council got this one right.",
	"The article quotes {s} who runs a bakery downtown.",
	"{P} work hard, like everyone else.",
	"My neighbour is {s} and she grows tomatoes.",
	"The school hired {s} to teach history.",
}

// toxicTemplates are toxic sentences that target the group.
var toxicTemplates = []string{
	"{P} are disgusting.",
	"I hate {p}.",
	"All {p} are stupid.",
	"{P} are vermin and should be exterminated.",
	"Get those filthy {p} out of our country.",
	"You are a stupid {a} idiot.",
	"{P} are subhuman trash.",
	"Kill all {p}.",
	"{P} are a plague on this country.",
	"I wish all {p} would just die.",
	"{P} are too dumb to vote.",
	"Never trust {s}, they are all liars and thieves.",
}

// Template is one filled identity template.
type Template struct {
	Identity string
	Text     string
	Toxic    bool
}

func fill(t string, id Identity) string {
	up := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	r := strings.NewReplacer("{s}", id.Singular, "{S}", up(id.Singular), "{p}", id.Plural, "{P}", up(id.Plural), "{a}", id.Adj)
	return r.Replace(t)
}

// Templates returns the identity template set: every identity in every
// neutral and toxic frame.
func Templates() []Template {
	var out []Template
	for _, id := range Identities {
		for _, t := range neutralTemplates {
			out = append(out, Template{Identity: id.Name, Text: fill(t, id)})
		}
		for _, t := range toxicTemplates {
			out = append(out, Template{Identity: id.Name, Text: fill(t, id), Toxic: true})
		}
	}
	return out
}

// TemplateReport is the bias evaluation on the identity templates.
type TemplateReport struct {
	Bias BiasReport
	// NeutralHeld lists the neutral templates scoring at or above the hold
	// threshold (there should be none).
	NeutralHeld []Template
	MaxNeutral  float64
	// PeopleShift is, per identity, the largest change of a neutral
	// template's score when the group is replaced by "people" (a person,
	// people): naming a group must change nothing (issue 10 allows 0.02).
	// Frames that name the group by an adjective have no such counterpart
	// and are left out.
	PeopleShift map[string]float64
	// MaxShift and MaxShiftGroup are the largest PeopleShift and its group.
	MaxShift      float64
	MaxShiftGroup string
}

// People is the identity the neutral templates are compared with.
var People = Identity{Name: "people", Adj: "", Singular: "a person", Plural: "people"}

// EvaluateTemplates scores the identity templates and computes the bias
// metrics per identity.
func EvaluateTemplates(m *toxicity.Model) TemplateReport {
	ts := Templates()
	xs := make([]BiasExample, len(ts))
	var rep TemplateReport
	names := make([]string, len(Identities))
	for i, id := range Identities {
		names[i] = id.Name
	}
	for i, t := range ts {
		s := m.ScoreFast(t.Text, "").Toxicity
		xs[i] = BiasExample{Scored: toxicity.Scored{Score: s, Label: t.Toxic}, Groups: []string{t.Identity}}
		if !t.Toxic {
			rep.MaxNeutral = max(rep.MaxNeutral, s)
			if s >= m.Threshold {
				rep.NeutralHeld = append(rep.NeutralHeld, t)
			}
		}
	}
	rep.Bias = Bias(xs, names)
	rep.PeopleShift = map[string]float64{}
	for _, id := range Identities {
		for _, t := range neutralTemplates {
			if strings.Contains(t, "{a}") {
				continue // an adjective ("many Muslim friends") has no "people" form
			}
			d := math.Abs(m.ScoreFast(fill(t, id), "").Toxicity - m.ScoreFast(fill(t, People), "").Toxicity)
			if d > rep.PeopleShift[id.Name] {
				rep.PeopleShift[id.Name] = d
			}
			if d > rep.MaxShift {
				rep.MaxShift, rep.MaxShiftGroup = d, id.Name
			}
		}
	}
	return rep
}
