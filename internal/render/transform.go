package render

import (
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// shaper reshapes a parsed comment before it is rendered, counted or
// excerpted, so the three agree:
//
//   - block quotes and lists nested more than max deep are unwrapped into
//     their parent, their content kept;
//   - autolinks and images inside a link become text, because HTML links do
//     not nest;
//   - links, autolinks and images after the first MaxLinks become text. No
//     reader follows the 101st link of a comment, and each one costs the
//     sanitiser a URL parse: 64 KiB of bare addresses is 9,000 of them.
type shaper struct{ max int }

// MaxLinks is how many links a comment renders; the rest show as text.
const MaxLinks = 100

// Transform implements parser.ASTTransformer.
func (s shaper) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	budget := MaxLinks
	s.blocks(doc, reader.Source(), 0, &budget)
}

// blocks walks the block children of a container at the given nesting depth.
// It recurses only into containers within the limit, so its own depth is
// bounded by max whatever the input.
func (s shaper) blocks(parent ast.Node, source []byte, depth int, budget *int) {
	for c := parent.FirstChild(); c != nil; {
		switch c.Kind() {
		case ast.KindBlockquote, ast.KindList:
			if depth >= s.max {
				c = unwrap(parent, c)
				continue
			}
			s.blocks(c, source, depth+1, budget)
		case ast.KindListItem:
			s.blocks(c, source, depth, budget)
		default:
			if c.Type() == ast.TypeBlock && c.HasChildren() {
				inlines(c, source, false, budget)
			}
		}
		c = c.NextSibling()
	}
}

// unwrap replaces the container c (a block quote or a list) by its content
// and returns the first node to visit next: the first node moved up, or c's
// old next sibling when c was empty.
func unwrap(parent, c ast.Node) ast.Node {
	next := c.NextSibling()
	var first ast.Node
	move := func(n ast.Node) {
		if tb, ok := n.(*ast.TextBlock); ok {
			// A tight list item's text: outside the list it is a paragraph.
			p := ast.NewParagraph()
			p.SetLines(tb.Lines())
			for k := tb.FirstChild(); k != nil; k = tb.FirstChild() {
				p.AppendChild(p, k)
			}
			tb.Parent().RemoveChild(tb.Parent(), tb)
			n = p
		}
		parent.InsertBefore(parent, c, n)
		if first == nil {
			first = n
		}
	}
	for k := c.FirstChild(); k != nil; k = c.FirstChild() {
		if c.Kind() == ast.KindList {
			for kk := k.FirstChild(); kk != nil; kk = k.FirstChild() {
				move(kk)
			}
			c.RemoveChild(c, k)
			continue
		}
		move(k)
	}
	parent.RemoveChild(parent, c)
	if first != nil {
		return first
	}
	return next
}

// inlines walks the inline children of n; inLink says whether n is inside a
// link, and budget is how many more links may render. The depth of inline
// nesting is bounded by the input's length only, which Go's growable stacks
// handle.
func inlines(n ast.Node, source []byte, inLink bool, budget *int) {
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		kind := c.Kind()
		asText := inLink // c renders as text, not as a link
		if !inLink && (kind == ast.KindLink || kind == ast.KindAutoLink || kind == ast.KindImage) {
			if *budget > 0 {
				*budget--
			} else {
				asText = true
			}
		}
		switch {
		case kind == ast.KindLink && !asText:
			inlines(c, source, true, budget)
		case kind == ast.KindAutoLink && asText:
			s := ast.NewString(c.(*ast.AutoLink).Label(source))
			s.SetRaw(true)
			n.ReplaceChild(n, c, s)
		case (kind == ast.KindLink || kind == ast.KindImage) && asText:
			// Its text (an image's alt text) stays, as text, and is
			// visited next.
			first := c.FirstChild()
			for k := first; k != nil; k = c.FirstChild() {
				n.InsertBefore(n, c, k)
			}
			n.RemoveChild(n, c)
			if first != nil {
				next = first
			}
		case kind != ast.KindAutoLink && kind != ast.KindImage && kind != ast.KindLink:
			inlines(c, source, inLink, budget)
		}
		c = next
	}
}
