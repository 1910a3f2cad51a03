package render

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Excerpt returns a plain-text excerpt of a comment's markdown of at most n
// runes, for quotes, notification e-mails and moderation lists. Markup is
// removed (a link is its text, an image its alt text), white space is
// collapsed to single spaces, control and bidirectional-override characters
// are removed, and a cut text ends with "…" (counted in n), at a word
// boundary when one is near. Text the comment itself quotes (its block
// quotes) is left out unless there is nothing else.
//
// The result is text, not HTML: escape it for the context it goes into.
func (r *Renderer) Excerpt(markdown string, n int) string {
	if n <= 0 {
		return ""
	}
	src := []byte(clean(markdown))
	doc := r.md.Parser().Parse(text.NewReader(src))
	var b strings.Builder
	blockText(&b, doc, src, true)
	s := collapse(b.String())
	if s == "" {
		b.Reset()
		blockText(&b, doc, src, false)
		s = collapse(b.String())
	}
	return truncate(s, n)
}

// CountLinks returns the number of links out of the page a comment's
// markdown renders to: links, bare URLs and e-mail addresses, and images
// (which render as links). A link whose URL Render would drop is not
// counted, and neither is an in-page link ("#c12") or a link past MaxLinks,
// which renders as text.
func (r *Renderer) CountLinks(markdown string) int {
	src := []byte(clean(markdown))
	doc := r.md.Parser().Parse(text.NewReader(src))
	count := 0
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var href string
		var ok bool
		switch n := n.(type) {
		case *ast.Link:
			href, ok = safeHref(n.Destination)
		case *ast.Image:
			href, ok = safeHref(n.Destination)
		case *ast.AutoLink:
			href, ok = safeHref(autoLinkURL(n, src))
		}
		if ok && !strings.HasPrefix(href, "#") {
			count++
		}
		return ast.WalkContinue, nil
	})
	return count
}

// shared is the pipeline behind the package-level CountLinks.
var shared = sync.OnceValue(func() goldmark.Markdown { return newMarkdown() })

// CountLinks returns the number of links markdown renders to; see
// Renderer.CountLinks. It is what the max_links moderation rule counts.
func CountLinks(markdown string) int {
	return (&Renderer{md: shared()}).CountLinks(markdown)
}

// blockText appends the text of the blocks under n, one line per block.
func blockText(b *strings.Builder, n ast.Node, source []byte, skipQuotes bool) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Blockquote:
			if !skipQuotes {
				blockText(b, c, source, skipQuotes)
			}
		case *ast.List, *ast.ListItem:
			blockText(b, c, source, skipQuotes)
		case *ast.HTMLBlock:
			writeLines(b, c.Lines(), source)
			if c.HasClosure() {
				b.Write(c.ClosureLine.Value(source))
			}
		case *ast.CodeBlock, *ast.FencedCodeBlock:
			writeLines(b, c.Lines(), source)
		default:
			inlineText(b, c, source)
		}
		b.WriteByte('\n')
	}
}

func writeLines(b *strings.Builder, lines *text.Segments, source []byte) {
	for i := range lines.Len() {
		seg := lines.At(i)
		b.Write(seg.Value(source))
	}
}

// plainText returns the text of the inline children of n.
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	inlineText(&b, n, source)
	return b.String()
}

// inlineText appends the text of the inline children of n as a reader sees
// it: escapes and entities resolved, markup gone.
func inlineText(b *strings.Builder, n ast.Node, source []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			v := c.Segment.Value(source)
			if !c.IsRaw() {
				v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
			}
			b.Write(v)
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte('\n')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(source))
		case *ast.RawHTML:
			for i := range c.Segments.Len() {
				seg := c.Segments.At(i)
				b.Write(seg.Value(source))
			}
		default:
			inlineText(b, c, source)
		}
	}
}

// collapse removes control and bidirectional-formatting characters and
// collapses white space to single spaces.
func collapse(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f':
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n runes, ending a cut text with "…" and
// preferring to cut between words when a space falls in the second half.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := s
	for i := range s {
		if n--; n == 0 {
			cut = s[:i]
			break
		}
	}
	if !strings.HasPrefix(s[len(cut):], " ") { // cut inside a word
		if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
			cut = cut[:i]
		}
	}
	return strings.TrimRightFunc(cut, unicode.IsSpace) + "…"
}
