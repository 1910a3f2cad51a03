// Package render turns a reader's markdown into HTML that is safe to put into
// a publisher's page, and into plain-text excerpts for quotes and
// notifications.
//
// Markdown is CommonMark (goldmark) with two extensions: bare URLs and e-mail
// addresses become links (Linkify) and ~~text~~ is struck through. Comments
// are short and written by people who never read a markdown guide, so a few
// choices differ from a documentation renderer:
//
//   - A single newline is a line break (<br>), as in every comment box.
//   - Raw HTML is shown as text ("<b>hi</b>" reads as typed), not dropped.
//   - Headings are rendered as a bold paragraph: a comment has no <h1>.
//   - Images are rendered as a link to the image, never as <img>: a remote
//     image loads when the thread is read, so it would tell a third party
//     who reads which article (a tracking pixel), and it could be anything.
//   - Links keep only http, https and mailto URLs and in-page fragments
//     ("#c12"); a URL with a user name ("https://bank.com@evil.example") is
//     a phishing trick and stays text. Links open in a new tab and carry
//     rel="nofollow ugc noopener": nofollow and ugc tell search engines the
//     publisher does not vouch for them (and remove the spammer's reward),
//     noopener stops the opened page from reaching back through
//     window.opener.
//   - Block quotes and lists nested deeper than MaxDepth are flattened.
//
// Whatever goldmark produces then goes through a bluemonday allow-list (p, br,
// hr, em, strong, del, code, pre, blockquote, ul, ol[start], li,
// a[href rel target]), so a bug in the markdown layer cannot produce a script,
// an event handler, a style or a javascript:, vbscript: or data: URL.
package render

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// MaxDepth is how deeply block quotes and lists may nest; deeper ones are
// flattened into their parent. Readers quote quotes, but ten levels of
// indentation leave no room for text on a phone.
const MaxDepth = 8

// Rel is the rel attribute of every link in a comment.
const Rel = "nofollow ugc noopener"

// Renderer renders comment markdown. It is safe for concurrent use; build one
// and share it, since building the parser and the sanitiser is not free.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New returns a Renderer.
func New() *Renderer {
	return &Renderer{md: newMarkdown(), policy: newPolicy()}
}

// newMarkdown builds the goldmark pipeline described in the package comment.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.Linkify, extension.Strikethrough),
		goldmark.WithParserOptions(
			parser.WithASTTransformers(util.Prioritized(shaper{max: MaxDepth}, 100)),
		),
		goldmark.WithRendererOptions(
			html.WithHardWraps(),
			// Lower numbers win: these replace goldmark's renderers for
			// headings, links, images and raw HTML.
			renderer.WithNodeRenderers(util.Prioritized(commentNodes{}, 100)),
		),
	)
}

// newPolicy builds the sanitiser's allow-list.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + Rel + `$`)).OnElements("a")
	p.AllowAttrs("target").Matching(regexp.MustCompile(`^_blank$`)).OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	// Only fragment links ("#c12") are relative; the markdown layer drops
	// the others, so this cannot let "/path" or "//host" through unseen.
	p.AllowRelativeURLs(true)
	// Belts and braces: the markdown layer already writes rel and target.
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// Render returns the sanitised HTML of a comment's markdown. Invalid UTF-8 and
// NUL bytes are replaced by U+FFFD, so the result is always valid UTF-8. It
// runs in time linear in the input; limiting the input's size is the
// caller's job.
func (r *Renderer) Render(markdown string) string {
	src := []byte(clean(markdown))
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/4)
	if err := r.md.Convert(src, &buf); err != nil {
		// goldmark only fails when the writer fails; a bytes.Buffer does
		// not. Show the text rather than nothing if that ever changes.
		buf.Reset()
		buf.WriteString("<p>")
		buf.Write(util.EscapeHTML(src))
		buf.WriteString("</p>")
	}
	out := r.policy.SanitizeBytes(buf.Bytes())
	return strings.ToValidUTF8(string(bytes.TrimSpace(out)), "\uFFFD")
}

// clean makes s valid UTF-8 without NUL bytes, as CommonMark asks, and
// defuses the shapes that would make parsing slow (see defuse).
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return defuse(strings.ReplaceAll(s, "\x00", "\uFFFD"))
}
