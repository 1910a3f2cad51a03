// The demo's publisher. A real news site signs its readers in with its own
// accounts; here this script plays that part: "Sign in" asks the demo
// server's publisher endpoint (/demo/sso-token, which stands for the news
// site's backend and exists only with --demo) for a token signed with the
// demo site's SSO secret, and hands it to the widget with Parley.login.
// See docs/sso.md for how a real backend signs one.
(() => {
  "use strict";
  const bar = document.getElementById("demo-login");
  if (!bar) return;
  const who = bar.querySelector(".demo-who");
  const out = bar.querySelector("[data-logout]");
  const ins = bar.querySelectorAll("[data-as]");
  const show = (name) => {
    who.textContent = name ? `Signed in to The Daily Example as ${name}` : "Not signed in to The Daily Example";
    out.hidden = !name;
    for (const b of ins) b.hidden = !!name;
    if (name) sessionStorage.setItem("demo-reader", name);
    else sessionStorage.removeItem("demo-reader");
  };
  show(sessionStorage.getItem("demo-reader") || "");
  const ready = () => (window.Parley && window.Parley.login ? Promise.resolve() :
    new Promise((res) => document.addEventListener("parley:ready", res, { once: true })));
  for (const b of ins) {
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const res = await fetch("/demo/sso-token", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ as: b.dataset.as }),
        });
        const d = await res.json();
        if (!res.ok) throw new Error((d.error && d.error.message) || res.statusText);
        await ready();
        await window.Parley.login(d.token);
        show(d.name);
      } catch (e) {
        who.textContent = "Signing in failed: " + e.message;
      } finally {
        b.disabled = false;
      }
    });
  }
  out.addEventListener("click", async () => {
    await ready();
    await window.Parley.logout();
    show("");
  });
})();
