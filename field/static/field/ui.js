// Small DOM helpers every view uses (app.ui): elements, the header, lists, badges, toasts and
// a confirm sheet that works inside webviews (window.confirm is blocked in some of them).
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([name, value]) => {
    if (value === null || value === undefined || value === false) return;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, value);
  });
  append(el, children);
  return el;
}

function append(el, children) {
  children.flat(Infinity).forEach((child) => {
    if (child === null || child === undefined || child === false) return;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  });
}

export const STATES = {
  saved: () => _("Saved on the phone"),
  sending: () => _("Sending"),
  sent: () => _("Sent"),
  conflict: () => _("Conflict"),
  refused: () => _("Refused"),
};

export function stateBadge(state) {
  if (!state || !STATES[state]) return null;
  return h("span", { class: `badge state-${state}`, dataset: { state } }, STATES[state]());
}

// The sticky header (≤ 56 px): a back arrow when asked, the title, and room for actions.
export function header(title, { back = false, actions = [] } = {}) {
  const top = document.getElementById("top");
  top.replaceChildren();
  if (back) {
    top.append(h("button", {
      class: "icon back", type: "button", "aria-label": _("Back"),
      onclick: () => (typeof back === "function" ? back() : window.history.back()),
    }, "‹"));
  }
  top.append(h("h1", {}, title));
  if (actions.length) top.append(h("div", { class: "actions" }, actions));
  document.title = `${title} · ${_("Gridline field app")}`;
  return top;
}

export function list(items, render) {
  if (!items.length) return empty(_("Nothing here."));
  return h("ul", { class: "list" }, items.map((item) => h("li", {}, render(item))));
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

export function toast(text, { kind = "info", ms = 3500 } = {}) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h("div", { class: `toast ${kind}` }, text);
  box.append(el);
  setTimeout(() => el.remove(), ms);
}

// A sheet at the bottom with the question and two buttons; resolves true or false.
export function confirm(text, { ok = _("OK"), cancel = _("Cancel"), danger = false } = {}) {
  return new Promise((resolve) => {
    const close = (answer) => {
      shade.remove();
      resolve(answer);
    };
    const shade = h("div", { class: "shade", role: "dialog", "aria-modal": "true" },
      h("div", { class: "sheet" },
        h("p", { class: "question" }, text),
        h("div", { class: "buttons" },
          h("button", { type: "button", class: "button", onclick: () => close(false) }, cancel),
          h("button", { type: "button", class: `button ${danger ? "danger" : "primary"}`, onclick: () => close(true) }, ok))));
    document.body.append(shade);
    shade.querySelector(".button.primary, .button.danger").focus();
  });
}

// Times in the platform's zone (the page's data-time-zone), as the main site shows them.
const zone = () => document.documentElement.dataset.timeZone || undefined;
export function when(value) {
  if (!value) return "–";
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString("zh-CN", { timeZone: zone(), month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
export function day(value) {
  if (!value) return "–";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value; // a date-only value is never shifted
  return new Date(value).toLocaleDateString("zh-CN", { timeZone: zone() });
}

export const ui = { h, toast, confirm, stateBadge, header, list, empty, when, day, STATES };
