package importer

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Markdown turns a comment's HTML, as Disqus, WordPress and Remark42 store
// it, into the markdown Parley stores, keeping what a reader meant —
// paragraphs, line breaks, emphasis, links, quotes, code, lists — and
// nothing else. Imported HTML is never trusted: what is not on that short
// list becomes its text (or nothing, for script, style and embedded
// objects), links keep only http, https and mailto URLs, and characters
// that markdown would read as markup are escaped, so the text reads as the
// author saw it. Parley renders the result itself (package render), which
// sanitises again.
func Markdown(src string) string {
	c := &converter{}
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return c.finish()
		case html.TextToken:
			if c.skip == 0 {
				c.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			var href string
			if hasAttr && (a == atom.A || a == atom.Img) {
				for {
					k, v, more := z.TagAttr()
					if (a == atom.A && string(k) == "href") || (a == atom.Img && string(k) == "src") {
						href = string(v)
					}
					if !more {
						break
					}
				}
			}
			c.open(a, href, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.close(atom.Lookup(name))
		}
	}
}

// converter builds the markdown of one comment.
type converter struct {
	out    strings.Builder
	line   strings.Builder // the current paragraph's text
	skip   int             // inside script, style and the like
	quote  int             // block-quote depth
	pre    int
	code   int   // inside inline code
	list   []int // per open list: 0 for bulleted, else the next number
	links  []string
	pendNL bool // a line break is due before the next text
}

// dropped are elements whose content is not text for a reader.
func dropped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Iframe, atom.Object, atom.Embed, atom.Svg, atom.Math,
		atom.Template, atom.Noscript, atom.Textarea, atom.Select, atom.Head, atom.Title, atom.Audio, atom.Video, atom.Canvas:
		return true
	}
	return false
}

func (c *converter) open(a atom.Atom, href string, selfClosing bool) {
	if dropped(a) {
		if !selfClosing {
			c.skip++
		}
		return
	}
	if c.skip > 0 {
		return
	}
	switch a {
	case atom.P, atom.Div, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Tr, atom.Hr:
		c.paragraph()
	case atom.Br:
		c.pendNL = true
	case atom.Blockquote:
		c.paragraph()
		c.quote++
	case atom.Pre:
		c.paragraph()
		c.pre++
		c.line.WriteString("```\n")
	case atom.Code:
		if c.pre == 0 {
			c.space()
			c.line.WriteString("`")
			c.code++
		}
	case atom.B, atom.Strong:
		c.space()
		c.line.WriteString("**")
	case atom.I, atom.Em:
		c.space()
		c.line.WriteString("*")
	case atom.S, atom.Del, atom.Strike:
		c.space()
		c.line.WriteString("~~")
	case atom.Ul:
		c.paragraph()
		c.list = append(c.list, 0)
	case atom.Ol:
		c.paragraph()
		c.list = append(c.list, 1)
	case atom.Li:
		c.paragraph()
		if n := len(c.list); n > 0 && c.list[n-1] > 0 {
			c.line.WriteString(itoa(c.list[n-1]) + ". ")
			c.list[n-1]++
		} else {
			c.line.WriteString("- ")
		}
	case atom.A:
		if safeURL(href) {
			c.line.WriteString("[")
			c.links = append(c.links, href)
		} else {
			c.links = append(c.links, "")
		}
		if selfClosing {
			c.close(atom.A)
		}
	case atom.Img:
		if safeURL(href) {
			c.line.WriteString("[image](" + escapeURL(href) + ")")
		}
	}
}

func (c *converter) close(a atom.Atom) {
	if dropped(a) {
		if c.skip > 0 {
			c.skip--
		}
		return
	}
	if c.skip > 0 {
		return
	}
	switch a {
	case atom.P, atom.Div, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Tr, atom.Li:
		c.paragraph()
	case atom.Blockquote:
		c.paragraph()
		if c.quote > 0 {
			c.quote--
		}
	case atom.Pre:
		if c.pre > 0 {
			c.pre--
			c.line.WriteString("\n```")
			c.paragraph()
		}
	case atom.Code:
		if c.pre == 0 && c.code > 0 {
			c.line.WriteString("`")
			c.code--
		}
	case atom.B, atom.Strong:
		c.line.WriteString("**")
	case atom.I, atom.Em:
		c.line.WriteString("*")
	case atom.S, atom.Del, atom.Strike:
		c.line.WriteString("~~")
	case atom.Ul, atom.Ol:
		c.paragraph()
		if n := len(c.list); n > 0 {
			c.list = c.list[:n-1]
		}
	case atom.A:
		if n := len(c.links); n > 0 {
			if href := c.links[n-1]; href != "" {
				c.line.WriteString("](" + escapeURL(href) + ")")
			}
			c.links = c.links[:n-1]
		}
	}
}

// text adds a text node: whitespace collapsed (but kept inside pre),
// markdown's markup characters escaped.
func (c *converter) text(s string) {
	if c.pre > 0 {
		c.line.WriteString(strings.ReplaceAll(s, "```", "` ` `"))
		return
	}
	lead := s != "" && isSpace(s[0])
	trail := s != "" && isSpace(s[len(s)-1])
	s = strings.Join(strings.Fields(s), " ")
	if c.pendNL {
		if s == "" {
			return
		}
		c.pendNL = false
		if c.line.Len() > 0 {
			c.line.WriteString("\n")
		}
		lead = false
	}
	if lead || (s == "" && trail) {
		c.space()
	}
	if s == "" {
		return
	}
	if c.code > 0 {
		c.line.WriteString(strings.ReplaceAll(s, "`", "'"))
	} else {
		str := c.line.String()
		c.line.WriteString(escapeMarkdown(s, str == "" || strings.HasSuffix(str, "\n")))
	}
	if trail {
		c.line.WriteByte(' ')
	}
}

// space adds a space between words unless one is there.
func (c *converter) space() {
	if s := c.line.String(); s != "" && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
		c.line.WriteByte(' ')
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

// paragraph ends the current paragraph.
func (c *converter) paragraph() {
	c.pendNL = false
	p := strings.TrimSpace(c.line.String())
	c.line.Reset()
	if p == "" || p == "-" || p == "**" || p == "*" {
		return
	}
	if c.out.Len() > 0 {
		c.out.WriteString("\n\n")
	}
	if c.quote > 0 {
		prefix := strings.Repeat("> ", min(c.quote, 8))
		p = prefix + strings.ReplaceAll(p, "\n", "\n"+prefix)
	}
	c.out.WriteString(p)
}

func (c *converter) finish() string {
	c.paragraph()
	return strings.TrimSpace(c.out.String())
}

// escapeMarkdown escapes the characters that markdown would read as markup
// in text: emphasis, links, code, and at the start of a line headings,
// quotes and list markers. CommonMark lets any ASCII punctuation be escaped.
func escapeMarkdown(s string, lineStart bool) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '*', '_', '`', '[', ']', '~', '<':
			b.WriteByte('\\')
		case '#', '>', '-', '+':
			if i == 0 && lineStart {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// safeURL reports whether a link may be kept: http, https and mailto only.
func safeURL(href string) bool {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != "" && u.User == nil
	case "mailto":
		return true
	}
	return false
}

// escapeURL makes a URL safe inside a markdown link's parentheses.
func escapeURL(href string) string {
	r := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\n", "", "\r", "")
	return r.Replace(strings.TrimSpace(href))
}

func itoa(n int) string {
	if n > 999 {
		n = 999
	}
	var buf [4]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(buf[i:])
}
