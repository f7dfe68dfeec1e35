// Reads the whole UI state in one evaluation. It never throws: on the AS
// page or a Chromium error page it returns what it finds.
((sel, views) => {
  const q = (role, root) => {
    try { return (root || document).querySelector(sel[role]); } catch (e) { return null; }
  };
  const qa = (role, root) => {
    try { return Array.from((root || document).querySelectorAll(sel[role])); } catch (e) { return []; }
  };
  const visible = (el) => {
    if (!el) return false;
    if (el.getClientRects().length === 0) return false;
    const st = getComputedStyle(el);
    return st.visibility !== "hidden" && st.display !== "none";
  };
  const text = (el) => (el ? (el.textContent || "").trim() : "");
  const attr = (el, name) => (el ? el.getAttribute(name) || "" : "");
  const button = (role) => {
    const all = qa(role);
    const el = all.find(visible) || all[0];
    return {present: !!el, visible: visible(el), enabled: !!el && !el.disabled && el.getAttribute("aria-disabled") !== "true"};
  };

  const s = {url: "", path: "", title: "", views: {}, buttons: {}, errorPanels: []};
  try { s.url = location.href; s.path = location.pathname; s.title = document.title; } catch (e) {}
  if (location.protocol === "chrome-error:") {
    const code = document.querySelector(".error-code") || document.querySelector("#error-information-popup-content .error-code");
    s.browserError = text(code) || text(document.body).slice(0, 200);
    return s;
  }
  const app = q("app");
  s.ready = attr(app, "data-ready") === "true";
  const user = qa("signed-in-user").find(visible);
  s.signedIn = !!user;
  s.userName = text(user);
  s.userSub = attr(user, "data-sub");
  const out = qa("signed-out-view").find(visible);
  s.signedOut = !!out;
  s.signedOutReason = attr(out, "data-reason");
  s.loading = qa("loading").some(visible);
  for (const panel of qa("error-panel").filter(visible)) {
    s.errorPanels.push({
      code: attr(panel, "data-code") || text(q("error-code", panel)),
      id: text(q("error-id", panel)),
      message: text(q("error-message", panel)),
    });
  }
  for (const [view, item] of Object.entries(views)) {
    const el = q(view);
    if (!el) continue;
    s.views[view] = {
      state: attr(el, "data-state"),
      errorCode: attr(el, "data-error-code"),
      items: item ? qa(item, el).length : 0,
      visible: visible(el),
    };
  }
  for (const role of ["sign-in", "sign-out", "reload", "error-retry"]) s.buttons[role] = button(role);
  s.onASLoginForm = visible(q("as-login-form"));
  const asErr = q("as-error");
  s.asError = visible(asErr);
  s.asErrorText = s.asError ? text(asErr) : "";
  const loginErr = q("as-login-error");
  s.asLoginError = visible(loginErr) ? text(loginErr) : "";
  return s;
})
