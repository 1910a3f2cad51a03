package render

import (
	"net/url"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// commentNodes renders the nodes a comment treats differently from goldmark's
// HTML renderer: headings, links, autolinks, images and raw HTML.
type commentNodes struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (commentNodes) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, renderHeading)
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

// renderHeading writes a heading as a paragraph in bold.
func renderHeading(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		_, _ = w.WriteString("<p><strong>")
	} else {
		_, _ = w.WriteString("</strong></p>\n")
	}
	return ast.WalkContinue, nil
}

// renderLink writes a link whose destination is allowed, and only its text
// otherwise.
func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	href, ok := safeHref(n.Destination)
	if !ok {
		return ast.WalkContinue, nil
	}
	if entering {
		openLink(w, href)
	} else {
		_, _ = w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

// renderAutoLink writes a URL or e-mail address found in the text as a link.
func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	label := n.Label(source)
	href, ok := safeHref(autoLinkURL(n, source))
	if ok {
		openLink(w, href)
		html.DefaultWriter.RawWrite(w, label)
		_, _ = w.WriteString("</a>")
	} else {
		html.DefaultWriter.RawWrite(w, label)
	}
	return ast.WalkSkipChildren, nil
}

// autoLinkURL returns the destination of an autolink: "mailto:" before a bare
// e-mail address and "https://" before a bare "www." host.
func autoLinkURL(n *ast.AutoLink, source []byte) []byte {
	label := n.Label(source)
	switch {
	case n.AutoLinkType == ast.AutoLinkEmail && !hasPrefixFold(label, "mailto:"):
		return append([]byte("mailto:"), label...)
	case n.Protocol != nil: // linkify's "www.example.com"
		return append([]byte("https://"), label...)
	}
	return label
}

// renderImage writes an image as a link to it, labelled with its alt text
// (or its URL when the alt text is empty). See the package comment for why.
func renderImage(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	alt := strings.TrimSpace(plainText(n, source))
	href, ok := safeHref(n.Destination)
	if !ok {
		// Not a link: its alt text is all that is left.
		html.DefaultWriter.RawWrite(w, []byte(alt))
		return ast.WalkSkipChildren, nil
	}
	if alt == "" {
		alt = href
	}
	openLink(w, href)
	html.DefaultWriter.RawWrite(w, []byte(alt))
	_, _ = w.WriteString("</a>")
	return ast.WalkSkipChildren, nil
}

// renderRawHTML writes inline HTML as the text the reader typed.
func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		segs := node.(*ast.RawHTML).Segments
		for i := range segs.Len() {
			seg := segs.At(i)
			html.DefaultWriter.RawWrite(w, seg.Value(source))
		}
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock writes a block of HTML as a paragraph of the text the reader
// typed, line breaks kept.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	var lines []string
	for i := range n.Lines().Len() {
		seg := n.Lines().At(i)
		lines = append(lines, string(seg.Value(source)))
	}
	if n.HasClosure() {
		lines = append(lines, string(n.ClosureLine.Value(source)))
	}
	text := strings.TrimRight(strings.Join(lines, ""), "\n")
	_, _ = w.WriteString("<p>")
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			_, _ = w.WriteString("<br>\n")
		}
		html.DefaultWriter.RawWrite(w, []byte(strings.TrimRight(line, "\r")))
	}
	_, _ = w.WriteString("</p>\n")
	return ast.WalkSkipChildren, nil
}

// openLink writes the start tag of a link to href, which safeHref approved.
func openLink(w util.BufWriter, href string) {
	_, _ = w.WriteString(`<a href="`)
	_, _ = w.Write(util.EscapeHTML([]byte(href)))
	_, _ = w.WriteString(`" rel="` + Rel + `"`)
	if hasPrefixFold([]byte(href), "http") { // not a fragment or mailto:
		_, _ = w.WriteString(` target="_blank"`)
	}
	_ = w.WriteByte('>')
}

// safeHref returns the escaped form of a link destination and whether a
// comment may link to it: an absolute http or https URL with a host and no
// user name, a mailto: URL, or an in-page fragment.
func safeHref(dest []byte) (string, bool) {
	href := string(util.URLEscape(dest, true))
	if strings.HasPrefix(href, "#") {
		return href, len(href) > 1
	}
	u, err := url.Parse(href)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return href, u.Host != "" && u.User == nil
	case "mailto":
		return href, u.Opaque != ""
	}
	return "", false
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}
