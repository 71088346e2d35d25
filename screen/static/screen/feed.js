// The live feed: the newest incidents and alerts of the jurisdiction, first from the figures,
// then as they happen (/events/ through static/gridline/live.js). Newest on top; when the list
// is longer than its panel it scrolls slowly by itself, and a new entry brings it to the top.
import { esc, fmt } from "../gridline/api.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const MAX = 60;
const list = () => document.getElementById("feed");
const seen = new Set();

function keyOf(entry) {
  return `${entry.kind}:${entry.object && entry.object.id}:${entry.change || ""}`;
}

function row(entry) {
  const o = entry.object || {};
  const li = document.createElement("li");
  li.dataset.key = keyOf(entry);
  let tag; let kind; let what; let detail;
  if (entry.kind === "alert") {
    tag = _("Alert"); kind = "alert";
    what = o.message || o.kind; detail = o.sensor_name || o.sensor || "";
  } else {
    tag = entry.change ? _("Update") : _("Incident"); kind = entry.change ? "change" : "incident";
    what = o.title; detail = [o.category_name, o.status_label].filter(Boolean).join(" · ");
  }
  li.innerHTML = `<span class="time">${esc(fmt.time(entry.at))}</span>`
    + `<span class="tag" data-kind="${kind}">${esc(tag)}</span>`
    + `<span class="what">${esc(what)}<small>${esc(detail)}</small></span>`;
  if (o.id != null) li.dataset.id = String(o.id);
  return li;
}

export function fill(entries) {
  const ol = list();
  ol.replaceChildren();
  seen.clear();
  entries.slice(0, MAX).forEach((e) => { seen.add(keyOf(e)); ol.append(row(e)); });
  if (!entries.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = _("No incidents or alerts yet.");
    ol.append(li);
  }
}

// A live event (contract D) as a feed entry, or null for kinds the feed does not show.
export function fromEvent(data) {
  const o = data.object || {};
  const at = data.at || new Date().toISOString();
  if (data.kind === "incident.created") return { kind: "incident", at, object: o };
  if (data.kind === "incident.changed") return { kind: "incident", change: data.id, at, object: o };
  if (data.kind === "alert.opened") return { kind: "alert", at, object: o };
  return null;
}

export function add(entry) {
  const key = keyOf(entry);
  if (seen.has(key)) return;
  seen.add(key);
  const ol = list();
  ol.querySelector(".empty")?.remove();
  const li = row(entry);
  li.classList.add("fresh");
  ol.prepend(li);
  while (ol.children.length > MAX) ol.lastElementChild.remove();
  ol.scrollTop = 0;
}

// Scroll a long list by itself: a pixel step every 60 ms, a pause at each end.
export function autoscroll() {
  const ol = list();
  let pause = 40;
  setInterval(() => {
    if (ol.scrollHeight <= ol.clientHeight + 2) return;
    if (pause > 0) { pause -= 1; return; }
    const before = ol.scrollTop;
    ol.scrollTop = before + Math.max(1, Math.round(ol.clientHeight / 400));
    if (ol.scrollTop === before) { ol.scrollTop = 0; pause = 40; }
  }, 60);
}
