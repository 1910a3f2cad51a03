package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
)

// contrastJS defines ratio(a, b): the WCAG 2 contrast of two computed CSS
// colours ("rgb(…)"), written apart from the widget's own code.
const contrastJS = `const ratio = (a, b) => {
	const L = (s) => {
		const [r, g, b] = s.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
			v /= 255;
			return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const x = L(a), y = L(b);
	return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
};`

// TestBrowserAccentContrast is issue 14's point 12: whatever accent a
// publisher sets, the widget's links and its Post button keep WCAG AA
// contrast (4.5:1) in both themes, computed from getComputedStyle in
// Chromium; an accent that already meets it is used as it is.
func TestBrowserAccentContrast(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	accents := []string{"#c70000", "#ffcc00", "#2e8b57", "#0b57d0", "#ff69b4"}
	themes := map[string]string{"light": "#ffffff", "dark": "#121212"}
	pages := map[string]string{}
	for i, a := range accents {
		for theme, bg := range themes {
			pages[fmt.Sprintf("/%d/%s", i, theme)] = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Accent</title>
<style>body { background: ` + bg + `; } #parley { --parley-accent: ` + a + `; }</style></head>
<body><div id="parley"></div><script src="%s/embed.js" data-site="demo" data-theme="` + theme + `" async></script></body></html>`
		}
	}
	pub := publisherSite(t, srv, pages)
	allowOrigins(t, srv, srv.URL, pub)

	for i, accent := range accents {
		for theme := range themes {
			path := fmt.Sprintf("/%d/%s", i, theme)
			// A page of its own each time: a fresh browser, as the pages'
			// open streams would soon take every connection to the host.
			b := newBrowser(t, chrome, path)
			b.open(pub + path)
			got := eval[string](b, "contrast", `(() => {
				`+contrastJS+`
				const root = `+shadowRoot+`;
				const bg = getComputedStyle(document.body).backgroundColor;
				const link = getComputedStyle(root.querySelector('.parley-policy a')).color;
				const post = getComputedStyle(root.querySelector('.parley-form-new button[type=submit]'));
				const probe = document.createElement('span');
				probe.style.color = '`+accent+`';
				document.body.append(probe);
				const given = getComputedStyle(probe).color;
				probe.remove();
				return [ratio(link, bg).toFixed(2), ratio(post.color, post.backgroundColor).toFixed(2), String(ratio(given, bg) >= 4.5), String(link === given)].join(' ');
			})()`)
			f := strings.Fields(got)
			var linkRatio, postRatio float64
			fmt.Sscan(f[0], &linkRatio)
			fmt.Sscan(f[1], &postRatio)
			t.Logf("accent %s, %s theme: links %.2f:1, Post button %.2f:1", accent, theme, linkRatio, postRatio)
			if linkRatio < 4.5 {
				t.Errorf("accent %s, %s theme: links have %.2f:1 against the page, want at least 4.5:1", accent, theme, linkRatio)
			}
			if postRatio < 4.5 {
				t.Errorf("accent %s, %s theme: the Post button's text has %.2f:1, want at least 4.5:1", accent, theme, postRatio)
			}
			if f[2] == "true" && f[3] != "true" {
				t.Errorf("accent %s, %s theme: the accent meets AA on the page but links do not use it", accent, theme)
			}
			b.checkNoErrors()
		}
	}
	srv.checkAlive()
}
