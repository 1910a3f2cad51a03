/*! Parley moderation. Plain JavaScript, no dependencies, no third-party requests. */
/*
 * The moderator UI served at /admin. It talks to the admin API
 * (docs/admin-api.md) on its own origin with the staff session cookie and
 * sends the CSRF token, kept in memory only, on every state-changing
 * request.
 *
 * Rules this file keeps: no inline handlers or style attributes (the page
 * runs under a strict Content-Security-Policy), and no HTML from strings:
 * every piece of comment text, name, note or server message enters the DOM
 * through textContent, and the evidence highlights are <mark> elements built
 * around text nodes.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const API = new URL("../api/v1/admin", script ? script.src : location.href).pathname;
  const PAGE = 50;
  const QUEUES = [
    ["pending", "Pending"],
    ["reported", "Reported"],
    ["unmoderated", "Unmoderated"],
    ["rejected", "Rejected"],
    ["approved", "Recently approved"],
  ];
  const LIVE_QUEUES = new Set(["pending", "reported"]);
  const REASONS = {
    abuse: "Abusive or insulting",
    hate: "Hateful towards a group",
    harassment: "Harassment of a person",
    threat: "Threat of violence",
    spam: "Spam or advertising",
    off_topic: "Off topic",
    other: "Something else",
  };
  const DURATIONS = { "24h": "24 hours", "72h": "3 days", "168h": "7 days", "720h": "30 days", permanent: "permanently" };

  // ---- helpers --------------------------------------------------------

  const $ = (id) => document.getElementById(id);

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
  const btn = (cls, label, onclick, props) => h("button", { type: "button", class: cls, text: label, onclick, ...props });
  const kbd = (k) => h("kbd", { text: k });
  const num = (n) => Number(n || 0).toLocaleString("en");
  const plural = (n, one, many) => `${num(n)} ${n === 1 ? one : many}`;
  const clear = (el) => {
    el.textContent = "";
    return el;
  };

  // Times: Go writes RFC 3339 with nanoseconds; the zero time means never.
  const when = (s) => {
    const d = s ? new Date(String(s).replace(/(\.\d{3})\d+/, "$1")) : null;
    return d && !isNaN(d) && d.getUTCFullYear() > 1 ? d : null;
  };
  const full = (d) => d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const ago = (d) => {
    const s = (Date.now() - d) / 1000;
    if (s < 45) return "just now";
    if (s < 3600) return plural(Math.max(1, Math.floor(s / 60)), "minute", "minutes") + " ago";
    if (s < 86400) return plural(Math.floor(s / 3600), "hour", "hours") + " ago";
    if (s < 7 * 86400) return plural(Math.floor(s / 86400), "day", "days") + " ago";
    return d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  };
  const timeEl = (s) => {
    const d = when(s);
    return d ? h("time", { datetime: d.toISOString(), title: full(d), text: ago(d) }) : null;
  };
  // banState describes a banned_until or suspended_until time: "" when it
  // is past, "banned" when it is decades away (a permanent ban).
  const banState = (until) => {
    const d = when(until);
    if (!d || d <= Date.now()) return "";
    if (d - Date.now() > 50 * 365 * 86400e3) return "Banned";
    return "Suspended until " + full(d);
  };

  // safeURL returns an http(s) URL for an href, or "" (never javascript:).
  const safeURL = (u) => {
    try {
      const url = new URL(u, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
    } catch {
      return "";
    }
  };

  // runs splits text into [part, rules] pairs: consecutive code points
  // covered by the same rules ("" for none, else rule ids joined by
  // spaces). Spans are code-point offsets into text, as the server counts
  // them, so the text is split with Array.from, never by UTF-16 index;
  // spans out of range are clipped. admin_test.go runs this function in
  // node.
  const runs = (text, reasons) => {
    const cps = Array.from(text || "");
    const rules = new Array(cps.length).fill("");
    for (const r of reasons || []) {
      for (const sp of r.spans || []) {
        const a = Math.max(0, sp.start | 0);
        const b = Math.min(cps.length, sp.end | 0);
        for (let i = a; i < b; i++) if (!rules[i].split(" ").includes(r.rule)) rules[i] = (rules[i] ? rules[i] + " " : "") + r.rule;
      }
    }
    const out = [];
    let i = 0;
    while (i < cps.length) {
      let j = i + 1;
      while (j < cps.length && rules[j] === rules[i]) j++;
      out.push([cps.slice(i, j).join(""), rules[i]]);
      i = j;
    }
    return out;
  };

  // highlight returns text as nodes, with the evidence of the reasons
  // wrapped in <mark> elements: text nodes only, never parsed as HTML.
  const highlight = (text, reasons) =>
    runs(text, reasons).map(([part, rule]) =>
      rule ? h("mark", { "data-rule": rule, title: rule.replace(/_/g, " "), text: part }) : part);

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // api calls the admin API and returns the decoded JSON, or throws an
  // APIError whose message can be shown. A state-changing request carries
  // the CSRF token; if the server refuses it (the session was renewed
  // elsewhere), the token is fetched again from /me and the request retried
  // once. A 401 ends the session in this page.
  const api = async (method, path, body, retried) => {
    const opt = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opt.headers["Content-Type"] = "application/json";
      opt.body = JSON.stringify(body);
    }
    if (method !== "GET" && S.csrf) opt.headers["X-CSRF-Token"] = S.csrf;
    let res;
    try {
      res = await fetch(API + path, opt);
    } catch {
      throw new APIError(0, "network", "Could not reach the server. Check the connection and try again.");
    }
    let data = null;
    try { data = await res.json(); } catch { /* empty or not JSON */ }
    if (res.ok) return data || {};
    const e = (data && data.error) || {};
    const msg = e.message || `The server answered ${res.status}.`;
    if (res.status === 403 && /csrf/i.test(msg) && !retried && path !== "/login") {
      const me = await api("GET", "/me").catch(() => null);
      if (me && me.csrf) {
        S.csrf = me.csrf;
        return api(method, path, body, true);
      }
    }
    if (res.status === 401 && path !== "/login" && path !== "/me" && S.me) signedOut("Your session has ended. Please sign in again.");
    throw new APIError(res.status, e.code || "", msg);
  };
  const q = (params) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v != null && v !== "") p.set(k, v);
    return p.toString();
  };

  // ---- state ----------------------------------------------------------

  const S = {
    me: null, // {id, name, role, site}
    csrf: "", // in memory only: a reload asks /me again
    sites: [],
    site: "",
    view: "queue", // or "pages" or "settings"
    queue: "pending",
    filter: { page: null, author: null }, // {id, label}
    items: [], // the queue as shown, in order
    sel: -1, // index of the selected item
    ticked: new Set(), // ids ticked for a bulk action
    fresh: new Map(), // id → item announced live, not shown yet
    counts: {},
    more: false,
    seq: 0, // bumped by every queue load; stale answers are dropped
    panel: null, // {kind: "user"|"audit", id}
    policy: null, // the policy as loaded
    pages: [], // the pages view's list, newest activity first
    pagesCursor: "", // continues the list; "" at its end
    pagesQ: "", // the pages view's search
    pagesSeq: 0, // bumped by every pages load; stale answers are dropped
    es: null,
  };
  const els = new Map(); // comment id → <li>

  const ui = {
    app: $("app"),
    signin: $("signin"),
    signinForm: $("signin-form"),
    shell: $("shell"),
    site: $("site"),
    who: $("who"),
    live: $("live"),
    tabs: $("tabs"),
    filters: $("filters"),
    newBar: $("new-bar"),
    bulkBar: $("bulk-bar"),
    bulkCount: $("bulk-count"),
    list: $("queue"),
    empty: $("empty"),
    more: $("more"),
    panel: $("panel"),
    panelH: $("panel-h"),
    panelBody: $("panel-body"),
    queueView: $("queue-view"),
    settingsView: $("settings-view"),
    pagesView: $("pages-view"),
    webhooksView: $("webhooks-view"),
    webhookForm: $("webhook-form"),
    webhookSecret: $("webhook-secret"),
    webhooksList: $("webhooks-list"),
    webhooksEmpty: $("webhooks-empty"),
    pagesSearch: $("pages-search"),
    pagesList: $("pages-list"),
    pagesEmpty: $("pages-empty"),
    pagesMore: $("pages-more"),
    policyForm: $("policy-form"),
    toasts: $("toasts"),
    help: $("help"),
    ban: $("ban"),
    note: $("note"),
    confirm: $("confirm"),
  };

  // ---- toasts -----------------------------------------------------------

  const toast = (msg, error) => {
    const t = h("div", { class: "toast" + (error ? " toast-error" : ""), role: error ? "alert" : null, text: msg });
    ui.toasts.append(t);
    while (ui.toasts.children.length > 4) ui.toasts.firstChild.remove();
    setTimeout(() => t.remove(), error ? 7000 : 3500);
  };
  const fail = (e) => toast(e && e.message ? e.message : String(e), true);

  // ---- dialogs ------------------------------------------------------------

  // ask opens a dialog whose form has method=dialog and resolves with the
  // form's values when it is closed with the "ok" button, or null.
  const ask = (dialog, setup) =>
    new Promise((resolve) => {
      const form = dialog.querySelector("form");
      form.reset();
      if (setup) setup(form);
      const done = () => {
        dialog.removeEventListener("close", done);
        resolve(dialog.returnValue === "ok" ? new FormData(form) : null);
      };
      dialog.returnValue = "";
      dialog.addEventListener("close", done);
      dialog.showModal();
    });

  // confirmAction asks to confirm a sanction or bulk action, optionally
  // with a duration, and resolves with {duration, note} or null.
  const confirmAction = async (title, text, okLabel, withDuration) => {
    const fd = await ask(ui.confirm, (form) => {
      $("confirm-h").textContent = title;
      $("confirm-text").textContent = text;
      $("confirm-ok").textContent = okLabel;
      $("confirm-duration").hidden = !withDuration;
    });
    return fd && { duration: String(fd.get("duration") || ""), note: String(fd.get("note") || "").trim() };
  };

  // ---- sign in and out ----------------------------------------------------

  const showState = (state) => {
    ui.app.dataset.state = state;
    document.querySelector(".boot").hidden = state !== "loading";
    ui.signin.hidden = state !== "signin";
    if (state === "signin") showOIDC();
    ui.shell.hidden = state !== "ready";
  };

  const formError = (form, msg) => {
    const p = form.querySelector(".form-error");
    p.textContent = msg || "";
    p.hidden = !msg;
  };

  const signedOut = (msg) => {
    stopStream();
    S.me = null;
    S.csrf = "";
    S.items = [];
    els.clear();
    clear(ui.list);
    closePanel();
    showState("signin");
    formError(ui.signinForm, msg || "");
    ui.signinForm.elements.email.focus();
  };

  // Sites whose moderators sign in with the site's OpenID provider: a
  // link each, to a sign-in that ends back here, signed in.
  const AUTH = API.replace(/\/admin$/, ""); // the API root, under any path prefix
  let oidcShown = false;
  const showOIDC = async () => {
    if (oidcShown) return;
    oidcShown = true;
    let d;
    try {
      d = await api("GET", "/oidc");
    } catch {
      return;
    }
    const nav = $("signin-oidc");
    for (const p of d.providers || []) {
      const a = document.createElement("a");
      a.className = "button";
      a.href = AUTH + p.start.replace(/^\/api\/v1/, "");
      a.textContent = `Sign in with ${p.name} (${p.site})`;
      nav.append(a);
    }
    nav.hidden = !nav.childElementCount;
  };

  ui.signinForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = ui.signinForm;
    const email = f.elements.email.value.trim();
    const password = f.elements.password.value;
    if (!email || !password) {
      formError(f, "Enter your email address and password.");
      return;
    }
    const b = f.querySelector("button[type=submit]");
    b.disabled = true;
    formError(f, "");
    try {
      const d = await api("POST", "/login", { email, password });
      f.elements.password.value = "";
      await start(d);
    } catch (err) {
      formError(f, err.status === 401 ? "That email address and password do not match an account." : err.message);
      f.elements.password.select();
    } finally {
      b.disabled = false;
    }
  });

  $("signout").addEventListener("click", async () => {
    try {
      await api("POST", "/logout");
    } catch (e) {
      if (e.status !== 401) return fail(e);
    }
    signedOut("You have signed out.");
  });

  // ---- start --------------------------------------------------------------

  const readHash = () => {
    const p = new URLSearchParams(location.hash.slice(1));
    return {
      site: p.get("site") || "",
      view: ["settings", "pages", "webhooks", "stats"].includes(p.get("view")) ? p.get("view") : "queue",
      queue: QUEUES.some(([k]) => k === p.get("queue")) ? p.get("queue") : "pending",
      page: p.get("page") || "",
      author: p.get("author") || "",
      q: p.get("q") || "",
    };
  };
  const writeHash = () => {
    const s = q({
      site: S.site,
      view: S.view !== "queue" ? S.view : "",
      queue: S.view === "queue" && S.queue !== "pending" ? S.queue : "",
      page: S.filter.page && S.filter.page.id,
      author: S.filter.author && S.filter.author.id,
      q: S.view === "pages" ? S.pagesQ : "",
    });
    history.replaceState(null, "", s ? "#" + s : location.pathname + location.search);
  };

  // E-mail alerts: whether the server sends e-mail at all (--smtp-url),
  // and this moderator's settings when it does.
  const mailState = async () => {
    const box = $("mail-state");
    if (!box) return;
    let m;
    try { m = await api("GET", "/me/mail"); } catch { return; }
    clear(box);
    if (!m.enabled) {
      box.append(h("p", { class: "mail-off", text: "E-mail is off on this server: no reply notifications, sign-in links or moderator alerts are sent. Start Parley with --smtp-url and --mail-from to send them." }));
      return;
    }
    if (!m.email) {
      box.append(h("p", { text: "E-mail is on. Alerts go to moderators' account addresses; the admin token has none." }));
      return;
    }
    const check = (name, label, checked) => {
      const input = h("input", { type: "checkbox", name, checked });
      input.addEventListener("change", async () => {
        try {
          await api("PATCH", "/me/mail", { [name]: input.checked });
          toast("E-mail settings saved");
        } catch (e) {
          input.checked = !input.checked;
          toast(e.message);
        }
      });
      return h("label", {}, input, " " + label);
    };
    box.append(h("p", { text: `Moderator alerts go to ${m.email}.` }),
      check("alerts", "Alert me (reports over the threshold, a long or old queue, a suspected brigade)", m.alerts),
      check("digest", "Gather alerts into one message a day", m.digest));
  };

  const start = async (d) => {
    S.me = d.user;
    S.csrf = d.csrf || "";
    const me = S.me || {};
    ui.who.textContent = `${me.name || "Moderator"} · ${me.role || ""}${me.site ? " of " + me.site : ""}`;
    mailState();
    const sites = await api("GET", "/sites");
    S.sites = sites.sites || [];
    clear(ui.site).append(...S.sites.map((s) => h("option", { value: s.id, text: s.name && s.name !== s.id ? `${s.name} (${s.id})` : s.id })));
    showState("ready");
    if (!S.sites.length) {
      ui.empty.textContent = "Your account does not moderate any site yet.";
      ui.empty.hidden = false;
      return;
    }
    const want = readHash();
    S.site = S.sites.some((s) => s.id === want.site) ? want.site : S.sites[0].id;
    ui.site.value = S.site;
    S.queue = want.queue;
    S.filter.page = want.page ? { id: want.page, label: "page " + want.page } : null;
    S.filter.author = want.author ? { id: want.author, label: "reader " + want.author } : null;
    renderTabs();
    S.pagesQ = want.q;
    ui.pagesSearch.elements.q.value = want.q;
    if (want.view !== "settings") loadPolicy();
    setView(want.view);
    startStream();
  };

  ui.site.addEventListener("change", () => {
    S.site = ui.site.value;
    S.filter = { page: null, author: null };
    S.policy = null;
    delete ui.policyForm.dataset.dirty;
    closePanel();
    startStream();
    loadPolicy();
    if (S.view === "queue") loadQueue();
    if (S.view === "pages") loadPages();
    if (S.view === "webhooks") loadWebhooks();
    if (S.view === "stats") loadStats();
    loadCounts();
  });

  // ---- views ----------------------------------------------------------------

  const setView = (v) => {
    S.view = v;
    ui.queueView.hidden = v !== "queue";
    ui.settingsView.hidden = v !== "settings";
    ui.pagesView.hidden = v !== "pages";
    ui.webhooksView.hidden = v !== "webhooks";
    $("stats-view").hidden = v !== "stats";
    for (const b of document.querySelectorAll(".view-btn")) b.setAttribute("aria-pressed", String(b.dataset.view === v));
    writeHash();
    if (v === "settings") {
      if (!S.policy || ui.policyForm.dataset.site !== S.site) loadPolicy();
    } else if (v === "pages") {
      loadPages();
    } else if (v === "webhooks") {
      loadWebhooks();
    } else if (v === "stats") {
      loadStats();
    } else {
      loadQueue();
      loadCounts();
    }
  };
  for (const b of document.querySelectorAll(".view-btn")) b.addEventListener("click", () => setView(b.dataset.view));

  // ---- webhooks ------------------------------------------------------------

  const hookPath = (id, rest) => `/sites/${encodeURIComponent(S.site)}/webhooks${id ? "/" + id : ""}${rest || ""}`;

  // A failed delivery was given up (its attempts or its 24 hours ran out):
  // a dead letter, which a site admin may queue again.
  const deliveryRow = (hook, box) => (d) => h("tr", {},
    h("td", { text: d.event }),
    h("td", { text: d.state === "failed" ? "failed (given up)" : d.state }),
    h("td", { text: d.status ? String(d.status) : "–" }),
    h("td", { text: `${Number(d.latency_ms || 0).toFixed(1)} ms` }),
    h("td", { text: String(d.attempts) }),
    h("td", {}, h("time", { datetime: d.created, text: ago(new Date(d.created)) })),
    h("td", { class: "muted", text: d.error || "" }),
    h("td", {}, d.state !== "failed" ? "" : h("button", { type: "button", class: "retry", onclick: async () => {
      try {
        await api("POST", hookPath(hook.id, `/deliveries/${d.id}/retry`));
        toast("Delivery queued again.");
        setTimeout(() => showDeliveries(hook, box), 1500);
      } catch (e) { toast(e.message, true); }
    } }, "Retry")));

  const showDeliveries = async (hook, box) => {
    const seq = (box.dataset.seq = String(Number(box.dataset.seq || 0) + 1));
    try {
      const r = await api("GET", hookPath(hook.id, "/deliveries?limit=20"));
      if (box.dataset.seq !== seq) return;
      const ds = r.deliveries || [];
      clear(box).append(ds.length ? h("table", { class: "deliveries" },
        h("caption", { text: `Latest deliveries to ${hook.url}` }),
        h("thead", {}, h("tr", {}, ...["Event", "State", "Status", "Latency", "Attempts", "Queued", "Error", "Action"].map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, ...ds.map(deliveryRow(hook, box)))) : h("p", { class: "muted", text: "No deliveries yet." }));
    } catch (e) {
      toast(e.message, true);
    }
  };

  const webhookItem = (hook) => {
    const log = h("div", { class: "delivery-log" });
    const li = h("li", { class: "webhook" },
      h("p", {}, h("strong", { text: hook.url })),
      h("p", { class: "muted", text: `${hook.events.length ? hook.events.join(", ") : "all events"} · ${hook.format} · secret ${hook.secret_hint}` }),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: async () => {
          try {
            await api("POST", hookPath(hook.id, "/test"));
            toast("Test event queued.");
            setTimeout(() => showDeliveries(hook, log), 1500);
          } catch (e) { toast(e.message, true); }
        } }, "Send test event"),
        h("button", { type: "button", onclick: () => showDeliveries(hook, log) }, "Delivery log"),
        h("button", { type: "button", class: "reject", onclick: async () => {
          if (!(await confirmAction("Delete endpoint", `Delete ${hook.url} and its delivery log? Its undelivered events are dropped.`, "Delete", false))) return;
          try {
            await api("DELETE", hookPath(hook.id));
            loadWebhooks();
          } catch (e) { toast(e.message, true); }
        } }, "Delete")),
      log);
    return li;
  };

  const loadWebhooks = async () => {
    if (!S.site) return;
    try {
      const r = await api("GET", hookPath());
      const hooks = r.webhooks || [];
      clear(ui.webhooksList).append(...hooks.map(webhookItem));
      ui.webhooksEmpty.textContent = "This site has no webhooks yet.";
      ui.webhooksEmpty.hidden = hooks.length > 0;
    } catch (e) {
      ui.webhooksEmpty.textContent = e.message;
      ui.webhooksEmpty.hidden = false;
      clear(ui.webhooksList);
    }
  };

  ui.webhookForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = ui.webhookForm.elements;
    const events = [...ui.webhookForm.querySelectorAll('input[name="events"]:checked')].map((i) => i.value);
    try {
      const hook = await api("POST", hookPath(), { url: f.url.value.trim(), events, format: f.format.value });
      ui.webhookSecret.textContent = `Added. Its signing secret, shown once: ${hook.secret}`;
      ui.webhookSecret.hidden = false;
      ui.webhookForm.reset();
      loadWebhooks();
    } catch (err) {
      toast(err.message, true);
    }
  });

  // ---- tabs and counts ----------------------------------------------------

  const renderTabs = () => {
    clear(ui.tabs);
    QUEUES.forEach(([key, label], i) => {
      const n = S.counts[key];
      ui.tabs.append(h("button", {
        type: "button", role: "tab", class: "tab", "data-queue": key,
        "aria-selected": String(key === S.queue), tabindex: key === S.queue ? "0" : "-1",
        title: `${label} (${i + 1})`, onclick: () => setQueue(key),
      }, label, " ", h("span", { class: "count", text: n == null ? "" : num(n) })));
    });
  };

  const loadCounts = async () => {
    if (!S.site) return;
    try {
      const d = await api("GET", "/counts?" + q({ site: S.site }));
      S.counts = d.counts || {};
      renderTabs();
      const p = S.counts.pending || 0;
      document.title = (p ? `(${num(p)}) ` : "") + "Parley moderation";
    } catch (e) {
      if (e.status !== 401) fail(e);
    }
  };

  const setQueue = (key) => {
    if (key === S.queue) return;
    S.queue = key;
    renderTabs();
    writeHash();
    loadQueue();
  };

  const renderFilters = () => {
    clear(ui.filters);
    const chip = (kind, label, f) =>
      h("span", { class: "chip" }, `${kind}: `, h("b", { text: f.label }),
        btn("chip-x", "×", () => {
          S.filter[label] = null;
          writeHash();
          loadQueue();
        }, { "aria-label": `Stop filtering by ${kind.toLowerCase()}` }));
    if (S.filter.page) ui.filters.append(chip("Page", "page", S.filter.page));
    if (S.filter.author) ui.filters.append(chip("Reader", "author", S.filter.author));
    if (S.filter.text) ui.filters.append(chip("Text", "text", S.filter.text));
    ui.filters.hidden = !ui.filters.firstChild;
  };

  const filterBy = (kind, id, label) => {
    S.filter[kind] = { id: String(id), label };
    writeHash();
    loadQueue();
  };

  // ---- the queue -------------------------------------------------------------

  // With a text filter the list is a search of every status but deleted
  // (the tab does not apply); page and reader filters narrow it.
  const queuePath = (offset) => S.filter.text
    ? "/search?" + q({
      site: S.site, text: S.filter.text.id, page: S.filter.page && S.filter.page.id,
      author: S.filter.author && S.filter.author.id, limit: PAGE, offset,
    })
    : "/queue?" + q({
      site: S.site, status: S.queue, page: S.filter.page && S.filter.page.id,
      author: S.filter.author && S.filter.author.id, limit: PAGE, offset,
    });

  const loadQueue = async () => {
    if (!S.site) return;
    const seq = ++S.seq;
    renderFilters();
    S.fresh.clear();
    renderNewBar();
    ui.list.setAttribute("aria-busy", "true");
    try {
      const d = await api("GET", queuePath(0));
      if (seq !== S.seq) return;
      const keep = S.items[S.sel] && S.items[S.sel].id;
      S.items = d.comments || [];
      S.more = S.items.length === PAGE;
      S.ticked = new Set([...S.ticked].filter((id) => S.items.some((c) => c.id === id)));
      labelFilters();
      renderList();
      const i = S.items.findIndex((c) => c.id === keep);
      select(i >= 0 ? i : S.items.length ? 0 : -1, idle());
    } catch (e) {
      if (seq === S.seq && e.status !== 401) fail(e);
    } finally {
      if (seq === S.seq) ui.list.removeAttribute("aria-busy");
    }
  };

  // labelFilters names the filters restored from the address by the items.
  const labelFilters = () => {
    const f = S.filter;
    const c = S.items[0];
    if (!c) return;
    if (f.page && c.page && String(c.page.id) === f.page.id) f.page.label = c.page.title || c.page.url;
    if (f.author && c.author && String(c.author.id) === f.author.id) f.author.label = c.author.name || "Anonymous";
    renderFilters();
  };

  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = e.target.elements.text.value.trim();
    S.filter.text = text ? { id: text, label: text } : null;
    loadQueue();
  });

  ui.more.addEventListener("click", async () => {
    const seq = S.seq;
    ui.more.disabled = true;
    try {
      const d = await api("GET", queuePath(S.items.length));
      if (seq !== S.seq) return;
      const add = (d.comments || []).filter((c) => !els.has(c.id));
      S.items.push(...add);
      for (const c of add) ui.list.append(itemEl(c));
      S.more = (d.comments || []).length === PAGE;
      renderEmpty();
    } catch (e) {
      fail(e);
    } finally {
      ui.more.disabled = false;
    }
  });

  const renderEmpty = () => {
    const label = (QUEUES.find(([k]) => k === S.queue) || [])[1] || S.queue;
    const filtered = S.filter.page || S.filter.author || S.filter.text;
    ui.empty.textContent = filtered ? `Nothing in ${label} for this filter.` : `Nothing in ${label}.${LIVE_QUEUES.has(S.queue) ? " New comments will appear here." : ""}`;
    ui.empty.hidden = S.items.length > 0;
    ui.more.hidden = !S.more;
    ui.bulkBar.hidden = S.ticked.size === 0;
    ui.bulkCount.textContent = `${plural(S.ticked.size, "comment", "comments")} selected`;
  };

  const renderList = () => {
    els.clear();
    clear(ui.list).append(...S.items.map(itemEl));
    renderEmpty();
  };

  // itemEl builds one queue item.
  const itemEl = (c) => {
    const a = c.author || {};
    const page = c.page || {};
    const href = safeURL(page.url);
    const reasons = c.reasons || [];
    const reports = c.reports || [];
    const tick = h("input", { type: "checkbox", class: "tick", "aria-label": "Select for a bulk action", tabindex: "-1" });
    tick.checked = S.ticked.has(c.id);
    tick.addEventListener("change", () => setTicked(c.id, tick.checked));

    const record = h("span", { class: "record" }, `${num(a.approved)} approved · ${num(a.rejected)} rejected`);
    const ban = banState(a.banned_until) || banState(a.suspended_until);
    if (ban) record.append(" ", h("span", { class: "badge badge-ban", text: ban }));
    if (a.premoderated) record.append(" ", h("span", { class: "badge badge-premod", text: "Pre-moderated" }));

    const head = h("div", { class: "item-head" },
      tick,
      h("span", { class: "num", text: c.number ? "#" + c.number : "" }),
      a.id
        ? btn("link author", a.name || "Anonymous", () => filterBy("author", a.id, a.name || "Anonymous"), { title: "Show only this reader's comments" })
        : h("span", { class: "author", text: a.name || "Anonymous" }),
      record,
      a.id ? btn("link reader-btn", "Reader panel", () => openUser(a.id), { title: "The reader's history, notes and sanctions (u)" }) : null,
      h("span", { class: "on", text: "on" }),
      href ? h("a", { class: "page-link", href, target: "_blank", rel: "noopener noreferrer", text: page.title || page.url }) : h("span", { text: page.title || "" }),
      page.id ? btn("link page-filter", "only this page", () => filterBy("page", page.id, page.title || page.url), { title: "Show only this page's comments" }) : null,
      h("span", { class: "spacer" }),
      c.status ? h("span", { class: "badge status status-" + c.status, text: c.status }) : null,
      c.featured ? h("span", { class: "badge badge-featured", text: "Featured" }) : null,
      timeEl(c.created));

    const parent = c.parent
      ? h("blockquote", { class: "parent" },
        h("span", { class: "parent-head", text: `In reply to #${c.parent.number || "?"}${c.parent.author ? " by " + c.parent.author : ""}` }),
        h("span", { class: "parent-text", text: c.parent.excerpt || "" }))
      : null;

    const brigade = c.brigade && c.brigade.suspected
      ? h("p", { class: "brigade", role: "note" }, h("strong", { text: "Possible brigade. " }), c.brigade.message || "A burst of reports from readers with no history.")
      : null;

    const text = h("p", { class: "text" }, highlight(c.text || "", reasons));

    const why = reasons.length
      ? h("ul", { class: "reasons", "aria-label": "Why it is here" },
        reasons.map((r) => h("li", null, h("code", { class: "rule", text: r.rule || "" }), " ", r.message || "",
          // A reason that points to a reader (the banned reader this one
          // resembles) opens their panel.
          r.user ? [" ", btn("link banned-link", "Open the banned reader", () => openUser(r.user), { title: "The banned reader's history, notes and sanctions" })] : null)))
      : null;

    const facts = [];
    if (c.toxicity > 0) {
      // Coloured against the site's hold threshold, when the policy is known.
      const hold = (S.policy && S.policy.toxicity_hold) || 0.8;
      const level = c.toxicity >= hold ? " tox-high" : c.toxicity >= hold * 0.75 ? " tox-mid" : "";
      facts.push(h("span", { class: "tox" + level, title: `The site holds comments scoring ${hold} or more` }, "toxicity ", h("b", { text: c.toxicity.toFixed(2) })));
    }
    if (reports.length) facts.push(h("span", { text: `${plural(reports.length, "report", "reports")} from ${plural(c.reporters || 0, "reader", "readers")}, weight ${Number(c.report_weight || 0).toFixed(1)}` }));
    if (c.priority != null) facts.push(h("span", { class: "muted", text: `priority ${Number(c.priority).toFixed(2)}` }));

    const reportList = reports.length
      ? h("ul", { class: "reports", "aria-label": "Reports" },
        reports.map((r) => h("li", null,
          h("b", { text: REASONS[r.reason] || r.reason || "report" }),
          r.note ? h("q", { text: r.note }) : null,
          h("span", { class: "muted", text: `weight ${Number(r.weight == null ? 1 : r.weight).toFixed(1)}` }),
          r.reporter ? btn("link", "reporter", () => openUser(r.reporter), { title: "Open the reporter's panel" }) : null,
          timeEl(r.created))))
      : null;

    const actions = h("div", { class: "actions" },
      btn("approve", "Approve", () => decide(c.id, "approve"), { "aria-keyshortcuts": "a" }),
      btn("reject", "Reject", () => decide(c.id, "reject"), { "aria-keyshortcuts": "r" }),
      btn("feature", c.featured ? "Unfeature" : "Feature", () => feature(c.id), { "aria-keyshortcuts": "f" }),
      a.id ? btn("danger ban-btn", "Ban…", () => banAuthor(c), { "aria-keyshortcuts": "b" }) : null,
      a.id ? btn("note-btn", "Note…", () => noteOn(a.id, a.name), { "aria-keyshortcuts": "n" }) : null,
      btn("audit-btn", "Audit", () => openAudit(c.id), { "aria-keyshortcuts": "t" }));

    const li = h("li", { class: "item" + (S.ticked.has(c.id) ? " ticked" : ""), "data-id": String(c.id), "data-status": c.status || "", tabindex: "-1" },
      head, parent, brigade, text, why, facts.length ? h("p", { class: "facts" }, facts) : null, reportList, actions);
    li.addEventListener("click", (e) => {
      const i = S.items.findIndex((x) => x.id === c.id);
      if (i >= 0 && i !== S.sel) select(i, !e.target.closest("button, a, input"));
    });
    els.set(c.id, li);
    return li;
  };

  const select = (i, focus = true) => {
    const old = S.items[S.sel] && els.get(S.items[S.sel].id);
    if (old) {
      old.removeAttribute("aria-current");
      old.tabIndex = -1;
    }
    S.sel = i;
    const c = S.items[i];
    const li = c && els.get(c.id);
    if (!li) return;
    li.setAttribute("aria-current", "true");
    li.tabIndex = 0;
    if (focus) {
      li.focus({ preventScroll: true });
      li.scrollIntoView({ block: "nearest" });
    }
    if (S.panel && S.panel.kind === "audit" && S.panel.id !== c.id && focus) openAudit(c.id);
  };
  const current = () => S.items[S.sel] || null;
  // idle reports whether the keyboard focus is nowhere in particular (the
  // page, or an element that was hidden, such as the sign-in button), so
  // that the selected item may take it.
  const idle = () => {
    const el = document.activeElement;
    return !el || el === document.body || !el.isConnected || el.getClientRects().length === 0;
  };

  // removeItems takes decided comments out of the list and keeps the
  // selection on the item that took the place of the selected one.
  const removeItems = (ids) => {
    const gone = new Set(ids);
    const selId = current() && current().id;
    let at = S.sel;
    const keep = [];
    S.items.forEach((c, i) => {
      if (!gone.has(c.id)) keep.push(c);
      else {
        if (i < S.sel) at--;
        const li = els.get(c.id);
        if (li) li.remove();
        els.delete(c.id);
        S.ticked.delete(c.id);
      }
    });
    S.items = keep;
    const stay = keep.findIndex((c) => c.id === selId);
    select(stay >= 0 ? stay : Math.min(Math.max(at, 0), keep.length - 1), true);
    renderEmpty();
  };

  const replaceItem = (c) => {
    const i = S.items.findIndex((x) => x.id === c.id);
    if (i < 0) return;
    S.items[i] = c;
    const old = els.get(c.id);
    const li = itemEl(c);
    if (old) old.replaceWith(li);
    if (i === S.sel) select(i, document.activeElement === old || document.activeElement === document.body);
  };

  const setTicked = (id, on) => {
    if (on) S.ticked.add(id);
    else S.ticked.delete(id);
    const li = els.get(id);
    if (li) {
      li.classList.toggle("ticked", on);
      li.querySelector(".tick").checked = on;
    }
    renderEmpty();
  };

  // ---- decisions ------------------------------------------------------------

  const who = (c) => `#${c.number || c.id}${c.author && c.author.name ? " by " + c.author.name : ""}`;
  const stays = (action) => (action === "approve" && S.queue === "approved") || (action === "reject" && S.queue === "rejected");
  const busy = new Set(); // ids with a decision in flight

  const decide = async (id, action) => {
    const c = S.items.find((x) => x.id === id);
    if (!c || busy.has(id)) return;
    busy.add(id);
    const li = els.get(id);
    if (li) li.classList.add("busy");
    try {
      const d = await api("POST", `/comments/${id}/decision`, { action });
      toast(`${action === "approve" ? "Approved" : "Rejected"} ${who(c)}`);
      if (stays(action)) replaceItem({ ...c, ...(d.comment || {}), text: c.text });
      else removeItems([id]);
      loadCounts();
    } catch (e) {
      fail(e);
    } finally {
      busy.delete(id);
      if (li) li.classList.remove("busy");
    }
  };

  const feature = async (id) => {
    const c = S.items.find((x) => x.id === id);
    if (!c) return;
    const action = c.featured ? "unfeature" : "feature";
    try {
      const d = await api("POST", `/comments/${id}/decision`, { action });
      const nc = d.comment || {};
      replaceItem({ ...c, ...nc, featured: nc.featured != null ? !!nc.featured : action === "feature", text: c.text, page: c.page, author: c.author });
      toast(action === "feature" ? `Featured ${who(c)}: pinned in the thread` : `Unpinned ${who(c)}`);
    } catch (e) {
      fail(e);
    }
  };

  // failure is the message of one failed id of a bulk action: the server
  // sends an error object ({code, message}) or a plain string.
  const failure = (f) => (f.error && typeof f.error === "object" ? f.error.message : f.error) || "";

  const bulk = async (action) => {
    const ids = S.items.filter((c) => S.ticked.has(c.id)).map((c) => c.id);
    if (!ids.length) return;
    const verb = action === "approve" ? "Approve" : "Reject";
    if (ids.length > 1 && !(await confirmAction(`${verb} ${ids.length} comments?`, `${verb} all ${ids.length} selected comments at once.`, `${verb} ${ids.length}`, false))) return;
    try {
      const d = await api("POST", "/comments/bulk", { ids, action });
      const failed = d.failed || [];
      const bad = new Set(failed.map((f) => f.id));
      const ok = ids.filter((id) => !bad.has(id));
      toast(`${action === "approve" ? "Approved" : "Rejected"} ${plural(d.done != null ? d.done : ok.length, "comment", "comments")}`);
      if (failed.length) toast(`${plural(failed.length, "comment", "comments")} failed: ${failed.map(failure).filter(Boolean)[0] || "unknown error"}`, true);
      for (const id of ok) S.ticked.delete(id);
      if (stays(action)) loadQueue();
      else removeItems(ok);
      loadCounts();
    } catch (e) {
      fail(e);
    }
  };
  for (const b of ui.bulkBar.querySelectorAll("[data-bulk]")) {
    b.addEventListener("click", () => {
      if (b.dataset.bulk === "clear") clearTicks();
      else bulk(b.dataset.bulk);
    });
  }
  const clearTicks = () => {
    for (const id of [...S.ticked]) setTicked(id, false);
  };

  // ---- sanctions and notes --------------------------------------------------

  // sanction maps a ban duration onto the API: a timed ban is a suspension,
  // "permanent" a ban.
  const sanction = async (userId, name, action, duration, note) => {
    const body = { site: S.site, action, note: note || undefined };
    if (action === "suspend" || (action === "ban" && duration && duration !== "permanent")) body.duration = duration;
    const d = await api("POST", `/users/${encodeURIComponent(userId)}/sanction`, body);
    return d.user || {};
  };

  const banAuthor = async (c) => {
    const a = c.author || {};
    if (!a.id) return;
    const name = a.name || "this reader";
    const fd = await ask(ui.ban, (form) => {
      $("ban-h").textContent = `Ban ${name}`;
      const label = () => {
        const dur = form.elements.duration.value;
        $("ban-ok").textContent = `Ban ${name} ${dur === "permanent" ? "permanently" : "for " + DURATIONS[dur]}`;
        $("ban-confirm").textContent = `Their new comments on ${S.site} will be refused${dur === "permanent" ? "" : " until the ban ends"}. Pending comments stay in the queue.`;
      };
      form.onchange = label;
      label();
      setTimeout(() => form.elements.duration[0].focus(), 0);
    });
    if (!fd) return;
    const dur = String(fd.get("duration"));
    try {
      await sanction(a.id, name, dur === "permanent" ? "ban" : "suspend", dur, String(fd.get("note") || "").trim());
      toast(`${name} is banned ${dur === "permanent" ? "permanently" : "for " + DURATIONS[dur]}`);
      refreshAuthor(a.id);
    } catch (e) {
      fail(e);
    }
  };

  const noteOn = async (userId, name) => {
    const fd = await ask(ui.note, () => {
      $("note-h").textContent = `Note on ${name || "reader"}`;
      setTimeout(() => ui.note.querySelector("textarea").focus(), 0);
    });
    const text = fd && String(fd.get("text") || "").trim();
    if (!text) return;
    try {
      await api("POST", `/users/${encodeURIComponent(userId)}/notes`, { site: S.site, text });
      toast(`Note added on ${name || "the reader"}`);
      if (S.panel && S.panel.kind === "user" && S.panel.id === userId) openUser(userId);
    } catch (e) {
      fail(e);
    }
  };

  // refreshAuthor reloads what changed after a sanction: the reader panel
  // and the author records in the list.
  const refreshAuthor = (userId) => {
    if (S.panel && S.panel.kind === "user" && S.panel.id === userId) openUser(userId);
    if (S.items.some((c) => c.author && c.author.id === userId)) loadQueue();
    loadCounts();
  };

  // ---- the side panel -------------------------------------------------------

  let panelSeq = 0;
  let panelFrom = null; // the element focused before the panel opened

  const openPanel = (kind, id, title) => {
    if (!S.panel) panelFrom = document.activeElement;
    S.panel = { kind, id };
    ui.panel.hidden = false;
    ui.panel.dataset.kind = kind;
    ui.panelH.textContent = title;
    clear(ui.panelBody).append(h("p", { class: "muted", role: "status", text: "Loading…" }));
    document.body.classList.add("panel-open");
    return ++panelSeq;
  };
  const closePanel = () => {
    if (!S.panel) return;
    S.panel = null;
    ui.panel.hidden = true;
    document.body.classList.remove("panel-open");
    const c = current();
    const back = (c && els.get(c.id)) || panelFrom;
    if (back && back.isConnected && back.focus) back.focus();
  };
  $("panel-close").addEventListener("click", closePanel);

  const actionList = (actions) => {
    if (!actions || !actions.length) return h("p", { class: "muted", text: "No actions recorded." });
    return h("ol", { class: "audit" }, actions.map((x) => {
      const change = [];
      const keys = new Set([...Object.keys(x.before || {}), ...Object.keys(x.after || {})]);
      for (const k of keys) {
        const b = (x.before || {})[k];
        const a = (x.after || {})[k];
        change.push(`${k}: ${b == null ? "—" : String(b)} → ${a == null ? "—" : String(a)}`);
      }
      const t = x.target || {};
      return h("li", null,
        h("div", { class: "audit-head" },
          h("b", { text: (x.actor && x.actor.name) || "system" }), " ",
          h("code", { text: x.action || "" }),
          t.comment ? h("span", { class: "muted", text: ` comment ${t.comment}` }) : null,
          h("span", { class: "spacer" }), timeEl(x.created)),
        change.length ? h("div", { class: "audit-change", text: change.join("; ") }) : null,
        x.note ? h("q", { class: "audit-note", text: x.note }) : null);
    }));
  };

  const openAudit = async (id) => {
    const c = S.items.find((x) => x.id === id);
    const seq = openPanel("audit", id, `Audit trail of ${c ? who(c) : "comment " + id}`);
    try {
      const d = await api("GET", `/comments/${id}/audit`);
      if (seq !== panelSeq) return;
      clear(ui.panelBody).append(actionList(d.actions));
    } catch (e) {
      if (seq === panelSeq) clear(ui.panelBody).append(h("p", { class: "form-error", role: "alert", text: e.message }));
    }
  };

  const openUser = async (id) => {
    const seq = openPanel("user", id, "Reader");
    let d;
    try {
      d = await api("GET", `/users/${encodeURIComponent(id)}?` + q({ site: S.site }));
    } catch (e) {
      if (seq === panelSeq) clear(ui.panelBody).append(h("p", { class: "form-error", role: "alert", text: e.message }));
      return;
    }
    if (seq !== panelSeq) return;
    const u = d.user || {};
    const name = u.name || "Anonymous";
    ui.panelH.textContent = name;
    const hist = d.history || {};
    const ban = banState(u.banned_until) || banState(u.suspended_until);

    const status = h("p", { class: "reader-status" },
      u.role && u.role !== "reader" ? h("span", { class: "badge", text: u.role }) : null,
      ban ? h("span", { class: "badge badge-ban", text: ban }) : null,
      u.premoderated ? h("span", { class: "badge badge-premod", text: "Pre-moderated" }) : null,
      !ban && !u.premoderated ? h("span", { class: "muted", text: "In good standing" }) : null);

    const stat = (label, n) => h("div", null, h("dt", { text: label }), h("dd", { text: num(n) }));
    const history = h("dl", { class: "history" },
      stat("Approved", hist.approved), stat("Rejected", hist.rejected), stat("Pending", hist.pending),
      stat("Reports against upheld", hist.reports_upheld), stat("Reports made", hist.reports_made),
      stat("…of them upheld", hist.reports_made_upheld));

    const act = async (title, text, label, action, withDuration) => {
      const ok = await confirmAction(title, text, label, withDuration);
      if (!ok) return;
      try {
        await sanction(id, name, action, ok.duration, ok.note);
        toast(`${label}: done`);
        refreshAuthor(id);
      } catch (e) {
        fail(e);
      }
    };
    const actions = h("div", { class: "actions" },
      btn("", "Suspend…", () => act(`Suspend ${name}`, `${name} cannot comment on ${S.site} until the suspension ends.`, `Suspend ${name}`, "suspend", true)),
      btn("danger", "Ban…", () => act(`Ban ${name} permanently`, `${name}'s new comments on ${S.site} will be refused with a clear message.`, `Ban ${name}`, "ban", false)),
      ban ? btn("", "Lift ban", () => act(`Lift the ban on ${name}`, `${name} can comment again.`, "Lift", "lift", false)) : null,
      u.premoderated
        ? btn("", "Release from pre-moderation", () => act(`Release ${name}`, `${name}'s comments will publish without review, unless a rule holds them.`, "Release", "release", false))
        : btn("", "Pre-moderate", () => act(`Pre-moderate ${name}`, `Every new comment by ${name} will wait for a moderator.`, "Pre-moderate", "premoderate", false)),
      btn("reject", `Reject all pending (${num(hist.pending)})`, async () => {
        const ok = await confirmAction(`Reject all of ${name}'s pending comments?`, `${plural(hist.pending || 0, "comment", "comments")} pending on ${S.site} will be rejected.`, "Reject all", false);
        if (!ok) return;
        try {
          const r = await api("POST", `/users/${encodeURIComponent(id)}/reject-pending`, { site: S.site, note: ok.note || undefined });
          toast(`Rejected ${plural(r.rejected || 0, "pending comment", "pending comments")} by ${name}`);
          refreshAuthor(id);
        } catch (e) {
          fail(e);
        }
      }, { disabled: !hist.pending }),
      btn("link", "Show only this reader's comments", () => filterBy("author", id, name)),
      // A reader's data rights (docs/sso.md#a-readers-own-data): admins only.
      S.me && S.me.role === "admin" ? btn("", "Export their data (JSON)", async () => {
        try {
          const data = await api("GET", `/users/${encodeURIComponent(id)}/export`);
          const a = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" })), download: `parley-reader-${id}.json` });
          document.body.append(a);
          a.click();
          a.remove();
        } catch (e) {
          fail(e);
        }
      }) : null,
      S.me && S.me.role === "admin" ? btn("danger", "Erase this reader…", async () => {
        const ok = await confirmAction(`Erase ${name} for good?`,
          `${name}'s personal data goes from every site: their comments are kept by "a former reader" or removed, as each site says; their votes, reports, notes and sessions go. The audit log records the erasure, not who it was. This cannot be undone.`,
          `Erase ${name}`, false);
        if (!ok) return;
        try {
          const r = await api("DELETE", `/users/${encodeURIComponent(id)}`);
          const e = r.erased || {};
          toast(`Erased ${name}: ${plural(e.anonymised || 0, "comment", "comments")} anonymised, ${num(e.removed || 0)} removed`);
          closePanel();
          refreshAuthor(id);
        } catch (e) {
          fail(e);
        }
      }) : null);

    const noteText = h("textarea", { name: "text", rows: "3", "aria-label": `New note on ${name}` });
    const noteForm = h("form", { class: "note-form" }, noteText, h("button", { type: "submit", text: "Add note" }));
    noteForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = noteText.value.trim();
      if (!text) return noteText.focus();
      try {
        await api("POST", `/users/${encodeURIComponent(id)}/notes`, { site: S.site, text });
        toast(`Note added on ${name}`);
        openUser(id);
      } catch (err) {
        fail(err);
      }
    });
    const notes = (d.notes || []).length
      ? h("ul", { class: "notes" }, d.notes.map((n) => h("li", null,
        h("div", { class: "audit-head" }, h("b", { text: (n.author && n.author.name) || n.author || "" }), h("span", { class: "spacer" }), timeEl(n.created)),
        h("p", { class: "note-text", text: n.text || "" }))))
      : h("p", { class: "muted", text: "No notes yet." });

    const comments = (d.comments || []).length
      ? h("ol", { class: "recent" }, d.comments.map((c) => h("li", { "data-id": String(c.id) },
        h("div", { class: "audit-head" },
          h("span", { class: "badge status status-" + (c.status || ""), text: c.status || "" }),
          c.page && safeURL(c.page.url) ? h("a", { href: safeURL(c.page.url), target: "_blank", rel: "noopener noreferrer", text: c.page.title || c.page.url }) : null,
          h("span", { class: "spacer" }), timeEl(c.created)),
        h("p", { class: "text" }, highlight(c.text || "", c.reasons)),
        (c.reasons || []).length ? h("p", { class: "muted", text: c.reasons.map((r) => r.message || r.rule).join(" · ") }) : null)))
      : h("p", { class: "muted", text: "No comments." });

    clear(ui.panelBody).append(
      status, history, actions,
      h("h3", { text: "Notes" }), notes, noteForm,
      h("h3", { text: "Audit trail" }), actionList(d.actions),
      h("h3", { text: "Recent comments" }), comments);
  };

  // ---- site settings --------------------------------------------------------

  const LISTS = ["banned_words", "suspect_words"];
  const FLOATS = ["toxicity_hold", "toxicity_reject"];

  const field = (name) => ui.policyForm.elements[name];

  const fillPolicy = (p) => {
    const f = ui.policyForm;
    for (const el of f.elements) {
      if (!el.name) continue;
      const [a, b] = el.name.split(".");
      const v = b ? (p[a] || {})[b] : p[a];
      if (el.type === "checkbox") el.checked = !!v;
      else if (LISTS.includes(el.name)) el.value = (v || []).join("\n");
      else el.value = v == null ? "" : String(v);
    }
    f.dataset.site = S.site;
    delete f.dataset.dirty;
    clearFieldErrors();
  };
  // Edits in progress are never overwritten by a policy loaded later.
  ui.policyForm.addEventListener("input", () => {
    ui.policyForm.dataset.dirty = "true";
  });

  // readPolicyChanges returns the settings the form changes from the
  // policy as loaded, as a merge patch (RFC 7396): only what the moderator
  // edited is sent, so a setting changed elsewhere meanwhile (another
  // moderator, the command line) is kept, not overwritten with a stale copy.
  const readPolicyChanges = () => {
    const old = S.policy || {};
    const patch = {};
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    for (const el of ui.policyForm.elements) {
      if (!el.name) continue;
      let v;
      if (el.type === "checkbox") v = el.checked;
      else if (LISTS.includes(el.name)) v = el.value.split("\n").map((s) => s.trim()).filter(Boolean);
      else if (el.type === "number") v = el.value.trim() === "" ? 0 : FLOATS.includes(el.name) ? parseFloat(el.value) : Number(el.value);
      else v = el.value;
      const [a, b] = el.name.split(".");
      if (b) {
        if (!same((old[a] || {})[b], v)) patch[a] = { ...(patch[a] || {}), [b]: v };
      } else if (!same(old[a], v)) patch[a] = v;
    }
    return patch;
  };

  const clearFieldErrors = () => {
    for (const e of ui.policyForm.querySelectorAll(".field-error")) e.remove();
    for (const e of ui.policyForm.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
    formError(ui.policyForm, "");
  };

  // showPolicyError puts the server's message beside the field it names
  // ("max_links must be …", "banned_words: …"), or above the buttons.
  const showPolicyError = (msg) => {
    const m = /^([a-z_]+(?:\.[a-z_]+)?)\b/.exec(msg);
    const el = m && field(m[1]);
    if (!el || !el.closest) return formError(ui.policyForm, msg);
    const id = "err-" + m[1].replace(".", "-");
    el.setAttribute("aria-invalid", "true");
    el.setAttribute("aria-describedby", id);
    el.closest("label").after(h("p", { class: "field-error", id, role: "alert", text: msg }));
    el.focus();
  };

  const loadPolicy = async () => {
    if (!S.site) return;
    const site = S.site;
    loadSSO(site);
    loadOIDC(site);
    loadErasure(site);
    loadSite(site);
    loadStaff(site);
    $("settings-h").textContent = `Site settings — ${site}`;
    try {
      const p = await api("GET", `/sites/${encodeURIComponent(site)}/policy`);
      if (site !== S.site) return;
      S.policy = p;
      const f = ui.policyForm;
      if (!(f.dataset.dirty && f.dataset.site === site)) fillPolicy(p);
    } catch (e) {
      if (e.status !== 401) formError(ui.policyForm, e.message);
    }
  };

  ui.policyForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors();
    const b = ui.policyForm.querySelector("button[type=submit]");
    b.disabled = true;
    try {
      const patch = readPolicyChanges();
      if (Object.keys(patch).length) S.policy = await api("PATCH", `/sites/${encodeURIComponent(S.site)}/policy`, patch);
      fillPolicy(S.policy);
      toast(`Settings of ${S.site} saved`);
    } catch (err) {
      if (err.status === 400) showPolicyError(err.message);
      else formError(ui.policyForm, err.message);
    } finally {
      b.disabled = false;
    }
  });
  // The starter policy's lists, shown when the editor opens them and
  // copied into the site's own lists on request.
  let starter = null;
  const loadStarter = async () => {
    if (!starter) starter = await api("GET", "/starter-policy");
    return starter;
  };
  $("starter").addEventListener("toggle", async () => {
    const dl = $("starter-lists");
    if (!$("starter").open || dl.firstChild) return;
    try {
      const s = await loadStarter();
      dl.append(
        h("dt", { text: "Refused" }), h("dd", { text: s.banned.join(", ") }),
        h("dt", { text: "Held for review" }), h("dd", { text: s.suspect.join(", ") }),
        h("dt", { text: "Held when written in disguise (M*slims)" }), h("dd", { text: s.disguised.join(", ") }));
    } catch (err) {
      formError(ui.policyForm, err.message);
    }
  });
  $("starter-copy").addEventListener("click", async () => {
    try {
      const s = await loadStarter();
      for (const [name, add] of [["banned_words", s.banned], ["suspect_words", s.suspect]]) {
        const el = field(name);
        const have = el.value.split("\n").map((x) => x.trim()).filter(Boolean);
        el.value = [...have, ...add.filter((x) => !have.includes(x))].join("\n");
      }
      ui.policyForm.dataset.dirty = "true";
      toast("Starter lists copied: edit them, switch the starter policy off, and save");
    } catch (err) {
      formError(ui.policyForm, err.message);
    }
  });
  $("policy-reset").addEventListener("click", () => {
    fillPolicy(S.policy || {});
    loadPolicy();
  });

  // ---- the site: name, policy URL, origins, embed snippet -----------------------
  // Every moderator of the site reads them; an admin saves them (a
  // moderator's save is refused by the server, and the button is off).

  const siteForm = $("site-form");
  const sitePath = (site) => `/sites/${encodeURIComponent(site)}/settings`;
  const fillSite = (st) => {
    siteForm.hidden = false;
    const f = siteForm.elements;
    f.name.value = st.name || "";
    f.policy_url.value = st.policy_url || "";
    f.origins.value = (st.origins || []).join("\n");
    $("embed-snippet").textContent = st.embed || "";
    const admin = !!(S.me && S.me.role === "admin");
    for (const el of siteForm.querySelectorAll("input, textarea, button[type=submit]")) el.disabled = !admin;
  };
  const loadSite = async (site) => {
    try {
      const st = await api("GET", sitePath(site));
      if (site === S.site) fillSite(st);
    } catch {
      siteForm.hidden = true;
    }
  };
  siteForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    formError(siteForm, "");
    const f = siteForm.elements;
    const body = {
      name: f.name.value.trim(),
      policy_url: f.policy_url.value.trim(),
      origins: f.origins.value.split(/[\s,]+/).filter(Boolean),
    };
    try {
      fillSite(await api("PATCH", sitePath(S.site), body));
      toast(`Site ${S.site} saved`);
    } catch (err) {
      formError(siteForm, err.message);
    }
  });

  // ---- statistics --------------------------------------------------------------

  const ageText = (s) => (s < 3600 ? `${Math.round(s / 60)} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} days`);
  const loadStats = async () => {
    const site = S.site;
    let st;
    try {
      st = await api("GET", `/sites/${encodeURIComponent(site)}/stats?days=30`);
    } catch (e) {
      if (e.status !== 401) fail(e);
      return;
    }
    if (site !== S.site) return;
    const dd = (term, value) => [h("dt", { text: term }), h("dd", { text: value })];
    clear($("stats-summary")).append(
      ...dd("Held now", num(st.pending)),
      ...dd("Oldest in the queue", st.pending ? ageText(st.queue_age_seconds) : "—"),
      ...dd("Decisions", num(st.decisions)),
      ...dd("Overturn rate", st.decisions ? `${(100 * st.overturn_rate).toFixed(1)} %` : "—"));
    clear($("stats-days")).append(...(st.days || []).slice().reverse().map((d) => h("tr", { "data-day": d.day },
      h("th", { scope: "row", text: d.day }),
      ...[d.comments, d.held, d.reports, d.decisions, d.overturns].map((n) => h("td", { text: num(n) })))));
  };

  // ---- moderators: invite, change, remove (admins) ------------------------------

  const staffSection = $("staff-section");
  const inviteForm = $("invite-form");
  const ROLE_LABEL = { moderator: "Moderator", admin: "Admin" };
  const loadStaff = async (site) => {
    let list;
    try {
      list = (await api("GET", `/sites/${encodeURIComponent(site)}/moderators`)).moderators || [];
    } catch {
      staffSection.hidden = true;
      return;
    }
    if (site !== S.site) return;
    const admin = !!(S.me && S.me.role === "admin");
    staffSection.hidden = false;
    inviteForm.hidden = !admin;
    clear($("staff-list")).append(...list.map((m) => {
      const self = S.me && S.me.id === m.id;
      const change = async (body, done) => {
        try {
          if (body) await api("PUT", `/moderators/${encodeURIComponent(m.id)}`, body);
          else await api("DELETE", `/moderators/${encodeURIComponent(m.id)}`);
          toast(done);
        } catch (err) {
          toast(err.message);
        }
        loadStaff(S.site);
      };
      return h("tr", { "data-email": m.email },
        h("td", { text: m.name }),
        h("td", { text: m.email }),
        h("td", { text: (ROLE_LABEL[m.role] || m.role) + (m.role === "moderator" && !m.site ? " (every site)" : "") }),
        h("td", null, admin && !self
          ? [m.role === "moderator"
            ? btn("staff-admin", "Make admin", () => change({ role: "admin" }, `${m.name} is an admin`), { "aria-label": `Make admin: ${m.name}` })
            : btn("staff-mod", "Make moderator", () => change({ role: "moderator", site: S.site }, `${m.name} moderates ${S.site}`), { "aria-label": `Make moderator of this site: ${m.name}` }),
          " ",
          btn("danger staff-remove", "Remove", () => change(null, `${m.name} removed from the staff`), { "aria-label": `Remove ${m.name} from the staff` })]
          : null));
    }));
  };
  inviteForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    formError(inviteForm, "");
    const f = inviteForm.elements;
    try {
      const r = await api("POST", `/sites/${encodeURIComponent(S.site)}/moderators`, { name: f.name.value.trim(), email: f.email.value.trim(), role: f.role.value });
      const out = $("invite-result");
      out.hidden = false;
      clear(out).append(`${r.moderator.name} can sign in at ${location.origin}/admin/ as ${r.moderator.email} with the one-time password `,
        h("code", { class: "invite-password", text: r.password }), ". It is shown only now: pass it on privately.");
      inviteForm.reset();
      loadStaff(S.site);
    } catch (err) {
      formError(inviteForm, err.message);
    }
  });

  // ---- single sign-on (docs/sso.md) --------------------------------------------
  // An admin's settings: a moderator's GET is 403 and the form stays hidden.
  // The secret is write-only: the API says whether one is set.

  const ssoForm = $("sso-form");
  const ssoState = (c) => (c.secret_set ? "Readers sign in with tokens signed with the site's HS256 secret." :
    c.jwks_url ? `Readers sign in with tokens signed with the keys at ${c.jwks_url}.` :
    "Single sign-on is off: readers comment as guests.") + (c.only ? " Only signed-in readers may post." : "");
  const fillSSO = (c) => {
    ssoForm.hidden = false;
    $("sso-state").textContent = ssoState(c);
    ssoForm.elements.secret.value = "";
    ssoForm.elements.jwks_url.value = c.jwks_url || "";
    ssoForm.elements.only.checked = !!c.only;
    $("sso-clear-secret").hidden = !c.secret_set;
  };
  const ssoPath = (site) => `/sites/${encodeURIComponent(site)}/sso`;
  const loadSSO = async (site) => {
    try {
      const c = await api("GET", ssoPath(site));
      if (site === S.site) fillSSO(c);
    } catch {
      ssoForm.hidden = true;
    }
  };
  const saveSSO = async (body) => {
    formError(ssoForm, "");
    try {
      fillSSO(await api("PATCH", ssoPath(S.site), body));
      toast(`Sign-in settings of ${S.site} saved`);
    } catch (err) {
      formError(ssoForm, err.message);
    }
  };
  ssoForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = ssoForm.elements;
    const body = { only: f.only.checked };
    if (f.secret.value) body.secret = f.secret.value;
    else body.jwks_url = f.jwks_url.value.trim();
    saveSSO(body);
  });
  $("sso-clear-secret").addEventListener("click", () => saveSSO({ clear_secret: true }));

  // ---- OpenID Connect (docs/sso.md#openid-connect) ----------------------------
  // Admins only, as single sign-on; the client secret is write-only.

  const oidcForm = $("oidc-form");
  const fillOIDC = (c) => {
    const f = oidcForm.elements;
    oidcForm.hidden = false;
    $("oidc-state").textContent = c.issuer
      ? `Readers may sign in with ${c.provider_name || c.issuer}${c.client_secret_set ? "" : " (no client secret set)"}.` + (c.moderators ? " So may the site's moderators." : "")
      : "OpenID Connect sign-in is off.";
    f.issuer.value = c.issuer || "";
    f.client_id.value = c.client_id || "";
    f.client_secret.value = "";
    f.scopes.value = (c.scopes || []).join(" ");
    f.provider_name.value = c.provider_name || "";
    f.moderators.checked = !!c.moderators;
    $("oidc-redirect").textContent = c.redirect_url || "";
    $("oidc-clear-secret").hidden = !c.client_secret_set;
  };
  const oidcPath = (site) => `/sites/${encodeURIComponent(site)}/oidc`;
  const loadOIDC = async (site) => {
    try {
      const c = await api("GET", oidcPath(site));
      if (site === S.site) fillOIDC(c);
    } catch {
      oidcForm.hidden = true;
    }
  };
  const saveOIDC = async (body) => {
    formError(oidcForm, "");
    try {
      fillOIDC(await api("PATCH", oidcPath(S.site), body));
      toast(`OpenID Connect settings of ${S.site} saved`);
    } catch (err) {
      formError(oidcForm, err.message);
    }
  };
  oidcForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = oidcForm.elements;
    const body = {
      issuer: f.issuer.value.trim(), client_id: f.client_id.value.trim(), provider_name: f.provider_name.value.trim(),
      scopes: f.scopes.value.split(/[\s,]+/).filter(Boolean), moderators: f.moderators.checked,
    };
    if (f.client_secret.value) body.client_secret = f.client_secret.value;
    saveOIDC(body);
  });
  $("oidc-clear-secret").addEventListener("click", () => saveOIDC({ clear_client_secret: true }));

  // ---- erasure (docs/sso.md#a-readers-own-data) --------------------------------
  // What erasing a reader does to their comments on the site: an admin's
  // choice, audited; a moderator's GET is 403 and the form stays hidden.

  const erasureForm = $("erasure-form");
  const ERASURE = { anonymise: "kept, shown as by “a former reader”", remove: "removed, text and all" };
  const fillErasure = (c) => {
    erasureForm.hidden = false;
    $("erasure-state").textContent = `When a reader is erased, their comments on this site are ${ERASURE[c.erasure] || c.erasure}.`;
    for (const r of erasureForm.elements.erasure) r.checked = r.value === c.erasure;
  };
  const erasurePath = (site) => `/sites/${encodeURIComponent(site)}/erasure`;
  const loadErasure = async (site) => {
    try {
      const c = await api("GET", erasurePath(site));
      if (site === S.site) fillErasure(c);
    } catch {
      erasureForm.hidden = true;
    }
  };
  erasureForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    formError(erasureForm, "");
    const mode = erasureForm.elements.erasure.value;
    if (!mode) return formError(erasureForm, "Choose what happens to an erased reader's comments.");
    try {
      fillErasure(await api("PUT", erasurePath(S.site), { erasure: mode }));
      toast(`Erasure setting of ${S.site} saved`);
    } catch (err) {
      formError(erasureForm, err.message);
    }
  });

  // ---- pages ------------------------------------------------------------------

  // The settings a page may override, as the policy JSON names them: a
  // field left empty follows the site, and only values that differ from
  // the site's are sent.
  const MODES = { post: "Post-moderation", pre_new: "Pre-moderate new readers", pre_all: "Pre-moderate everything" };
  const OVERRIDE_FIELDS = [
    ["mode", "Mode", "mode"],
    ["pre_new_min_approved", "Approved comments before a new reader is trusted", "int", 0, 1000],
    ["max_length", "Maximum length (characters, 0 = no limit)", "int", 0, 100000],
    ["max_links", "Maximum links (−1 = no limit, 0 holds any link)", "int", -1, 1000],
    ["report_threshold", "Report threshold (distinct readers, 0 = off)", "int", 0, 1000],
    ["banned_words", "Banned words — reject (one per line)", "list"],
    ["suspect_words", "Suspect words — hold for review (one per line)", "list"],
    ["flood_per_minute", "Comments per minute per reader (0 = off)", "int", 0, 1000],
    ["flood_per_minute_ip", "Comments per minute per IP address (0 = off)", "int", 0, 10000],
    ["flood_duplicate_window", "Refuse the same text again within (seconds, 0 = off)", "int", 0, 604800],
    ["toxicity_hold", "Hold at toxicity ≥ (0–1, 0 = off)", "float", 0, 1],
    ["toxicity_reject", "Reject at toxicity ≥ (0–1, 0 = off)", "float", 0, 1],
    ["auto_premod.window", "Automatic pre-moderation: recent comments considered (0 = off)", "int", 0, 1000],
    ["auto_premod.rejected", "…of them rejected that pre-moderate the reader", "int", 0, 1000],
  ];
  const pick = (obj, name) => {
    const [a, b] = name.split(".");
    const v = (obj || {})[a];
    return b ? (v == null ? undefined : v[b]) : v;
  };
  const show = (v) => (Array.isArray(v) ? (v.length ? v.join(", ") : "none") : v == null ? "—" : MODES[v] || String(v));
  const pagePath = (id) => `/sites/${encodeURIComponent(S.site)}/pages/policy?` + q({ id });

  const loadPages = async (more) => {
    if (!S.site) return;
    const seq = ++S.pagesSeq;
    ui.pagesList.setAttribute("aria-busy", "true");
    try {
      const d = await api("GET", `/sites/${encodeURIComponent(S.site)}/pages?` + q({ q: S.pagesQ, cursor: more ? S.pagesCursor : "", limit: PAGE }));
      if (seq !== S.pagesSeq) return;
      const got = d.pages || [];
      if (more) {
        S.pages.push(...got);
        ui.pagesList.append(...got.map(pageRow));
      } else {
        S.pages = got;
        showPages(got);
      }
      S.pagesCursor = d.cursor || "";
      ui.pagesMore.hidden = !S.pagesCursor;
      ui.pagesEmpty.textContent = S.pagesQ ? `No page of ${S.site} matches “${S.pagesQ}”.` : `No page of ${S.site} has comments yet.`;
      ui.pagesEmpty.hidden = S.pages.length > 0;
    } catch (e) {
      if (seq === S.pagesSeq && e.status !== 401) fail(e);
    } finally {
      if (seq === S.pagesSeq) ui.pagesList.removeAttribute("aria-busy");
    }
  };
  ui.pagesSearch.addEventListener("submit", (e) => {
    e.preventDefault();
    S.pagesQ = ui.pagesSearch.elements.q.value.trim();
    writeHash();
    loadPages();
  });
  ui.pagesMore.addEventListener("click", () => loadPages(true));

  // showPages puts the list in the order given. A row whose page comes back
  // as it was drawn stays the same element, where it is: a reload that
  // brings the same pages (the search answering after the view's first
  // load) replaces nothing under the pointer, and keeps an open editor and
  // the focus.
  const drawn = new WeakMap(); // row → the page it shows, as JSON
  const showPages = (pages) => {
    const want = new Map(pages.map((pg) => [String(pg.id), JSON.stringify(pg)]));
    for (const li of [...ui.pagesList.children]) if (drawn.get(li) !== want.get(li.dataset.id)) li.remove();
    const kept = new Map([...ui.pagesList.children].map((li) => [li.dataset.id, li]));
    let next = ui.pagesList.firstElementChild;
    for (const pg of pages) {
      const li = kept.get(String(pg.id)) || pageRow(pg);
      if (li === next) next = li.nextElementSibling;
      else ui.pagesList.insertBefore(li, next);
    }
  };

  // pageRow builds one page of the list: what it is, whether it is closed
  // or has settings of its own, and its controls.
  const pageRow = (pg) => {
    const href = safeURL(pg.url);
    const title = pg.title || pg.url;
    const li = h("li", { class: "page-row" + (pg.closed ? " is-closed" : ""), "data-id": String(pg.id), "data-closed": String(!!pg.closed) },
      h("div", { class: "page-head" },
        href ? h("a", { class: "page-title", href, target: "_blank", rel: "noopener noreferrer", text: title }) : h("span", { class: "page-title", text: title }),
        pg.closed ? h("span", { class: "badge badge-closed", text: "Closed" }) : null,
        pg.override ? h("span", { class: "badge badge-override", text: "Own settings" }) : null,
        h("span", { class: "spacer" }),
        h("span", { class: "muted", text: plural(pg.count || 0, "comment", "comments") }),
        timeEl(pg.activity)),
      pg.title ? h("p", { class: "page-url muted", text: pg.url }) : null,
      h("div", { class: "actions" },
        btn("close-toggle" + (pg.closed ? "" : " danger"), pg.closed ? "Reopen comments" : "Close comments", () => setClosed(pg, !pg.closed)),
        btn("override-btn", "Moderation settings…", () => toggleEditor(pg), { "aria-expanded": "false", "aria-controls": "override-" + pg.id }),
        btn("link page-queue", "Its comments in the queue", () => {
          S.filter = { page: { id: String(pg.id), label: title }, author: null };
          setView("queue");
        })));
    drawn.set(li, JSON.stringify(pg));
    return li;
  };
  const rowOf = (id) => ui.pagesList.querySelector(`.page-row[data-id="${Number(id)}"]`);

  // replaceRow shows a page's new state, keeping its editor open (with d,
  // the page's settings as the server answered) and the focus where it was.
  const replaceRow = (pg, d, focusSel) => {
    const i = S.pages.findIndex((x) => x.id === pg.id);
    if (i >= 0) S.pages[i] = pg;
    const old = rowOf(pg.id);
    const li = pageRow(pg);
    if (old) old.replaceWith(li);
    if (d) showEditor(li, pg, d);
    const f = focusSel && li.querySelector(focusSel);
    if (f) f.focus();
  };

  const setClosed = async (pg, closed) => {
    const title = pg.title || pg.url;
    let note;
    if (closed) {
      const ok = await confirmAction(`Close comments on “${title}”?`,
        "Readers keep the thread as it is; new comments and replies are refused with a clear message. You can reopen it at any time.", "Close comments", false);
      if (!ok) return;
      note = ok.note || undefined;
    }
    try {
      const d = await api("PUT", pagePath(pg.id), { closed, note });
      const open = rowOf(pg.id) && rowOf(pg.id).querySelector(".override");
      replaceRow({ ...pg, ...pageOf(d) }, open ? d : null, ".close-toggle");
      toast(closed ? `Comments closed on “${title}”` : `Comments reopened on “${title}”`);
    } catch (e) {
      fail(e);
    }
  };
  const pageOf = (d) => ({ closed: !!(d.page || {}).closed, override: !!(d.page || {}).override, count: (d.page || {}).count });

  const toggleEditor = async (pg) => {
    const li = rowOf(pg.id);
    if (!li) return;
    const open = li.querySelector(".override");
    if (open) return closeEditor(li);
    for (const other of ui.pagesList.querySelectorAll(".page-row .override")) closeEditor(other.closest(".page-row"));
    const b = li.querySelector(".override-btn");
    b.setAttribute("aria-expanded", "true");
    const box = h("div", { class: "override", id: "override-" + pg.id }, h("p", { class: "muted", role: "status", text: "Loading…" }));
    li.append(box);
    try {
      const d = await api("GET", pagePath(pg.id));
      if (box.isConnected) showEditor(li, pg, d, true);
    } catch (e) {
      box.replaceChildren(h("p", { class: "form-error", role: "alert", text: e.message }));
    }
  };
  const closeEditor = (li) => {
    const box = li && li.querySelector(".override");
    if (!box) return;
    box.remove();
    const b = li.querySelector(".override-btn");
    b.setAttribute("aria-expanded", "false");
    b.focus();
  };

  // showEditor puts the override form and the effective policy under a
  // page's row. d is {page, policy (the override), site_policy, effective}.
  const showEditor = (li, pg, d, focus) => {
    const site = d.site_policy || {};
    const own = d.policy || {};
    const form = h("form", { class: "override-form", method: "post", action: "/admin/", novalidate: true, "data-page": String(pg.id) });
    for (const [name, label, kind, min, max] of OVERRIDE_FIELDS) {
      const sv = pick(site, name);
      const ov = pick(own, name);
      let el;
      if (kind === "mode") {
        el = h("select", { name },
          h("option", { value: "", text: `As the site (${MODES[sv] || sv})` }),
          Object.entries(MODES).map(([k, t]) => h("option", { value: k, text: t })));
        el.value = ov || "";
      } else if (kind === "list") {
        el = h("textarea", { name, rows: "3", spellcheck: "false", placeholder: `As the site: ${show(sv)}` });
        el.value = ov ? ov.join("\n") : "";
      } else {
        el = h("input", { type: "number", name, min, max, step: kind === "float" ? "0.01" : "1", placeholder: `As the site: ${show(sv)}` });
        el.value = ov == null ? "" : String(ov);
      }
      form.append(h("label", { class: ov != null ? "overridden" : null }, label, el));
    }
    form.append(
      h("p", { class: "form-error", role: "alert", hidden: true }),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "primary", text: "Save page settings" }),
        btn("override-clear", "Use the site's settings", () => saveOverride(pg, {}, form), { disabled: Object.keys(own).length === 0 }),
        btn("", "Close", () => closeEditor(rowOf(pg.id)))));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      saveOverride(pg, readOverride(form, site), form);
    });

    const eff = d.effective || {};
    const summary = h("dl", { class: "effective", "aria-label": "Effective policy" },
      OVERRIDE_FIELDS.map(([name]) => {
        const mine = pick(own, name) != null;
        return h("div", { class: mine ? "overridden" : null },
          h("dt", null, h("code", { text: name })),
          h("dd", { text: show(pick(eff, name)) + (mine ? " (this page)" : "") }));
      }));

    let box = li.querySelector(".override");
    if (!box) {
      box = h("div", { class: "override", id: "override-" + pg.id });
      li.append(box);
      li.querySelector(".override-btn").setAttribute("aria-expanded", "true");
    }
    box.replaceChildren(
      h("h3", { text: "Moderation settings of this page" }),
      h("p", { class: "muted", text: "Leave a setting empty to follow the site's. Only the settings that differ from the site's are kept." }),
      form,
      h("h3", { text: "Effective policy" }),
      summary);
    if (focus) form.elements[0].focus();
  };

  // readOverride returns the settings of the form that are filled in and
  // differ from the site's, as the override JSON.
  const readOverride = (form, site) => {
    const o = {};
    const premod = {};
    for (const [name, , kind] of OVERRIDE_FIELDS) {
      const raw = form.elements[name].value.trim();
      if (raw === "") continue;
      let v = raw;
      if (kind === "list") v = raw.split("\n").map((x) => x.trim()).filter(Boolean);
      else if (kind === "int") v = Number(raw);
      else if (kind === "float") v = parseFloat(raw);
      if (JSON.stringify(v) === JSON.stringify(pick(site, name))) continue;
      const [a, b] = name.split(".");
      if (b) premod[b] = v;
      else o[a] = v;
    }
    if (Object.keys(premod).length) o.auto_premod = { ...(site.auto_premod || {}), ...premod };
    return o;
  };

  const saveOverride = async (pg, override, form) => {
    for (const e of form.querySelectorAll(".field-error")) e.remove();
    for (const e of form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
    formError(form, "");
    try {
      const d = await api("PUT", pagePath(pg.id), { policy: override });
      replaceRow({ ...pg, ...pageOf(d) }, d, ".override-form button[type=submit]");
      const n = Object.keys(d.policy || {}).length;
      toast(n ? `Saved: ${plural(n, "setting", "settings")} of its own on “${pg.title || pg.url}”` : `“${pg.title || pg.url}” follows the site's settings`);
    } catch (err) {
      // The server names the setting first ("max_links must be …").
      const m = err.status === 400 && /^([a-z_]+(?:\.[a-z_]+)?)\b/.exec(err.message);
      const el = m && form.elements[m[1]];
      if (!el || !el.closest) return formError(form, err.message);
      const id = `err-${pg.id}-${m[1].replace(".", "-")}`;
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", id);
      el.closest("label").after(h("p", { class: "field-error", id, role: "alert", text: err.message }));
      el.focus();
    }
  };

  // ---- live updates ------------------------------------------------------------

  const stopStream = () => {
    if (S.es) S.es.close();
    S.es = null;
    ui.live.classList.remove("on");
  };

  let liveTimer = 0;
  const startStream = () => {
    stopStream();
    if (!window.EventSource || !S.site) return;
    const es = new EventSource(API + "/stream?" + q({ site: S.site }));
    S.es = es;
    es.addEventListener("open", () => {
      ui.live.classList.add("on");
      ui.live.title = "Live: new comments appear without reloading";
    });
    es.addEventListener("error", () => {
      ui.live.classList.remove("on");
      ui.live.title = "Live updates interrupted; reconnecting…";
      // EventSource retries a dropped connection by itself, but gives up
      // on an error status (a restart, an ended session): try again later.
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(() => {
          if (S.me && S.es === es) startStream();
        }, 10000);
      }
    });
    es.addEventListener("queue.changed", () => {
      // A burst of events (a bulk action, a brigade) is one refresh.
      clearTimeout(liveTimer);
      liveTimer = setTimeout(refreshLive, 250);
    });
  };

  // refreshLive follows a queue change: the counts always; for Pending and
  // Reported, new items go straight into an empty list, and otherwise wait
  // behind "N new — show" so the list does not move under the moderator.
  // Items another moderator has decided leave the list unless selected.
  const refreshLive = async () => {
    if (!S.me) return;
    loadCounts();
    if (S.view !== "queue" || !LIVE_QUEUES.has(S.queue)) return;
    const seq = S.seq;
    let d;
    try {
      d = await api("GET", queuePath(0));
    } catch {
      return;
    }
    if (seq !== S.seq) return;
    const got = d.comments || [];
    const ids = new Set(got.map((c) => c.id));
    if (got.length < PAGE && S.items.length <= PAGE) {
      const gone = S.items.filter((c) => !ids.has(c.id) && !busy.has(c.id) && c !== current()).map((c) => c.id);
      if (gone.length) removeItems(gone);
    }
    S.fresh.clear();
    for (const c of got) if (!els.has(c.id)) S.fresh.set(c.id, c);
    if (S.fresh.size && !S.items.length) showFresh();
    else renderNewBar();
  };

  const renderNewBar = () => {
    const n = S.fresh.size;
    ui.newBar.hidden = !n;
    ui.newBar.textContent = n ? `${plural(n, "new comment", "new comments")} — show` : "";
  };

  // showFresh inserts the announced items where the queue's order puts
  // them, keeping the selected item selected.
  const showFresh = () => {
    const sel = current();
    for (const c of S.fresh.values()) {
      const li = itemEl(c);
      // Priority order: before the first shown item with a lower priority.
      let i = S.items.findIndex((x) => (x.priority || 0) < (c.priority || 0));
      if (i < 0) i = S.items.length;
      S.items.splice(i, 0, c);
      const next = S.items[i + 1] && els.get(S.items[i + 1].id);
      if (next) next.before(li);
      else ui.list.append(li);
      li.classList.add("fresh");
    }
    S.fresh.clear();
    renderNewBar();
    renderEmpty();
    const at = sel ? S.items.indexOf(sel) : 0;
    if (sel) S.sel = at;
    else select(0, !document.querySelector("dialog[open]") && !typing(document.activeElement));
  };
  ui.newBar.addEventListener("click", showFresh);

  // ---- keyboard -----------------------------------------------------------------

  // typing reports whether el takes text, where letters must not be
  // shortcuts.
  const typing = (el) => {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset"].includes(el.type);
  };

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (!S.me || ui.shell.hidden) return;
    if (document.querySelector("dialog[open]")) return;
    if (typing(e.target)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.key === "?") {
      ui.help.showModal();
      e.preventDefault();
      return;
    }
    if (e.key === "Escape") {
      if (S.panel) closePanel();
      else if (S.ticked.size) clearTicks();
      else if (S.view === "pages") {
        const open = ui.pagesList.querySelector(".override");
        if (open) closeEditor(open.closest(".page-row"));
      }
      return;
    }
    if (S.view !== "queue") return;
    const c = current();
    switch (e.key) {
      case "j":
        if (S.sel < S.items.length - 1) select(S.sel + 1);
        else if (S.more) ui.more.click();
        break;
      case "k":
        if (S.sel > 0) select(S.sel - 1);
        break;
      case "a":
      case "r": {
        const action = e.key === "a" ? "approve" : "reject";
        if (S.ticked.size) bulk(action);
        else if (c) decide(c.id, action);
        break;
      }
      case "x":
        if (c) setTicked(c.id, !S.ticked.has(c.id));
        break;
      case "f":
        if (c) feature(c.id);
        break;
      case "b":
        if (c) banAuthor(c);
        break;
      case "n":
        if (c && c.author && c.author.id) noteOn(c.author.id, c.author.name);
        break;
      case "u":
        if (c && c.author && c.author.id) openUser(c.author.id);
        break;
      case "t":
        if (c) openAudit(c.id);
        break;
      case "1": case "2": case "3": case "4": case "5":
        setQueue(QUEUES[+e.key - 1][0]);
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  // Arrow keys move between the queue tabs, as in any tab list.
  ui.tabs.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const i = QUEUES.findIndex(([k]) => k === S.queue);
    const n = (i + (e.key === "ArrowRight" ? 1 : QUEUES.length - 1)) % QUEUES.length;
    setQueue(QUEUES[n][0]);
    const t = ui.tabs.querySelector(`[data-queue="${QUEUES[n][0]}"]`);
    if (t) t.focus();
    e.preventDefault();
  });

  $("help-btn").addEventListener("click", () => ui.help.showModal());

  // Relative times age while the page stays open.
  setInterval(() => {
    for (const t of document.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = ago(d);
    }
  }, 60000);

  // ---- boot ------------------------------------------------------------------------

  (async () => {
    try {
      const d = await api("GET", "/me");
      await start(d);
    } catch (e) {
      showState("signin");
      if (e.status !== 401) formError(ui.signinForm, e.message);
      ui.signinForm.elements.email.focus();
    }
  })();
})();
