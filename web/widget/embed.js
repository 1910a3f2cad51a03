/*! Parley comments widget. Plain JavaScript, no dependencies, no tracking. */
/*
 * A publisher adds
 *
 *   <div id="parley"></div>
 *   <script src="https://comments.example.com/embed.js" data-site="news" async></script>
 *
 * and this script renders the thread of the page it runs on.
 *
 * Why shadow DOM rather than an iframe: a shadow root isolates styles both
 * ways (the publisher's CSS cannot break the thread, ours cannot leak into
 * the article) while the thread stays part of the page. It grows with its
 * content, so there is no height syncing and no postMessage protocol; the
 * publisher's fonts and colours inherit into it, and so does the
 * --parley-accent custom property; its buttons and fields sit in the page's
 * own tab order for keyboard and screen-reader users; and there is no second
 * document to load. The root is open so that tests and assistive tools can
 * reach in.
 *
 * Attributes read from the script tag: data-site (required); data-url
 * (default: <link rel=canonical>, else the location without its fragment);
 * data-title (default: document.title); data-theme ("light", "dark", "auto"
 * to follow prefers-color-scheme; unset: match the page's background);
 * data-sort ("oldest", "newest", "top"); data-target (the id of the element
 * to mount into, default "parley"). The API base is the directory the script
 * was loaded from.
 *
 * Rules this file keeps: no third-party requests and no cookies set from
 * script; no inline event handlers and no style attributes, so it works
 * under a strict Content-Security-Policy; every string that is not the
 * server's sanitised comment HTML is inserted as text.
 */
