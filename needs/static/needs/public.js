// The public need form (/needs/p/<key>/, #20): a resident's phone after scanning the QR on the
// notice board. Adds "use my location", the photo check and shrink to a form that posts
// without it, and remembers on this phone the numbers it sent, to offer 查询进度 next time.
import { locate, once, photoCount } from "./form-kit.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const fill = (text, values) => (typeof globalThis.interpolate === "function" ? globalThis.interpolate(text, values, true) : text);
// Numbers only (no phone, no text): what a shared phone may show the next person anyway.
const STORE = "gridline.needs.sent";
const KEEP = 5;

function sent() {
  try {
    const list = JSON.parse(localStorage.getItem(STORE) || "[]");
    return Array.isArray(list) ? list.filter((x) => x && typeof x.number === "string") : [];
  } catch {
    return []; // storage off (private mode) or garbage: nothing remembered
  }
}

function remember(number) {
  const list = [{ number, at: new Date().toISOString() }, ...sent().filter((x) => x.number !== number)];
  try {
    localStorage.setItem(STORE, JSON.stringify(list.slice(0, KEEP)));
  } catch {
    // storage full or off: the page already shows the number to write down
  }
}

function showSent(box) {
  const list = sent();
  if (!list.length) return;
  const title = document.createElement("p");
  title.textContent = _("You sent from this phone:");
  const rows = list.map(({ number, at }) => {
    const row = document.createElement("p");
    const link = document.createElement("a");
    link.href = `${box.dataset.statusUrl}?number=${encodeURIComponent(number)}`;
    link.textContent = number;
    const when = new Date(at);
    const date = Number.isNaN(when.getTime()) ? "" : `${when.getMonth() + 1}-${when.getDate()}`;
    row.append(link, ` ${date ? fill(_("sent %(date)s"), { date }) : ""} · `, Object.assign(document.createElement("a"), { href: link.href, textContent: _("Check progress") }));
    return row;
  });
  box.replaceChildren(title, ...rows);
  box.hidden = false;
}

const done = document.querySelector("[data-sent-number]");
if (done) remember(done.dataset.sentNumber);
const box = document.querySelector("[data-mine]");
if (box) showSent(box);
const form = document.querySelector("[data-public-form]");
if (form) {
  locate(form);
  once(form, photoCount(form));
}
