package service

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// cleanText validates a comment's markdown: valid UTF-8, not blank, under the
// hard cap. It normalises line endings and trims trailing space.
func cleanText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", parley.Errorf(parley.EInvalid, "text is not valid UTF-8")
	}
	if len(text) > MaxTextBytes {
		return "", parley.Errorf(parley.ETooLarge, "text is %d bytes; the limit is %d", len(text), MaxTextBytes)
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimRightFunc(text, unicode.IsSpace)
	text = strings.TrimLeft(text, "\n")
	if strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || isInvisible(r) }) == "" {
		return "", parley.Errorf(parley.EInvalid, "text is empty")
	}
	if strings.ContainsRune(text, 0) {
		return "", parley.Errorf(parley.EInvalid, "text contains a NUL character")
	}
	return text, nil
}

// cleanName validates a display name: printable, 1–64 characters, no
// markup-significant control characters.
func cleanName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", parley.Errorf(parley.EInvalid, "name is not valid UTF-8")
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "", parley.Errorf(parley.EInvalid, "name is required")
	}
	if n := utf8.RuneCountInString(name); n > MaxNameRunes {
		return "", parley.Errorf(parley.EInvalid, "name is %d characters; the limit is %d", n, MaxNameRunes)
	}
	for _, r := range name {
		if unicode.IsControl(r) || isInvisible(r) {
			return "", parley.Errorf(parley.EInvalid, "name contains control or invisible characters")
		}
	}
	return name, nil
}

// cleanShort validates a short free-text field such as a report note.
func cleanShort(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", parley.Errorf(parley.EInvalid, "%s is not valid UTF-8", field)
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > max {
		return "", parley.Errorf(parley.EInvalid, "%s is %d characters; the limit is %d", field, n, max)
	}
	if strings.ContainsRune(s, 0) {
		return "", parley.Errorf(parley.EInvalid, "%s contains a NUL character", field)
	}
	return s, nil
}

// checkTitle validates a page title the embed sends with a post: one
// line, so CR, LF and TAB fold to a space (a CRLF to one), and any other
// C0 or C1 control character, NUL and DEL included, is refused naming the
// field; then as cleanShort.
func checkTitle(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", parley.Errorf(parley.EInvalid, "%s is not valid UTF-8", field)
	}
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(s)
	if err := noControls(field, s, false); err != nil {
		return "", err
	}
	return cleanShort(field, s, max)
}

// checkNote validates a note (a reader's report note, a moderator's note or
// reason): line breaks are kept, as LF (CRLF and CR become LF); any other
// C0 or C1 control character, NUL, TAB and DEL included, is refused naming
// the field; then as cleanShort.
func checkNote(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", parley.Errorf(parley.EInvalid, "%s is not valid UTF-8", field)
	}
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	if err := noControls(field, s, true); err != nil {
		return "", err
	}
	return cleanShort(field, s, max)
}

// noControls returns EInvalid naming the field and the character when s
// holds a control character (Unicode category Cc: C0, DEL, C1), LF aside
// when lf is set.
func noControls(field, s string, lf bool) error {
	for _, r := range s {
		switch {
		case r == 0:
			return parley.Errorf(parley.EInvalid, "%s contains a NUL character", field)
		case r == '\n' && lf:
		case unicode.IsControl(r):
			return parley.Errorf(parley.EInvalid, "%s contains the control character U+%04X, which it may not hold", field, r)
		}
	}
	return nil
}

// isInvisible reports zero-width and bidi control characters, which must not
// make a blank comment or name look non-empty, nor (in a name) reorder the
// text around it: every Bidi_Control character, the Arabic letter mark
// U+061C included.
func isInvisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x2069, r == 0xFEFF, r == 0x00AD:
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}