(() => {
  "use strict";

  // web/embed.go replaces this string literal with the contents of embed.css
  // when it builds the served script. When the raw file is served (during
  // development) the stylesheet is linked instead.
  const CSS = "__PARLEY_CSS__";
  // web/embed.go replaces this one with the message catalogues: English in
  // full ("en") and the hashes of the others ("langs"), which are loaded on
  // demand from /embed/i18n/<lang>.json?v=<hash>.
  const I18N = "__PARLEY_I18N__";

  const MAX_TEXT = 5000;
  const MAX_NOTE = 500;
  const EDIT_MS = 10 * 60 * 1000;
  const PAGE = 50;
  const DEPTH = 4; // replies are indented up to this many levels
  const REASONS = [
    ["abuse", "reason_abuse"],
    ["hate", "reason_hate"],
    ["harassment", "reason_harassment"],
    ["threat", "reason_threat"],
    ["spam", "reason_spam"],
    ["off_topic", "reason_off_topic"],
    ["other", "reason_other"],
  ];
  const SORTS = [["oldest", "sort_oldest"], ["newest", "sort_newest"], ["top", "sort_top"]];

  const script = document.currentScript || document.querySelector("script[data-site]");
  if (!script || !script.src) return;
  const cfg = script.dataset;
  const base = new URL(".", script.src).href.replace(/\/+$/, "");

  // ---- helpers --------------------------------------------------------

  // h builds an element. Props: class, text (textContent), value, on<event>
  // (a listener), true (an empty attribute); null, undefined and false are
  // skipped; anything else is an attribute. Strings among the children
  // become text nodes.
  const h = (tag, props, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k === "value") el.value = v;
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  };
  const btn = (cls, label, props) => h("button", { type: "button", class: cls, text: label, ...props });

  // ---- language ---------------------------------------------------------
  // Every string a reader sees comes from a catalogue (widget/i18n/*.json):
  // t("key", {n: 3}) picks the plural form for n with Intl.PluralRules and
  // fills {placeholders}; numbers and dates are formatted with Intl for
  // the same language. data-lang on the script tag, else the lang of the
  // element mounted into (or of the page), chooses it.
  const CAT = typeof I18N === "object" ? I18N : { en: {}, langs: {} };
  let lang = "en";
  let msgs = CAT.en;
  let rules = null;
  let nf = null;
  const num = (n) => (nf || (nf = new Intl.NumberFormat(lang))).format(Number(n || 0));
  const t = (key, v) => {
    let m = msgs[key] !== undefined ? msgs[key] : CAT.en[key];
    if (m === undefined) return key;
    if (typeof m === "object") {
      rules = rules || new Intl.PluralRules(lang);
      m = m[rules.select(Number(v.n))] || m.other;
    }
    return m.replace(/\{(\w+)\}/g, (x, k) => (v && v[k] !== undefined ? (k === "n" || k === "max" ? num(v[k]) : String(v[k])) : x));
  };
  const pickLang = (host) => {
    const tag = cfg.lang || (host.closest("[lang]") || document.documentElement).lang || "en";
    const want = tag.toLowerCase().split(/[-_]/)[0];
    return want === "en" || CAT.langs[want] ? want : "en";
  };
  const RTL = ["ar", "he", "fa", "ur"];
  let uidN = 0;
  const uid = (p) => `parley-${p}-${++uidN}`;
  const show = (el, msg) => {
    el.textContent = msg || "";
    el.hidden = !msg;
  };
  // store keeps the reader's name and own texts (localStorage); drafts
  // keeps half-written comments for this tab, across reloads
  // (sessionStorage). An empty value removes the key.
  const keep = (area) => ({
    get(k) {
      try { return window[area].getItem("parley:" + k); } catch { return null; }
    },
    set(k, v) {
      try {
        if (v) window[area].setItem("parley:" + k, v);
        else window[area].removeItem("parley:" + k);
      } catch { /* storage blocked: fine */ }
    },
  });
  const store = keep("localStorage");
  const drafts = keep("sessionStorage");

  // The server renders markdown and sanitises the HTML before storing it;
  // setHTML is the one place that HTML enters the DOM. Under a Trusted Types
  // CSP the publisher allows the "parley" policy.
  let tt = null;
  try {
    if (window.trustedTypes && trustedTypes.createPolicy) tt = trustedTypes.createPolicy("parley", { createHTML: (s) => s });
  } catch { /* policy not allowed: HTML can be set only without Trusted Types */ }
  const setHTML = (el, html) => {
    el.innerHTML = tt ? tt.createHTML(html || "") : html || "";
    return el;
  };

  // Times: Go writes RFC 3339 with nanoseconds; older Safari parses at most
  // milliseconds. The zero time (year 1) means "never".
  const when = (s) => {
    const d = s ? new Date(String(s).replace(/(\.\d{3})\d+/, "$1")) : null;
    return d && !isNaN(d) && d.getUTCFullYear() > 1 ? d : null;
  };
  const full = (d) => d.toLocaleString(lang, { dateStyle: "long", timeStyle: "short" });
  let rtf = null;
  const ago = (d) => {
    const s = (Date.now() - d) / 1000;
    rtf = rtf || new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    if (s < 45) return rtf.format(0, "second");
    if (s < 3600) return rtf.format(-Math.max(1, Math.floor(s / 60)), "minute");
    if (s < 86400) return rtf.format(-Math.floor(s / 3600), "hour");
    if (s < 7 * 86400) return rtf.format(-Math.floor(s / 86400), "day");
    const opt = { day: "numeric", month: "short" };
    if (d.getFullYear() !== new Date().getFullYear()) opt.year = "numeric";
    return d.toLocaleDateString(lang, opt);
  };
  const timeEl = (d) => h("time", { class: "parley-time", datetime: d.toISOString(), title: full(d), text: ago(d) });

  // pageIsDark reports whether the page behind el has a dark background: the
  // first opaque background colour among its ancestors, or for a transparent
  // page the canvas, which is dark only when the page opts into a dark
  // color-scheme and the reader prefers one.
  const pageIsDark = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const m = getComputedStyle(n).backgroundColor.match(/^rgba?\(([\d.]+)[, ]+([\d.]+)[, ]+([\d.]+)(?:[,/ ]+([\d.]+%?))?/);
      if (!m || (m[4] !== undefined && parseFloat(m[4]) < (m[4].endsWith("%") ? 50 : 0.5))) continue;
      return 0.2126 * m[1] + 0.7152 * m[2] + 0.0722 * m[3] < 128;
    }
    const dark = window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches;
    return !!dark && /dark/.test(getComputedStyle(document.documentElement).colorScheme || "");
  };

  // ---- colours ------------------------------------------------------------
  // WCAG 2 contrast: relative luminance of sRGB colours [r, g, b] (0–255).
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const x = lum(a);
    const y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const rgbOf = (css) => {
    const m = String(css).match(/rgba?\(([\d.]+)[, ]+([\d.]+)[, ]+([\d.]+)(?:[,/ ]+([\d.]+%?))?/);
    if (!m || (m[4] !== undefined && parseFloat(m[4]) < (m[4].endsWith("%") ? 50 : 0.5))) return null;
    return [+m[1], +m[2], +m[3]];
  };
  // toward moves colour c toward black or white, whichever contrasts more
  // with bg, just far enough to reach AA (4.5:1) against bg.
  const toward = (c, bg) => {
    const end = contrast([0, 0, 0], bg) > contrast([255, 255, 255], bg) ? [0, 0, 0] : [255, 255, 255];
    for (let i = 0; i <= 20; i++) {
      const x = c.map((v, k) => Math.round(v + ((end[k] - v) * i) / 20));
      if (contrast(x, bg) >= 4.5) return x;
    }
    return end;
  };
  const css = (c) => `rgb(${c.join(", ")})`;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // newKey returns a random idempotency key: 128 bits in hex.
  // (crypto.getRandomValues works on plain-http pages too, randomUUID not.)
  const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) => x.toString(16).padStart(2, "0")).join("");

  // keyed remembers the key of a write the server has not answered, so that
  // submitting the same form again after a failure repeats it under the
  // same key instead of writing it twice; a changed form is a new write.
  const keyed = () => {
    let sent = null; // { body, key }
    return {
      key: (body) => {
        const b = JSON.stringify(body);
        if (!sent || sent.body !== b) sent = { body: b, key: newKey() };
        return sent.key;
      },
      // done forgets the key once the server answered with an outcome
      // (success, or a refusal that repeating would not change).
      done: (e) => {
        if (!e || (e.status >= 400 && e.status < 500 && e.status !== 409 && e.status !== 429)) sent = null;
      },
    };
  };

  class APIError extends Error {
    constructor(status, code, message, retry) {
      super(message);
      this.status = status;
      this.code = code;
      this.retry = retry;
    }
  }

  // api calls the Parley API with the reader's session cookie and returns
  // the decoded JSON, or throws an APIError whose message can be shown.
  // A request that fails without an answer is a network error, or the
  // browser refusing the answer because the server did not allow this
  // page's origin (CORS): script cannot tell them apart. probe asks the
  // server for /healthz without CORS ("no-cors": an opaque answer, but an
  // answer), which tells the developer which of the two it was.
  //
  // A write given an idempotency key sends it as Idempotency-Key, and is
  // sent again with the same key, up to twice, when no answer came or the
  // server was unavailable (503): the server answers a repeated key with
  // the first outcome, so a retry never posts twice.
  const api = async (method, path, body, probe, key) => {
    const opt = probe ? { mode: "no-cors", credentials: "omit" } : { method, credentials: "include", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opt.headers["Content-Type"] = "application/json";
      opt.body = JSON.stringify(body);
    }
    if (key) opt.headers["Idempotency-Key"] = key;
    let res;
    for (let attempt = 0; ; attempt++) {
      const last = !key || attempt >= 2;
      try {
        res = await fetch(base + path, opt);
      } catch {
        if (last) throw new APIError(0, "network", t("network"));
        await sleep(1000 * (attempt + 1));
        continue;
      }
      if (res.status !== 503 || last) break;
      const after = parseInt(res.headers.get("Retry-After") || "", 10) || 1;
      await sleep(Math.min(after, 5) * 1000);
    }
    if (probe) return {};
    let data = null;
    try { data = await res.json(); } catch { /* empty or not JSON */ }
    if (res.ok) return data || {};
    const e = (data && data.error) || {};
    const retry = parseInt(res.headers.get("Retry-After") || "", 10) || 0;
    let msg = (res.status < 500 && e.message) || t("error_status", { status: res.status });
    if (res.status === 429 && retry && !/\d/.test(msg)) msg += " " + t("wait", { n: retry });
    const err = new APIError(res.status, e.code || "", msg, retry);
    err.server = e.message || "";
    throw err;
  };

  // ---- single sign-on and badges (docs/sso.md) -------------------------

  // The author's name, isolated from the text around it (<bdi>: a name
  // written right to left, or with bidi characters, cannot reorder the
  // comment's meta line), and their badge.
  const authorEl = (a, name) => {
    // The avatar comes from Parley, which checked it: no other host.
    const pic = a && a.picture && h("img", { class: "parley-avatar", src: base + "/api/v1/avatar?user=" + encodeURIComponent(a.id), alt: "", loading: "lazy" });
    const el = h("span", { class: "parley-author" }, pic, h("bdi", { text: name }));
    const b = a && (a.badge === "staff" || a.badge === "moderator") && t("badge_" + a.badge);
    if (!b) return el;
    return h("span", { class: "parley-author-wrap" }, el,
      h("span", { class: "parley-badge parley-badge-" + a.badge, title: b, text: b }));
  };

  // ssoReader tells a reader signed in by the publisher: their name is the
  // publisher's, so the form does not ask for it.
  const ssoReader = (m) => !!(m && m.sso);

  // Every widget on the page, to refresh after Parley.login / logout.
  const ssoWidgets = [];
  const ssoRefresh = () => Promise.all(ssoWidgets.map((f) => f()));

  // signIn exchanges a publisher's token for a reader session (the
  // HttpOnly cookie); the token is spent.
  const signIn = async (token) => {
    await api("POST", "/api/v1/auth/sso", { site: cfg.site || "", token: String(token || "") });
    store.set("reader", "1");
  };

  // window.Parley: the publisher's page calls login(token) when its reader
  // signs in and logout() when they sign out. Both resolve once the thread
  // shows the new state, and reject with the server's message.
  window.Parley = Object.assign(window.Parley || {}, {
    login: async (token) => { await signIn(token); await ssoRefresh(); },
    logout: async () => { await api("POST", "/api/v1/auth/logout", {}); await ssoRefresh(); },
  });

  // OpenID Connect (docs/sso.md): the site's provider, asked once per
  // page; null when the site has none.
  let oidcInfo = null;
  const oidcProvider = () => oidcInfo || (oidcInfo = api("GET", "/api/v1/auth/oidc?" + new URLSearchParams({ site: cfg.site || "" }))
    .then((d) => d.provider || null).catch(() => null));

  // oidcSignIn: the provider's sign-in in a popup, whose last page posts
  // a ticket to this origin; redeemed here, for this embed's cookie.
  const oidcSignIn = () => new Promise((resolve, reject) => {
    const q = new URLSearchParams({ site: cfg.site || "", origin: location.origin });
    const w = window.open(base + "/api/v1/auth/oidc/start?" + q, "parley-oidc", "popup,width=520,height=680");
    if (!w) { reject(new Error(t("sso_popup"))); return; }
    const from = new URL(base).origin;
    const onMsg = async (ev) => {
      if (ev.origin !== from || !ev.data || ev.data.type !== "parley:oidc") return;
      window.removeEventListener("message", onMsg);
      try {
        await api("POST", "/api/v1/auth/oidc/ticket", { ticket: String(ev.data.ticket || "") });
        store.set("reader", "1");
        await ssoRefresh();
        resolve();
      } catch (e) {
        reject(e);
      }
    };
    window.addEventListener("message", onMsg);
  });

  // myData is the signed-in reader's own page (docs/sso.md).
  const myData = (me) => {
    const panel = h("div", { class: "parley-mydata", hidden: true });
    const msg = h("p", { role: "status" });
    const load = async () => {
      panel.textContent = "";
      let d;
      try {
        d = await api("GET", "/api/v1/me/export");
      } catch (e) {
        return show(msg, e.message);
      }
      const list = h("ul", {});
      for (const c of d.comments) {
        list.append(h("li", {}, h("a", { href: c.url, text: c.title || c.url }),
          ` · ${c.status}${c.reasons ? " (" + c.reasons.join(", ") + ")" : ""}`, h("p", { dir: "auto", text: c.text })));
      }
      const dl = btn("", t("me_download"), {
        onclick: () => {
          const a = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(d, null, 2)], { type: "application/json" })), download: "parley-data.json" });
          document.body.append(a);
          a.click();
          a.remove();
        },
      });
      const act = (cls, label, f, done) => btn(cls, label, {
        onclick: async () => {
          try {
            if (await f()) return;
            await ssoRefresh();
            show(msg, done);
          } catch (e) {
            show(msg, e.message);
          }
        },
      });
      const del = act("parley-mydata-erase", t("me_erase"), async () => {
        if (!window.confirm(t("me_confirm"))) return 1;
        await api("DELETE", "/api/v1/me", { confirm: "erase" });
        store.set("reader", "");
      });
      const rename = act("", t("me_rename"), async () => {
        const n = window.prompt(t("me_rename"), me.name || "");
        if (n) me.name = (await api("PATCH", "/api/v1/me", { site: cfg.site || "", name: n })).me.name, show(msg, t("me_renamed"));
        return 1;
      });
      const out = me.sso && act("", t("me_everywhere"), async () => {
        await api("DELETE", "/api/v1/me/sessions");
        store.set("reader", "");
      }, t("me_signed_out"));
      panel.append(list, h("div", { class: "parley-buttons" }, dl, rename, out, del));
    };
    const toggle = btn("", t("me_data"), {
      onclick: () => {
        panel.hidden = !panel.hidden;
        toggle.setAttribute("aria-expanded", String(!panel.hidden));
        if (!panel.hidden) load();
      },
    });
    return h("div", {}, toggle, panel, msg);
  };

  // ssoMount registers a mounted widget and loads it, signed in first
  // with the token of data-sso-token when the page gives one.
  const ssoMount = async (refresh, load) => {
    ssoWidgets.push(refresh);
    if (cfg.ssoToken) {
      try {
        await signIn(cfg.ssoToken);
      } catch (e) {
        console.warn("Parley: signing in failed: " + e.message);
      }
    }
    load();
  };

  // ---- the widget -----------------------------------------------------

  async function mount(host) {
    const site = cfg.site || "";
    const canon = document.querySelector("link[rel=canonical]");
    const url = cfg.url ? new URL(cfg.url, location.href).href : (canon && canon.href) || location.href.split("#")[0];
    const title = cfg.title || document.title || "";
    let sort = SORTS.some(([v]) => v === cfg.sort) ? cfg.sort : "oldest";

    const shadow = host.attachShadow({ mode: "open" });
    if (CSS.startsWith("__PARLEY")) {
      shadow.append(h("link", { rel: "stylesheet", href: base + "/embed.css" }));
    } else {
      // A constructed stylesheet is CSSOM, which a style-src CSP does not
      // block; a <style> element is the fallback for older browsers.
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        shadow.adoptedStyleSheets = [sheet];
      } catch {
        shadow.append(h("style", { text: CSS }));
      }
    }
    host.setAttribute("data-parley-state", "loading");
    lang = pickLang(host);
    if (lang !== "en") {
      try {
        msgs = await api("GET", `/embed/i18n/${lang}.json?v=${CAT.langs[lang]}`);
      } catch (e) {
        console.warn(`Parley: the "${lang}" messages did not load (${e.message}); showing English.`);
        lang = "en";
        msgs = CAT.en;
      }
    }

    // State.
    let page = { count: 0, closed: false, policy_url: "", title };
    let me = null; // {id, name} when the reader has a session
    let votes = {}; // comment id → this reader's vote
    let cursor = "";
    let seq = 0; // bumped by every full reload; stale responses are dropped
    let counted = 0; // page.count events received; they are the true count
    let started = false; // the first thread has been shown
    const byId = new Map(); // comment id (string) → comment
    const els = new Map(); // comment id → <article>
    const fresh = new Set(); // ids announced by the stream, not shown yet
    const seen = new Set(); // ids the stream has announced at all
    const reported = new Set();

    // Skeleton.
    const probe = h("span", { class: "parley-probe", hidden: true });
    const ui = h("div", { class: "parley", "aria-busy": "true", lang, dir: RTL.includes(lang) ? "rtl" : "ltr" });
    const live = h("div", { class: "parley-sr", "aria-live": "polite" });
    const countEl = h("h2", { class: "parley-count", text: t("comments") });
    const sortSel = h("select", { class: "parley-sort", name: "sort" },
      SORTS.map(([v, l]) => h("option", { value: v, text: t(l), selected: v === sort })));
    const policy = h("p", { class: "parley-policy", hidden: true });
    const compose = h("div", { class: "parley-compose" });
    const featured = h("section", { class: "parley-featured", hidden: true, "aria-labelledby": "parley-featured-h" },
      h("h3", { id: "parley-featured-h", text: t("featured") }), h("div", { class: "parley-featured-list" }));
    const newBtn = btn("parley-new-btn", "", { hidden: true });
    const thread = h("div", { class: "parley-thread" });
    const status = h("div", { class: "parley-status", role: "status", text: t("loading") });
    const more = btn("parley-more", t("more"), { hidden: true });
    ui.append(probe, live,
      h("div", { class: "parley-head" }, countEl,
        h("a", { class: "parley-feed", rel: "alternate", type: "application/atom+xml", text: t("feed"),
          href: `${base}/api/v1/feeds/page.atom?site=${encodeURIComponent(site)}&url=${encodeURIComponent(url)}` }),
        h("label", { class: "parley-sort-label" }, t("sort_by") + " ", sortSel)),
      policy, compose, featured, h("div", { class: "parley-new-wrap" }, newBtn), thread, status, more);
    shadow.append(ui);
    let fitted = null; // the stylesheet of the derived colours
    try {
      fitted = new CSSStyleSheet();
      shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, fitted];
    } catch { fitted = null; /* no constructed sheets: the palette as written */ }

    // fitColours derives from the publisher's accent the colours that carry
    // text, so that each keeps AA contrast (4.5:1) whatever the accent:
    // links and pressed votes (--accent) against the page behind the
    // widget, and the buttons' text (--on-accent, black or white) against
    // their background (--accent-bg), darkened or lightened as needed.
    const fitColours = () => {
      if (!fitted) return;
      const accent = rgbOf(getComputedStyle(probe).color);
      let bg = null;
      for (let n = host; n && n.nodeType === 1 && !bg; n = n.parentElement) bg = rgbOf(getComputedStyle(n).backgroundColor);
      const dark = ui.dataset.theme === "dark" || (ui.dataset.theme === "auto" && window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches);
      if (!bg) bg = dark ? [18, 18, 18] : [255, 255, 255];
      if (!accent) return;
      const text = contrast(accent, bg) >= 4.5 ? accent : toward(accent, bg);
      const on = contrast([0, 0, 0], accent) > contrast([255, 255, 255], accent) ? [0, 0, 0] : [255, 255, 255];
      const fill = contrast(on, accent) >= 4.5 ? accent : toward(accent, on);
      fitted.replaceSync(`.parley[data-theme] { --accent: ${css(text)}; --accent-bg: ${css(fill)}; --on-accent: ${css(on)}; }`);
    };
    const setTheme = () => {
      const th = cfg.theme;
      ui.dataset.theme = th === "light" || th === "dark" || th === "auto" ? th : pageIsDark(host) ? "dark" : "light";
      fitColours();
    };
    setTheme();
    // The publisher's stylesheets may arrive after this async script.
    window.addEventListener("load", setTheme);
    const mq = window.matchMedia && matchMedia("(prefers-color-scheme: dark)");
    if (mq && mq.addEventListener) mq.addEventListener("change", setTheme);

    const say = (msg) => {
      live.textContent = "";
      setTimeout(() => { live.textContent = msg; }, 60);
    };
    const setState = (s) => {
      host.setAttribute("data-parley-state", s);
      ui.setAttribute("aria-busy", String(s === "loading"));
      if (s === "ready") host.dispatchEvent(new CustomEvent("parley:ready", { bubbles: true }));
    };

    // ---- header, policy, form area -----------------------------------

    const header = () => {
      const n = page.count || 0;
      const pt = page.title || title;
      countEl.textContent = pt ? t(n ? "count_on" : "none_on", { n, title: pt }) : t(n ? "count" : "none", { n });
    };

    const setPolicy = () => {
      let href = "";
      try {
        const u = new URL(page.policy_url || "", base + "/"); // a relative policy URL is on the Parley server
        if (page.policy_url && (u.protocol === "https:" || u.protocol === "http:")) href = u.href;
      } catch { /* not a URL */ }
      policy.textContent = "";
      if (href) policy.append(h("a", { href, target: "_blank", rel: "noopener", text: t("policy") }));
      policy.hidden = !href;
    };

    // A draft is kept per page and form (new comment, reply to or quote
    // of a comment, edit of one) while the reader types, and given back when
    // that form opens again: after a reload, or when comments reopen.
    const draftKey = (kind, c) => `draft:${url}:${kind}:${c ? c.id : ""}`;

    // draftBox shows the text of a comment the reader was writing when
    // comments were closed, so it is not lost, with a button to copy it.
    const draftBox = (text) => {
      const ta = h("textarea", { class: "parley-draft-text", readonly: true, rows: "4", "aria-label": t("your_comment"), value: text });
      const copy = btn("parley-copy", t("copy"), {
        onclick: async () => {
          ta.select();
          try {
            await navigator.clipboard.writeText(text);
          } catch {
            document.execCommand("copy"); // the text is selected
          }
          copy.textContent = t("copied");
        },
      });
      return h("div", { class: "parley-draft" }, h("p", { text: t("draft_closed") }), ta, h("div", { class: "parley-buttons" }, copy));
    };

    let composeClosed = null;
    const setCompose = () => {
      const closed = !!page.closed;
      if (closed === composeClosed) return;
      composeClosed = closed;
      compose.textContent = "";
      const draft = drafts.get(draftKey("new"));
      if (closed) compose.append(h("p", { class: "parley-closed", text: t("closed") }), draft ? draftBox(draft) : "");
      else compose.append(h("h3", { class: "parley-form-title", text: t("leave") }), composer({}), mailBox());
    };

    // Replies by e-mail: the reader leaves an address (confirmed by a link
    // Parley mails) to be told of replies. Asked of the server only when
    // opened; a server without --smtp-url says it sends no e-mail.
    const mailBox = () => {
      const body = h("div", { class: "parley-mail-body" });
      const box = h("details", { class: "parley-mail" }, h("summary", { text: t("mail_title") }), body);
      const show = (m, sent) => {
        body.textContent = "";
        if (!m.enabled) return body.append(h("p", { class: "parley-mail-off", text: t("mail_off") }));
        if (!m.signed_in) return body.append(h("p", { text: t("mail_post_first") }));
        if (sent) body.append(h("p", { class: "parley-mail-status", role: "status", text: t("mail_sent") }));
        else if (m.email && m.replies) body.append(h("p", { class: "parley-mail-status", text: t("mail_on", { email: m.email }) }));
        const input = h("input", { type: "email", class: "parley-mail-email", autocomplete: "email", "aria-label": t("mail_address"), placeholder: t("mail_address"), value: m.email || "" });
        const save = btn("parley-mail-save", t("mail_save"), {
          onclick: async () => {
            try {
              const r = await api("PATCH", "/api/v1/me/mail", { email: input.value.trim(), replies: true });
              show(r, !!r.confirmation_sent);
            } catch (e) {
              body.append(h("p", { class: "parley-error", role: "alert", text: e.message }));
            }
          },
        });
        body.append(h("div", { class: "parley-buttons" }, input, save));
      };
      box.addEventListener("toggle", async () => {
        if (!box.open || body.childNodes.length) return;
        try { show(await api("GET", "/api/v1/me/mail")); } catch (e) { body.append(h("p", { class: "parley-error", text: e.message })); }
      });
      return box;
    };

    // The thread is the same cached bytes for every reader; who this reader
    // is and how they voted come with it (d.me) or from /api/v1/me. Most
    // readers never post, vote or report, so /me is asked only of a browser
    // that has done so here (the session cookie is HttpOnly: script cannot
    // see it) or when the thread shows a pending comment, which only its
    // author can see.
    const getMe = () => api("GET", "/api/v1/me?" + new URLSearchParams({ site, url })).catch(() => null);
    const acted = () => store.set("reader", "1");
    const getThread = async (limit) => {
      const early = store.get("reader") ? getMe() : null;
      const d = await api("GET", threadPath("", limit));
      if (d.me === undefined) {
        const pending = (d.comments || []).some((c) => c.status === "pending");
        const m = await (early || (pending ? getMe() : null));
        d.me = (m && m.me) || null;
      }
      return d;
    };

    const applyMeta = (d) => {
      if (d.page) page = { ...page, ...d.page };
      me = d.me || null;
      votes = (me && me.votes) || {};
      header();
      setPolicy();
      setCompose();
    };

    // ---- comments ----------------------------------------------------

    const isMine = (c) => !!(me && c.author && c.author.id === me.id);
    const isStaff = () => !!(me && (me.role === "moderator" || me.role === "admin"));
    const sig = (c) => JSON.stringify([c.status, c.html, c.score, c.edited, c.featured, c.quote, votes[c.id], isMine(c), isStaff(), page.closed]);
    const authorName = (a) => (typeof a === "string" ? a : a && a.name) || t("anonymous");

    // quoteOf is the quote to show for a comment this reader has just posted
    // or edited: the server's, unless it lacks the quoted comment's details
    // (no number) and the widget knows them.
    const quoteOf = (srv, known) => (srv && (srv.number || !known) ? srv : known || null);
    const asQuote = (c) => ({ id: c.id, number: c.number, author: authorName(c.author), html: c.html });

    const quoteBlock = (q) => {
      if (q.removed) return h("p", { class: "parley-quote parley-quote-removed", text: t("quote_removed", { n: q.number }) });
      return h("blockquote", { class: "parley-quote" },
        h("p", { class: "parley-quote-meta" },
          h("a", { class: "parley-quote-link", href: "#parley-c-" + q.id, text: "#" + q.number }),
          " " + t("wrote", { name: authorName(q.author) })),
        setHTML(h("div", { class: "parley-quote-body", dir: "auto" }), q.html));
    };

    const actions = (el, c, mine) => {
      const id = String(c.id);
      const bar = h("div", { class: "parley-actions" });
      const open = !page.closed;
      if (c.status === "approved") {
        const v = votes[id] || 0;
        const score = h("span", { class: "parley-score", text: String(c.score || 0) });
        if (mine) {
          bar.append(h("span", { class: "parley-vote" }, score, h("span", { class: "parley-points", text: " " + t("points") })));
        } else {
          bar.append(h("span", { class: "parley-vote", role: "group", "aria-label": t("votes_on", { n: c.number }) },
            btn("parley-up", "▲", { "aria-pressed": String(v === 1), "aria-label": t("upvote"), title: t("upvote") }),
            score,
            h("span", { class: "parley-sr", text: " " + t("points") }),
            btn("parley-down", "▼", { "aria-pressed": String(v === -1), "aria-label": t("downvote"), title: t("downvote") })));
        }
        if (open) {
          const mode = el.children[1].firstChild && el.children[1].firstChild.mode;
          bar.append(btn("parley-reply-btn", t("reply"), { "aria-expanded": String(mode === "reply") }),
            btn("parley-quote-btn", t("quote"), { "aria-expanded": String(mode === "quote") }));
        }
      }
      if (mine) {
        const at = when(c.created);
        if (open && at && Date.now() - at < EDIT_MS) bar.append(btn("parley-edit-btn", t("edit"), { "data-until": String(+at + EDIT_MS) }));
        bar.append(btn("parley-delete-btn", t("delete")));
      } else if (c.status === "approved") {
        if (isStaff()) bar.append(btn("parley-delete-btn", t("delete")));
        bar.append(btn("parley-report-btn", reported.has(id) ? t("reported") : t("report")));
      }
      return bar;
    };

    // fill (re)draws a comment's own content; its form slot and replies stay.
    const fill = (el, c) => {
      const id = String(c.id);
      const main = el.firstChild;
      const mine = isMine(c);
      el._sig = sig(c);
      el.dataset.status = c.status || "approved";
      el.classList.toggle("parley-mine", mine);
      main.textContent = "";
      const link = h("a", { class: "parley-number", href: "#parley-c-" + id, text: "#" + c.number });
      if (c.status === "deleted") {
        el.setAttribute("aria-label", t("removed_label", { n: c.number }));
        main.append(h("div", { class: "parley-meta" }, link), h("p", { class: "parley-removed", text: t("removed") }));
        return;
      }
      const name = authorName(c.author);
      el.setAttribute("aria-label", t("comment_by", { n: c.number, name }));
      const meta = h("div", { class: "parley-meta" }, link, authorEl(c.author, name));
      if (mine) meta.append(h("span", { class: "parley-you", text: t("you") }));
      const created = when(c.created);
      if (created) meta.append(timeEl(created));
      const edited = when(c.edited);
      if (edited) meta.append(h("span", { class: "parley-edited", title: t("edited_at", { date: full(edited) }), text: t("edited") }));
      const parent = c.parent && byId.get(String(c.parent));
      if (parent && +el.dataset.depth > DEPTH) {
        meta.append(h("a", { class: "parley-parent-link", href: "#parley-c-" + parent.id, text: t("in_reply_to", { n: parent.number }) }));
      }
      if (c.featured) meta.append(h("span", { class: "parley-badge parley-badge-featured", text: t("featured") }));
      main.append(meta);
      if (c.status === "pending") {
        main.append(h("p", { class: "parley-badge parley-status-pending", text: t("pending") }));
      }
      if (c.quote) main.append(quoteBlock(c.quote));
      main.append(setHTML(h("div", { class: "parley-body", dir: "auto" }), c.html), actions(el, c, mine));
    };

    // refill redraws a comment and puts the focus back where it was.
    const refill = (el, c) => {
      const a = shadow.activeElement;
      const cls = a && el.firstChild.contains(a) && a.classList[0];
      fill(el, c);
      const b = cls && el.firstChild.querySelector("." + cls);
      if (b) b.focus();
    };

    const article = (c, depth) => {
      const id = String(c.id);
      const el = h("article", { class: "parley-comment", id: "parley-c-" + id, "data-id": id, "data-depth": depth, tabindex: "-1" },
        h("div", { class: "parley-main" }),
        h("div", { class: "parley-slot" }),
        h("div", { class: depth + 1 > DEPTH ? "parley-replies parley-flat" : "parley-replies" }));
      els.set(id, el);
      byId.set(id, c);
      fill(el, c);
      return el;
    };

    // add appends comments in thread order: each reply goes under its parent.
    const add = (list) => {
      for (const c of list) {
        const id = String(c.id);
        if (els.has(id)) {
          byId.set(id, c);
          fill(els.get(id), c);
          continue;
        }
        const parent = c.parent ? els.get(String(c.parent)) : null;
        if (parent) parent.lastChild.append(article(c, +parent.dataset.depth + 1));
        else thread.append(article(c, 0));
      }
      showFeatured();
    };

    const showFeatured = () => {
      const list = [...byId.values()].filter((c) => c.featured && c.status === "approved").sort((a, b) => a.number - b.number);
      const box = featured.lastChild;
      box.textContent = "";
      for (const c of list) {
        const href = "#parley-c-" + c.id;
        box.append(h("div", { class: "parley-featured-comment", "data-id": String(c.id) },
          h("div", { class: "parley-meta" },
            h("a", { class: "parley-featured-number", href, text: "#" + c.number }),
            h("span", { class: "parley-author", text: authorName(c.author) })),
          setHTML(h("div", { class: "parley-body", dir: "auto" }), c.html),
          h("a", { class: "parley-goto", href, text: t("goto") })));
      }
      featured.hidden = !list.length;
    };

    const setCursor = (c) => {
      cursor = c || "";
      more.hidden = !cursor;
    };

    // setStatus shows a line under the thread: progress, or an error with a
    // "Try again" button; an empty message hides it.
    const setStatus = (msg, retry) => {
      status.textContent = "";
      if (retry) status.append(h("span", { class: "parley-error", text: msg }), " ", btn("parley-retry", t("retry"), { onclick: retry }));
      else status.append(msg || "");
      status.hidden = !msg;
    };
    const fail = (e, retry) => setStatus(e.message, retry);

    // unavailable is a thread that did not load. Readers get a calm line
    // (with "Try again" when waiting may help); the developer embedding the
    // widget gets, in the console, what went wrong and how to fix it.
    const unavailable = async (e, retry) => {
      const transient = e.status === 0 || e.status === 429 || e.status >= 500;
      setStatus(t(transient ? "unavailable_now" : "unavailable"), transient ? retry : null);
      let why = `loading the thread from ${base} failed: ${e.status ? `${e.status} ${e.server || e.message}` : "no answer"}.`;
      if (e.status === 404 && e.code === "not_found") {
        why = `${e.server}. data-site="${site}" on the script tag must be the id of a site on ${base} ("parley site list" shows them).`;
      } else if (e.status === 0) {
        const up = await api("GET", "/healthz", undefined, true).then(() => true, () => false);
        why = up
          ? `the comment server at ${base} does not allow this page's origin, ${location.origin}. ` +
            `Add it to the allowed origins of site "${site}" ("parley site set --id ${site} --origin …" replaces the list: ` +
            `give the origins already allowed, from "parley site list", and ${location.origin}).`
          : `the comment server at ${base} did not answer. Is it running, and is this its address (PARLEY_BASE_URL)?`;
      }
      console.error("Parley: comments are unavailable: " + why);
    };

    const threadPath = (cur, limit) => "/api/v1/threads?" + new URLSearchParams({
      site, url, sort, limit: String(limit), ...(cur ? { cursor: cur } : {}),
    });

    // reload fetches the thread from the start, keeping at least `keep`
    // top-level comments, and redraws it. It returns the ids shown before,
    // or null when it failed or was superseded.
    const reload = async (keep = 0, quietly = false) => {
      const mine = ++seq;
      if (!quietly) {
        setState("loading");
        setStatus(t("loading"));
      }
      let d;
      try {
        d = await getThread(Math.min(1000, Math.max(PAGE, keep)));
      } catch (e) {
        if (mine === seq) {
          setState("error");
          unavailable(e, () => reload(keep));
        }
        return null;
      }
      if (mine !== seq) return null;
      const before = new Set(byId.keys());
      byId.clear();
      els.clear();
      thread.textContent = "";
      applyMeta(d);
      add(d.comments || []);
      setCursor(d.cursor);
      setStatus("");
      setState("ready");
      if (!started) {
        // The first thread shown (perhaps after "Try again"): follow a
        // permalink, then listen for live updates.
        started = true;
        fromHash();
        stream();
      }
      return before;
    };

    const loadMore = async () => {
      if (!cursor) return;
      const mine = seq;
      more.disabled = true;
      more.textContent = t("loading_more");
      try {
        const d = await api("GET", threadPath(cursor, PAGE));
        if (mine !== seq) return;
        const n = byId.size;
        add(d.comments || []);
        setCursor(d.cursor);
        setStatus("");
        say(t("more_loaded", { n: byId.size - n }));
      } catch (e) {
        fail(e, loadMore);
      } finally {
        more.disabled = false;
        more.textContent = t("more");
      }
    };
    more.addEventListener("click", loadMore);

    sortSel.addEventListener("change", () => {
      sort = sortSel.value;
      reload().then((ok) => ok && say(t("sorted", { order: sortSel.selectedOptions[0].textContent })));
    });

    // jump scrolls to a comment inside the shadow root (the document cannot
    // resolve #parley-c-… there) and focuses it.
    const jump = (id, permalink) => {
      const el = els.get(String(id));
      if (!el) return false;
      el.scrollIntoView({ block: "center" });
      el.focus({ preventScroll: true });
      el.classList.remove("parley-flash");
      void el.offsetWidth; // restart the highlight animation
      el.classList.add("parley-flash");
      if (permalink) {
        try { history.replaceState(history.state, "", "#parley-c-" + id); } catch { /* sandboxed */ }
      }
      return true;
    };

    // reveal jumps to a comment, loading further pages when it is not here yet.
    const reveal = async (id, permalink) => {
      for (let i = 0; i < 20 && !els.has(String(id)) && cursor; i++) await loadMore();
      if (!jump(id, permalink)) say(t("not_available"));
    };

    const fromHash = () => {
      const m = /^#parley-c-(\w+)$/.exec(location.hash);
      if (m) reveal(m[1], false);
    };
    window.addEventListener("hashchange", fromHash);

    const message = (el, text) => {
      let p = el.firstChild.querySelector(".parley-msg");
      if (!p) el.firstChild.append((p = h("p", { class: "parley-msg" })));
      p.textContent = text;
      say(text);
    };

    // bump adjusts the header count after this reader's own change, unless
    // the stream has already reported the new count since `mark`.
    const bump = (delta, mark) => {
      if (counted !== mark) return;
      page.count = Math.max(0, (page.count || 0) + delta);
      header();
    };

    // insert shows a comment this reader has just posted: a reply under its
    // parent, a new comment at the top of the thread where they can see it.
    // mark is the page.count event tally when the post was sent.
    const insert = (c, parent, mark) => {
      const pel = parent ? els.get(String(parent.id)) : null;
      const el = article(c, pel ? +pel.dataset.depth + 1 : 0);
      if (pel) pel.lastChild.append(el);
      else thread.prepend(el);
      if (c.status === "approved") bump(1, mark);
      el.classList.add("parley-fresh");
      el.scrollIntoView({ block: "nearest" });
      el.focus({ preventScroll: true });
      return el;
    };

    // markRemoved turns a comment into the removed placeholder, or drops it
    // when it has no replies and the reader removed it themselves.
    // mark is as for bump; the stream's own removals pass null and leave the
    // count to its page.count event.
    const markRemoved = (id, drop, mark) => {
      const el = els.get(id);
      const c = byId.get(id);
      if (!el || !c || c.status === "deleted") return;
      if (c.status === "approved" && mark != null) bump(-1, mark);
      if (drop && !el.lastChild.firstChild) {
        el.remove();
        els.delete(id);
        byId.delete(id);
      } else {
        byId.set(id, { ...c, status: "deleted", featured: false });
        refill(el, byId.get(id));
      }
      showFeatured();
    };

    // ---- this reader's own text, for editing -------------------------
    // The thread carries rendered HTML only. The text a reader posted is
    // kept in localStorage for the edit window so that "Edit" starts from
    // their markdown; otherwise it starts from the rendered text.

    const ownTexts = () => {
      let all = {};
      try { all = JSON.parse(store.get("own") || "{}") || {}; } catch { /* corrupt: start again */ }
      const now = Date.now();
      for (const k of Object.keys(all)) if (!(now - all[k][0] < EDIT_MS + 60000)) delete all[k];
      return all;
    };
    const remember = (id, text) => {
      const all = ownTexts();
      all[id] = [Date.now(), text];
      store.set("own", JSON.stringify(all));
    };
    const ownText = (c) => {
      if (typeof c.text === "string") return c.text;
      const kept = ownTexts()[c.id];
      if (kept) return kept[1];
      const doc = document.implementation.createHTMLDocument(""); // inert: loads nothing
      const div = setHTML(doc.createElement("div"), c.html);
      return [...div.children].map((n) => n.textContent.trim()).join("\n\n") || div.textContent.trim();
    };

    // ---- forms --------------------------------------------------------

    // What a decision means to its author. Rules about the text can be met
    // by editing it; the others are about the reader or the site (a new
    // reader's comments are reviewed, they post too fast), where the text
    // is fine and "edit it" would be wrong advice. Each outcome has its own
    // message.
    const TEXT_RULES = ["banned_word", "suspect_word", "max_links", "max_length", "toxicity"];
    const outcome = (status, reasons) => {
      const rs = reasons || [];
      const has = (rule) => rs.some((r) => r.rule === rule);
      if (status === "rejected") {
        if (has("flood")) return { key: "flood", edit: false };
        if (has("duplicate")) return { key: "duplicate", edit: false };
        return { key: has("max_length") ? "too_long" : "refused", edit: true };
      }
      if (rs.some((r) => TEXT_RULES.includes(r.rule))) return { key: "held", edit: true };
      if (has("premod_new")) return { key: "held_new", edit: false };
      if (has("premod_all")) return { key: "held_all", edit: false };
      if (has("trust")) return { key: "held_trust", edit: false };
      return { key: "held", edit: false };
    };
    const heldMsg = (reasons) => t(outcome("pending", reasons).key);

    // explain tells an author which points of the site's policy their text
    // touches ("it attacks a group of people"), never which words tripped
    // a rule: that would teach an abuser what to disguise.
    const explain = (reasons) => {
      const out = [];
      for (const r of reasons || []) if (r.point && !out.includes(t("point_" + r.point))) out.push(t("point_" + r.point));
      return out.join("; ");
    };
    const cap = (s) => s && s[0].toUpperCase() + s.slice(1);

    // composer builds the comment form. o.parent: reply to it; o.quote: quote
    // it; o.edit: edit it; o.text: initial text; o.done: called when a reply
    // or edit form is finished or cancelled.
    const FORM_CLASS = {
      new: "parley-form parley-form-new",
      reply: "parley-form parley-form-reply",
      quote: "parley-form parley-form-quote",
      edit: "parley-form parley-form-edit",
    };
    function composer(o) {
      const kind = o.edit ? "edit" : o.quote ? "quote" : o.parent ? "reply" : "new";
      const f = h("form", { class: FORM_CLASS[kind], novalidate: true });
      f.mode = kind;
      const hintId = uid("hint");
      const countId = uid("count");
      if (o.quote) {
        f.append(h("div", { class: "parley-quoting" },
          h("p", { class: "parley-quoting-label", text: t("quoting", { n: o.quote.number }) }),
          quoteBlock(o.quote)));
      }
      let nameIn = null;
      if (kind === "new" && me) f.append(myData(me));
      if (kind === "new" && !ssoReader(me)) {
        const slot = h("div", { class: "parley-signin", hidden: true });
        f.append(slot);
        oidcProvider().then((p) => {
          if (!p) return;
          const msg = h("span", { class: "parley-error", role: "alert", hidden: true });
          const b = btn("parley-oidc", t("sso_oidc", { name: p.name || "" }), {
            onclick: () => oidcSignIn().catch((e) => show(msg, e.message)),
          });
          slot.append(b, msg);
          slot.hidden = false;
        });
      }
      if (!o.edit && !ssoReader(me)) {
        nameIn = h("input", {
          name: "name", type: "text", autocomplete: "nickname", required: true, dir: "auto",
          value: (me && me.name) || store.get("name") || "",
        });
        f.append(h("label", { class: "parley-field" }, h("span", { text: t("your_name") }), nameIn));
      }
      const dkey = draftKey(kind, o.edit || o.quote || o.parent);
      const kept = drafts.get(dkey);
      const ta = h("textarea", {
        name: "text", rows: o.parent || o.edit ? "3" : "4", required: true, dir: "auto",
        "aria-describedby": `${hintId} ${countId}`, value: kept || o.text || "",
      });
      f.ta = ta;
      const label = o.edit ? t("edit_label", { n: o.edit.number }) : o.parent ? t("reply_label", { n: o.parent.number }) : t("your_comment");
      f.append(h("label", { class: "parley-field" }, h("span", { text: label }), ta));
      const counter = h("span", { class: "parley-counter", id: countId });
      f.append(h("div", { class: "parley-form-foot" },
        h("span", { class: "parley-hint", id: hintId, text: t("hint") }),
        counter));
      const nudge = h("div", { class: "parley-nudge", role: "alert", hidden: true });
      const err = h("p", { class: "parley-error", role: "alert", hidden: true });
      const note = h("p", { class: "parley-notice", role: "status", hidden: true });
      const submit = h("button", { type: "submit", class: "parley-primary", text: o.edit ? t("save") : o.parent ? t("post_reply") : t("post") });
      const buttons = h("div", { class: "parley-buttons" }, submit);
      if (o.done) {
        buttons.append(btn("parley-cancel", t("cancel"), {
          onclick: () => {
            drafts.set(dkey, "");
            o.done(false);
          },
        }));
      }
      f.append(nudge, err, note, buttons);

      const len = () => [...ta.value].length;
      const count = () => {
        const n = len();
        counter.textContent = `${num(n)} / ${num(MAX_TEXT)}`;
        counter.classList.toggle("parley-over", n > MAX_TEXT);
      };
      count();
      ta.addEventListener("input", () => {
        drafts.set(dkey, ta.value.trim() ? ta.value : "");
        count();
        nudge.hidden = true;
        ta.removeAttribute("aria-invalid");
      });
      if (nameIn) nameIn.addEventListener("input", () => nameIn.removeAttribute("aria-invalid"));
      ta.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          send(false);
        } else if (e.key === "Escape" && o.done && !ta.value.trim()) {
          o.done(false); // an empty reply form closes; typed text is never lost to a key
        }
      });

      const invalid = (field, msg) => {
        field.setAttribute("aria-invalid", "true");
        show(err, msg);
        field.focus();
      };

      const nudgeFor = (pc, text) => {
        const why = explain(pc.reasons);
        const rejected = pc.status === "rejected";
        nudge.textContent = "";
        nudge.append(h("p", {
          text: rejected
            ? (why ? t("nudge_reject", { why }) : t("nudge_reject_plain"))
            : (why ? t("nudge_hold", { why }) : t("nudge_hold_plain")),
        }));
        const row = h("div", { class: "parley-buttons" }, btn("parley-nudge-edit", t("edit"), {
          onclick: () => {
            nudge.hidden = true;
            ta.focus();
          },
        }));
        if (!rejected) row.append(btn("parley-primary parley-nudge-post", o.edit ? t("save_anyway") : t("post_anyway"), { onclick: () => send(true) }));
        nudge.append(row);
        nudge.hidden = false;
      };

      const submits = keyed(); // this form's unanswered write (see keyed)

      const wait = (secs) => {
        submit.disabled = true;
        setTimeout(() => { submit.disabled = false; }, Math.min(secs, 300) * 1000);
      };

      const post = async (text, name) => {
        const mark = counted;
        const body = {
          site, url, title,
          parent: o.parent ? o.parent.id : null,
          quote: o.quote ? o.quote.id : null,
          text, name,
        };
        let r;
        try {
          r = await api("POST", "/api/v1/comments", body, false, submits.key(body));
        } catch (e) {
          submits.done(e);
          throw e;
        }
        submits.done();
        store.set("name", name);
        acted();
        const c = r.comment;
        if (c && o.quote) c.quote = quoteOf(c.quote, asQuote(o.quote));
        const st = r.status || (c && c.status);
        if (!c || st === "rejected") {
          const out = outcome("rejected", r.reasons);
          const why = out.edit ? explain(r.reasons) : "";
          show(err, t(c || r.reasons ? out.key : "not_published") + (why ? ` (${cap(why)}.)` : ""));
          return;
        }
        if (!me && c.author) me = { id: c.author.id, name: c.author.name };
        remember(c.id, text);
        ta.value = "";
        drafts.set(dkey, "");
        count();
        const el = insert(c, o.parent, mark);
        const held = st !== "approved" ? heldMsg(r.reasons) : "";
        if (o.done) o.done(true);
        if (held && o.parent) message(el, held);
        else if (held) show(note, held);
        say(held || t("published"));
      };

      const save = async (text) => {
        const id = String(o.edit.id);
        let r;
        try {
          r = await api("PATCH", "/api/v1/comments/" + encodeURIComponent(id), { text }, false, submits.key({ id, text }));
        } catch (e) {
          submits.done(e);
          throw e;
        }
        submits.done();
        const c = { ...o.edit, ...(r.comment || r) };
        c.quote = quoteOf(c.quote, o.edit.quote);
        const st = r.status || c.status;
        if (st === "rejected") {
          const out = outcome("rejected", r.reasons);
          const why = out.edit ? explain(r.reasons) : "";
          show(err, t(r.reasons ? out.key : "edit_refused") + (why ? ` (${cap(why)}.)` : ""));
          return;
        }
        remember(id, text);
        drafts.set(dkey, "");
        byId.set(id, c);
        o.done(true);
        const el = els.get(id);
        if (el) {
          fill(el, c);
          if (st !== "approved") message(el, heldMsg(r.reasons));
        }
      };

      const send = async (force) => {
        if (f.busy) return;
        show(err, "");
        show(note, "");
        nudge.hidden = true;
        const text = ta.value;
        const name = nameIn ? nameIn.value.trim() : "";
        if (nameIn && !name) return invalid(nameIn, t("need_name"));
        if (!text.trim()) return invalid(ta, t("need_text"));
        if (len() > MAX_TEXT) return invalid(ta, t("shorten", { n: len() - MAX_TEXT }));
        f.busy = true;
        submit.disabled = true;
        f.setAttribute("aria-busy", "true");
        let retry = 0;
        try {
          if (!force) {
            // The pre-check stores nothing; when it fails the comment is
            // simply posted and the server decides.
            const q = o.quote || (o.edit && o.edit.quote) || null;
            const pc = await api("POST", "/api/v1/comments/precheck", { site, url, text, quote: q ? q.id : null }).catch(() => null);
            const out = pc && (pc.status === "pending" || pc.status === "rejected") ? outcome(pc.status, pc.reasons) : null;
            // Only a problem with the text is worth a nudge. A comment
            // held because of who posts it is simply posted (the notice
            // then says why); one refused for posting too fast or twice
            // is not, and the text stays in the form.
            if (out && out.edit) return nudgeFor(pc, text);
            if (out && pc.status === "rejected") return show(err, t(out.key));
          }
          await (o.edit ? save(text) : post(text, name));
        } catch (e) {
          show(err, e.message);
          retry = e.retry || 0;
        } finally {
          f.busy = false;
          submit.disabled = false;
          f.removeAttribute("aria-busy");
          if (retry) wait(retry);
        }
      };
      f.addEventListener("submit", (e) => {
        e.preventDefault();
        send(false);
      });
      return f;
    }

    // openForm opens (or, pressed again, closes) the reply, quote or edit
    // form under a comment; switching between them keeps the typed text.
    const openForm = (el, c, kind, opener) => {
      const slot = el.children[1];
      const cur = slot.firstChild;
      const close = () => {
        slot.textContent = "";
        el.classList.remove("parley-editing");
        for (const b of el.firstChild.querySelectorAll("[aria-expanded]")) b.setAttribute("aria-expanded", "false");
      };
      if (cur && cur.mode === kind) {
        close();
        return;
      }
      const text = kind === "edit" ? ownText(c) : cur && cur.mode !== "edit" ? cur.ta.value : "";
      close();
      const f = composer({
        parent: kind === "edit" ? null : c,
        quote: kind === "quote" ? c : null,
        edit: kind === "edit" ? c : null,
        text,
        done: (ok) => {
          close();
          if (!ok && opener.isConnected) opener.focus();
        },
      });
      slot.append(f);
      el.classList.toggle("parley-editing", kind === "edit");
      if (kind !== "edit") opener.setAttribute("aria-expanded", "true");
      const name = f.querySelector("input[name=name]");
      (name && !name.value ? name : f.ta).focus();
    };

    const vote = async (el, c, dir, b) => {
      const id = String(c.id);
      const group = b.parentNode;
      const value = votes[id] === dir ? 0 : dir;
      for (const x of group.querySelectorAll("button")) x.disabled = true;
      try {
        const r = await api("POST", `/api/v1/comments/${encodeURIComponent(id)}/vote`, { value }, false, newKey());
        acted();
        votes[id] = r.value;
        c.score = r.score;
        group.querySelector(".parley-up").setAttribute("aria-pressed", String(r.value === 1));
        group.querySelector(".parley-down").setAttribute("aria-pressed", String(r.value === -1));
        group.querySelector(".parley-score").textContent = String(r.score);
        el._sig = sig(c);
      } catch (e) {
        message(el, e.message);
      } finally {
        for (const x of group.querySelectorAll("button")) x.disabled = false;
        b.focus();
      }
    };

    const confirmDelete = (el, c, b) => {
      const bar = b.parentNode;
      const box = h("div", { class: "parley-confirm", role: "group", "aria-label": t("confirm_label") },
        h("span", { text: isMine(c) ? t("delete_own") : t("delete_other", { n: c.number }) }));
      const no = btn("parley-cancel", t("cancel"), {
        onclick: () => {
          box.remove();
          bar.hidden = false;
          b.focus();
        },
      });
      const yes = btn("parley-danger parley-confirm-delete", t("delete"), {
        onclick: async () => {
          yes.disabled = true;
          const mark = counted;
          try {
            await api("DELETE", "/api/v1/comments/" + encodeURIComponent(c.id));
            say(t("deleted", { n: c.number }));
            markRemoved(String(c.id), true, mark);
            if (el.isConnected) el.focus();
          } catch (e) {
            box.remove();
            bar.hidden = false;
            message(el, e.message);
          }
        },
      });
      box.append(" ", yes, " ", no);
      bar.hidden = true;
      bar.after(box);
      yes.focus();
    };

    // ---- "Report abuse" dialog ---------------------------------------
    // A native modal <dialog> (focus stays inside, Esc closes, the page is
    // inert); where showModal is missing, a role=dialog box that traps Tab
    // and closes on Esc itself.

    let report = null;
    const reportDialog = () => {
      if (report) return report;
      const heading = h("h3", { id: "parley-report-title", class: "parley-dialog-title" });
      const radios = REASONS.map(([v, l]) => h("input", { type: "radio", name: "reason", value: v }));
      // No maxlength: it counts UTF-16 units and cuts pastes silently.
      const note = h("textarea", { name: "note", rows: "3", "aria-describedby": "parley-note-count" });
      const noteCount = h("span", { class: "parley-counter", id: "parley-note-count" });
      const err = h("p", { class: "parley-error", role: "alert", hidden: true });
      const sendBtn = h("button", { type: "submit", class: "parley-primary", text: t("send_report") });
      const form = h("form", { class: "parley-report-form", novalidate: true }, heading,
        h("fieldset", {}, h("legend", { text: t("what_wrong") }),
          radios.map((r, i) => h("label", { class: "parley-radio" }, r, " " + t(REASONS[i][1])))),
        h("label", { class: "parley-field" }, h("span", { text: t("note_label") }), note),
        noteCount, err,
        h("div", { class: "parley-buttons" }, btn("parley-cancel", t("cancel"), { onclick: () => close() }), sendBtn));
      const closeBtn = btn("parley-primary parley-close", t("close"), { onclick: () => close() });
      const thanks = h("div", { class: "parley-thanks", hidden: true },
        h("p", { role: "status", text: t("thanks") }),
        h("div", { class: "parley-buttons" }, closeBtn));
      const dlg = h("dialog", { class: "parley-report", "aria-labelledby": "parley-report-title" }, form, thanks);
      const native = typeof dlg.showModal === "function";
      if (!native) {
        dlg.setAttribute("role", "dialog");
        dlg.setAttribute("aria-modal", "true");
      }
      ui.append(dlg);

      let target = null;
      let opener = null;
      const restore = () => {
        const el = target && els.get(String(target.id));
        if (opener && opener.isConnected) opener.focus();
        else if (el) el.focus();
      };
      const close = () => {
        if (native) {
          if (dlg.open) dlg.close();
          return;
        }
        dlg.removeAttribute("open");
        dlg.classList.remove("parley-fallback");
        restore();
      };
      if (native) dlg.addEventListener("close", restore);
      const countNote = () => {
        const n = [...note.value.trim()].length;
        noteCount.textContent = `${num(n)} / ${num(MAX_NOTE)}`;
        noteCount.classList.toggle("parley-over", n > MAX_NOTE);
      };
      note.addEventListener("input", countNote);

      // A click on the backdrop closes the dialog; a drag that ends there does not.
      let downOut = false;
      dlg.addEventListener("mousedown", (e) => { downOut = e.target === dlg; });
      dlg.addEventListener("click", (e) => {
        if (downOut && e.target === dlg) close();
      });
      dlg.addEventListener("keydown", (e) => {
        if (native) return;
        if (e.key === "Escape") {
          e.preventDefault();
          close();
        } else if (e.key === "Tab") {
          const all = [...dlg.querySelectorAll("button, input, textarea")].filter((x) => !x.disabled && x.getClientRects().length);
          const first = all[0];
          const last = all[all.length - 1];
          const a = shadow.activeElement;
          const atFirst = a === first || (a && a.type === "radio" && first.type === "radio");
          if (e.shiftKey && atFirst) {
            e.preventDefault();
            last.focus();
          } else if (!e.shiftKey && a === last) {
            e.preventDefault();
            (radios.find((r) => r.checked) || first).focus();
          }
        }
      });

      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const r = radios.find((x) => x.checked);
        if (!r) {
          show(err, t("choose_reason"));
          radios[0].focus();
          return;
        }
        show(err, "");
        sendBtn.disabled = true;
        try {
          const id = String(target.id);
          await api("POST", `/api/v1/comments/${encodeURIComponent(id)}/report`, { reason: r.value, note: note.value.trim() }, false, newKey());
          acted();
          reported.add(id);
          if (opener && opener.isConnected) opener.textContent = t("reported");
          form.hidden = true;
          thanks.hidden = false;
          closeBtn.focus();
        } catch (x) {
          show(err, x.message);
        } finally {
          sendBtn.disabled = false;
        }
      });

      report = {
        open(c, b) {
          target = c;
          opener = b;
          heading.textContent = t("report_title", { n: c.number });
          form.reset();
          countNote();
          show(err, "");
          form.hidden = false;
          thanks.hidden = true;
          if (native) dlg.showModal();
          else {
            dlg.setAttribute("open", "");
            dlg.classList.add("parley-fallback");
          }
          radios[0].focus();
        },
      };
      return report;
    };

    // ---- clicks ---------------------------------------------------------

    ui.addEventListener("click", (e) => {
      const b = e.target.closest("a, button");
      if (!b) return;
      if (b.tagName === "A") {
        const href = b.getAttribute("href") || "";
        if (href.startsWith("#parley-c-")) {
          e.preventDefault();
          reveal(href.slice(10), true);
        }
        return;
      }
      const el = b.closest(".parley-comment");
      const c = el && byId.get(el.dataset.id);
      if (!c || !el.firstChild.contains(b)) return;
      const cl = b.classList;
      if (cl.contains("parley-up")) vote(el, c, 1, b);
      else if (cl.contains("parley-down")) vote(el, c, -1, b);
      else if (cl.contains("parley-reply-btn")) openForm(el, c, "reply", b);
      else if (cl.contains("parley-quote-btn")) openForm(el, c, "quote", b);
      else if (cl.contains("parley-edit-btn")) openForm(el, c, "edit", b);
      else if (cl.contains("parley-delete-btn")) confirmDelete(el, c, b);
      else if (cl.contains("parley-report-btn")) reportDialog().open(c, b);
    });

    // ---- live updates -------------------------------------------------
    // New comments never move the page: a button counts them and shows them
    // when pressed. Edits and score changes of comments on screen are
    // merged in place; removals become placeholders.

    const showNew = () => {
      const n = fresh.size;
      newBtn.textContent = t("new_btn", { n });
      if (n && newBtn.hidden) say(t("new_arrived"));
      newBtn.hidden = !n;
    };
    newBtn.addEventListener("click", async () => {
      const keep = thread.children.length + fresh.size;
      fresh.clear();
      showNew();
      const before = await reload(keep, true);
      if (!before) return;
      const added = [...els.keys()].filter((id) => !before.has(id));
      for (const id of added) els.get(id).classList.add("parley-fresh");
      if (!added.length || !jump(added[0], false)) thread.focus();
      say(added.length ? t("new_shown", { n: added.length }) : t("up_to_date"));
    });
    thread.setAttribute("tabindex", "-1");

    // merge refetches the thread quietly and updates the comments on screen
    // in place, without adding any (the new-comments button does that).
    let mergeTimer = 0;
    let mergedAt = 0;
    const merge = async () => {
      const mine = seq;
      let d;
      try {
        d = await getThread(Math.min(1000, Math.max(PAGE, thread.children.length)));
      } catch { return; }
      if (mine !== seq) return;
      applyMeta(d);
      const got = new Set();
      for (const c of d.comments || []) {
        const id = String(c.id);
        got.add(id);
        const el = els.get(id);
        if (!el) continue;
        byId.set(id, c);
        if (el._sig !== sig(c)) refill(el, c);
      }
      if (!d.cursor) {
        for (const [id, c] of byId) if (!got.has(id) && c.status === "approved") markRemoved(id, false);
      }
      showFeatured();
    };
    const scheduleMerge = () => {
      if (mergeTimer) return;
      mergeTimer = setTimeout(() => {
        mergeTimer = 0;
        mergedAt = Date.now();
        merge();
      }, Math.max(1500, mergedAt + 5000 - Date.now()));
    };

    const stream = () => {
      if (!window.EventSource) return;
      let es;
      try {
        es = new EventSource(base + "/api/v1/stream?" + new URLSearchParams({ site, url }), { withCredentials: true });
      } catch { return; }
      const on = (name, fn) => es.addEventListener(name, (ev) => {
        let d;
        try { d = JSON.parse(ev.data); } catch { return; }
        if (d) fn(d, String(d.comment_id || ""));
      });
      on("comment.created", (d, id) => {
        // Wait a moment: this reader's own comment arrives here before the
        // answer to their POST does.
        setTimeout(() => {
          const known = byId.get(id);
          if (known) {
            if (known.status !== "approved") scheduleMerge(); // e.g. their held comment was approved
          } else if (id && !seen.has(id)) {
            seen.add(id);
            fresh.add(id);
            showNew();
          }
        }, 1500);
      });
      on("comment.updated", (d, id) => {
        if (byId.has(id)) scheduleMerge();
      });
      on("comment.removed", (d, id) => {
        if (fresh.delete(id)) showNew();
        if (byId.has(id)) markRemoved(id, false);
      });
      // A moderator closed or reopened the page (or changed its policy):
      // the form follows. So it does when the whole site was closed or
      // reopened; every reader of the site hears that at once, so each
      // waits a random moment more, not to ask the server all together.
      on("page.updated", () => scheduleMerge());
      on("site.updated", () => setTimeout(scheduleMerge, Math.random() * 3000));
      on("page.count", (d) => {
        if (typeof d.page_count === "number") {
          counted++;
          page.count = d.page_count;
          header();
        }
      });
      // On an error EventSource reconnects by itself (with Last-Event-ID);
      // when it gives up, the thread simply stays as it is.
    };

    // Relative times age and edit windows close while the page is open.
    setInterval(() => {
      for (const el of ui.querySelectorAll("time.parley-time")) el.textContent = ago(new Date(el.getAttribute("datetime")));
      for (const b of ui.querySelectorAll(".parley-edit-btn")) if (Date.now() > +b.dataset.until) b.remove();
    }, 30000);

    ssoMount(() => { composeClosed = null; return reload(); }, reload);
  }

  const start = () => {
    const host = document.getElementById(cfg.target || "parley");
    if (!host) {
      console.warn(`Parley: no element with id "${cfg.target || "parley"}" to show comments in.`);
      return;
    }
    if (host.shadowRoot) return; // already mounted
    mount(host);
  };
  if (document.readyState === "loading" && !document.getElementById(cfg.target || "parley")) {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  } else {
    start();
  }
})();
