package moderation

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

// RuleDisguisedGroup holds a comment that writes a group's name in
// disguise ("M*slims"), from the starter policy's [disguised] list.
const RuleDisguisedGroup = "disguised_group"

//go:embed starter/starter.txt
var starterText string

// Starter is Parley's maintained starter policy (starter/starter.txt,
// docs/starter-policy.md): group slurs, their disguises and classic hateful
// phrases. A policy with StarterPolicy set (the default) applies Banned and
// Suspect as if they were in its own lists, and holds a comment writing a
// Disguised group name in disguise.
type Starter struct {
	Banned    []string `json:"banned"`
	Suspect   []string `json:"suspect"`
	Disguised []string `json:"disguised"`
}

// StarterPolicy returns the starter policy's lists.
func StarterPolicy() Starter { return starter }

var starter = mustParseStarter(starterText)

func mustParseStarter(text string) Starter {
	var s Starter
	var list *[]string
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "[banned]":
			list = &s.Banned
		case line == "[suspect]":
			list = &s.Suspect
		case line == "[disguised]":
			list = &s.Disguised
		case list == nil:
			panic(fmt.Sprintf("starter.txt:%d: entry before a [section]", n+1))
		default:
			*list = append(*list, line)
		}
	}
	if _, err := compileIndex(s.Banned, s.Suspect); err != nil {
		panic(fmt.Sprintf("starter.txt: %v", err))
	}
	return s
}

// disguisedGroups is the compiled [disguised] list.
var disguisedGroups = func() *WordList {
	l, err := NewWordList(starter.Disguised)
	if err != nil {
		panic(fmt.Sprintf("starter.txt [disguised]: %v", err))
	}
	return l
}()

// disguise finds the group names of the starter policy that text writes in
// disguise: with a mask, a digit or symbol for a letter, or letters spaced
// out, where the plain word would be written plainly. It returns a hold
// reason, or one with an empty Rule.
func disguise(text string) parley.Reason {
	r := parley.Reason{}
	runes := []rune(text)
	var found []string
	for _, m := range disguisedGroups.Match(text) {
		orig := runes[m.Span.Start:m.Span.End]
		plain := true
		for _, c := range orig {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '\'' || c == '’') {
				plain = false
				break
			}
		}
		if plain {
			continue
		}
		if len(r.Spans) < maxEvidence {
			r.Spans = append(r.Spans, m.Span)
		}
		found = append(found, string(orig))
	}
	if len(found) > 0 {
		r.Rule = RuleDisguisedGroup
		r.Message = "a group's name written in disguise: " + quoteList(found)
	}
	return r
}
