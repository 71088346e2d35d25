// Login once per device: user name, password and a name for this phone (prefilled from the
// browser's user agent) → a device token kept on the phone (POST /api/field/devices/).
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

export function deviceName(ua = navigator.userAgent) {
  const android = ua.match(/Android [\d.]+;\s*([^;)]+?)(?:\s+Build\/[^;)]*)?[;)]/);
  let model = android && android[1] && android[1].trim() !== "K" ? android[1].trim() : "";
  if (!model) model = /iPhone/.test(ua) ? "iPhone" : /iPad/.test(ua) ? "iPad" : /Android/.test(ua) ? "Android" : "";
  const inside = /MicroMessenger/.test(ua) ? _("WeChat") : "";
  const browser = inside || (/EdgA?\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "");
  const name = [model, browser].filter(Boolean).join(" · ");
  return (name || _("My phone")).slice(0, 100);
}

function render(el, params, app) {
  const { h } = app.ui;
  const t = app.t;
  const problem = h("p", { class: "problem", role: "alert", hidden: true });
  const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);
  const username = h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "none" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const name = h("input", { name: "name", required: true, maxlength: "100", value: deviceName() });
  const submit = h("button", { type: "submit", class: "button primary wide" }, t("Log in"));
  const form = h("form", { class: "form login", novalidate: true },
    field(t("User name"), username), field(t("Password"), password), field(t("Name of this phone"), name), problem, submit);
  const say = (text) => {
    problem.textContent = text;
    problem.hidden = !text;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value || !name.value.trim()) {
      say(t("Please fill in the user name, the password and the phone's name."));
      return;
    }
    if (navigator.onLine === false) {
      say(t("Logging in needs signal. Try again where there is a connection."));
      return;
    }
    submit.disabled = true;
    say("");
    const r = await app.api(app.config.api.devices, { method: "POST", token: null,
      data: { username: username.value.trim(), password: password.value, name: name.value.trim() } });
    submit.disabled = false;
    if (r.status === 201 && r.body && r.body.token) {
      password.value = "";
      await app.signedIn(r.body);
      return;
    }
    if (r.status === 0) say(t("No connection to the server."));
    else say(((r.body && r.body.errors) || []).map((e) => e.message).join("\n") || `HTTP ${r.status}`);
  });
  const notes = [];
  if (app.wipeReason) notes.push(h("p", { class: "notice warn", role: "alert" }, t("The data of this phone was cleared."), " ", app.wipeReason));
  el.append(
    h("section", { class: "login-box" },
      h("p", { class: "lead" }, t("For grid workers. Log in once on this phone; the app then works without signal.")),
      ...notes, form,
      h("p", { class: "muted" }, t("Other roles use the main site."), " ", h("a", { href: "/" }, t("Open the main site")))));
  username.focus();
}

export const routes = [{ path: "/login", title: _("Log in"), render }];
