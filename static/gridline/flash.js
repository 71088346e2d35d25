// The page's message box (#flash): the API's errors or a confirmation, and a message that
// survives a reload (sessionStorage), for a step that reloads the page to show its result.
import { esc } from "./api.js";

const KEY = "gridline.flash";

export function flash(el, text, kind = "error") {
  el.hidden = false;
  el.className = `flash ${kind}`;
  el.innerHTML = (Array.isArray(text) ? text : [text]).map((t) => `<div>${esc(t)}</div>`).join("");
}

export function keepFlash(text, kind) {
  sessionStorage.setItem(KEY, JSON.stringify({ text, kind }));
}

export function showKeptFlash(el) {
  const kept = sessionStorage.getItem(KEY);
  if (!kept) return;
  sessionStorage.removeItem(KEY);
  const { text, kind } = JSON.parse(kept);
  flash(el, text, kind);
}
