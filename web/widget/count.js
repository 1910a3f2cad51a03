/*! Parley comment counts. Plain JavaScript, no dependencies, no tracking. */
/*
 * An index page (a front page, a list of articles) adds
 *
 *   <a href="/2026/11/article" data-parley-count>Comments</a>
 *   <span data-parley-count="https://news.example.com/2026/11/other"></span>
 *   <script src="https://comments.example.com/count.js" data-site="news" async></script>
 *
 * and this script fills every [data-parley-count] element with the number
 * of published comments on the article it names: the attribute's value, or
 * for a link without one its href. It asks the server once for up to 200
 * articles (GET /api/v1/counts), without cookies. The text is "3 comments"
 * in English; data-one and data-other on the script tag give other words
 * ("{n} Kommentar", "{n} Kommentare"), and numbers are formatted with Intl
 * in the page's language. Each element also gets data-parley-n="3".
 */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector("script[data-site][src$='count.js']");
  if (!script || !script.src) return;
  const cfg = script.dataset;
  const base = new URL(".", script.src).href.replace(/\/+$/, "");
  const lang = document.documentElement.lang || "en";
  const plural = new Intl.PluralRules(lang);
  const nf = new Intl.NumberFormat(lang);
  const words = (n) => {
    const one = cfg.one || "{n} comment";
    const other = cfg.other || "{n} comments";
    return (plural.select(n) === "one" ? one : other).replace("{n}", nf.format(n));
  };

  const run = async () => {
    const els = [...document.querySelectorAll("[data-parley-count]")];
    const byURL = new Map();
    for (const el of els) {
      const raw = el.getAttribute("data-parley-count") || (el.tagName === "A" ? el.getAttribute("href") : "");
      if (!raw) continue;
      let u;
      try { u = new URL(raw, location.href).href.split("#")[0]; } catch { continue; }
      if (!byURL.has(u)) byURL.set(u, []);
      byURL.get(u).push(el);
    }
    const urls = [...byURL.keys()];
    for (let i = 0; i < urls.length; i += 200) {
      const q = new URLSearchParams({ site: cfg.site || "" });
      for (const u of urls.slice(i, i + 200)) q.append("url", u);
      let counts;
      try {
        const res = await fetch(base + "/api/v1/counts?" + q, { credentials: "omit", headers: { Accept: "application/json" } });
        const d = await res.json();
        if (!res.ok) throw new Error((d.error && d.error.message) || res.status);
        counts = d.counts || {};
      } catch (e) {
        console.error(`Parley: comment counts from ${base} failed: ${e.message}. Check data-site="${cfg.site}" and that this page's origin, ${location.origin}, is allowed for the site.`);
        return;
      }
      for (const [u, n] of Object.entries(counts)) {
        for (const el of byURL.get(u) || []) {
          el.textContent = words(n);
          el.setAttribute("data-parley-n", String(n));
        }
      }
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run, { once: true });
  else run();
})();
