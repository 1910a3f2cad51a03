package render

import "strings"

// goldmark's parser is linear on ordinary text but super-linear on a few
// shapes nobody types: thousands of unmatched emphasis delimiters or link
// brackets in one paragraph (CommonMark's "pathological" suite), and
// thousands of container markers ("> > > …", "- - - …") on one line. 64 KiB of
// either takes seconds. defuse rewrites the input before parsing so that the
// cost stays linear, changing only text that is already nonsense:
//
//   - a line starting with more than maxMarkers block-quote or list markers
//     keeps the first maxMarkers (the shaper flattens deeper nesting anyway);
//   - a line indented by more than maxIndent columns keeps maxIndent of them:
//     each open list re-measures a line's indentation, so a staircase of
//     ever deeper items ("* a", "  * a", "    * a" …) costs the number of
//     lists times the indentation per line, cubic in the number of lines;
//   - in a run of lines without a blank line (a paragraph or more: no inline
//     content spans a blank line), a kind of inline delimiter that occurs
//     more than maxDelims times (emphasis * and _, strikethrough ~, link
//     brackets [ and ]) is backslash-escaped throughout the run, so it reads
//     literally.
//
// The run is found without regard to code fences on purpose: guessing fences
// the way the parser does would be the place for an attacker to hide. The
// price is that a code block with more than maxDelims of one delimiter shows
// the backslashes.
const (
	maxMarkers = 2 * MaxDepth
	maxIndent  = 8 * MaxDepth
	maxDelims  = 256
)

// defuse returns s rewritten as described above; s without pathological runs
// is returned unchanged.
func defuse(s string) string {
	var out, run strings.Builder
	out.Grow(len(s))
	changed := false
	var emph, tilde, bracket int
	flush := func() {
		r := run.String()
		if emph > maxDelims || tilde > maxDelims || bracket > maxDelims {
			r = escapeDelims(r, emph > maxDelims, tilde > maxDelims, bracket > maxDelims)
			changed = true
		}
		out.WriteString(r)
		run.Reset()
		emph, tilde, bracket = 0, 0, 0
	}
	for rest := s; rest != ""; {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if isBlank(line) {
			flush()
			out.WriteString(line)
			continue
		}
		if capped, ok := capIndent(line); ok {
			line = capped
			changed = true
		}
		if capped, ok := capMarkers(line); ok {
			line = capped
			changed = true
		}
		for j := 0; j < len(line); j++ {
			switch line[j] {
			case '\\':
				j++ // an escaped character is no delimiter
			case '*', '_':
				emph++
			case '~':
				tilde++
			case '[', ']':
				bracket++
			}
		}
		run.WriteString(line)
	}
	flush()
	if !changed {
		return s
	}
	return out.String()
}

// isBlank reports whether line holds nothing but spaces and tabs.
func isBlank(line string) bool {
	return strings.Trim(line, " \t\r\n") == ""
}

// capIndent returns line with its leading spaces and tabs cut to maxIndent
// columns (a tab advances to the next multiple of four, as in CommonMark),
// and whether it cut any.
func capIndent(line string) (string, bool) {
	col, i, cut := 0, 0, -1
	for ; i < len(line) && (line[i] == ' ' || line[i] == '\t'); i++ {
		if line[i] == '\t' {
			col += 4 - col%4
		} else {
			col++
		}
		if col <= maxIndent {
			cut = i + 1
		}
	}
	if col <= maxIndent {
		return line, false
	}
	return line[:cut] + line[i:], true
}

// capMarkers returns line without the block-quote and list markers that
// follow the first maxMarkers at its start, and whether there were any.
func capMarkers(line string) (string, bool) {
	markers, cut, i := 0, 0, 0
	for {
		j := i
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		if n := markerLen(line[j:]); n > 0 {
			j += n
		} else {
			break
		}
		markers++
		if markers == maxMarkers {
			cut = j
		}
		i = j
	}
	if markers <= maxMarkers {
		return line, false
	}
	return line[:cut] + line[i:], true
}

// markerLen returns the length of the block-quote or list marker that s
// starts with, 0 if none: ">", "-", "+", "*" or up to nine digits and "." or
// ")"; a list marker must be followed by a space or a tab.
func markerLen(s string) int {
	if s == "" {
		return 0
	}
	if s[0] == '>' {
		return 1
	}
	n := 0
	switch {
	case s[0] == '-' || s[0] == '+' || s[0] == '*':
		n = 1
	default:
		for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 || n >= len(s) || (s[n] != '.' && s[n] != ')') {
			return 0
		}
		n++
	}
	if n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		return n
	}
	return 0
}

// escapeDelims backslash-escapes the chosen kinds of delimiter in run,
// leaving escaped characters alone.
func escapeDelims(run string, emph, tilde, bracket bool) string {
	var b strings.Builder
	b.Grow(len(run) + len(run)/2)
	for j := 0; j < len(run); j++ {
		c := run[j]
		switch {
		case c == '\\' && j+1 < len(run):
			b.WriteByte(c)
			j++
			c = run[j]
		case emph && (c == '*' || c == '_'),
			tilde && c == '~',
			bracket && (c == '[' || c == ']'):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
