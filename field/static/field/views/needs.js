// 需求 on the phone (#20): my grid's needs (微心愿) with their status — those waiting for my
// confirmation first, then the open ones, my unsent ones, and the last month's closed ones —
// one need with its photos and the provider's report, and 确认完成 with the resident's
// satisfaction (1–5) for a need the provider reported done → one outbox item `need.confirm`.
import { toastSaved } from "./saved.js";
import { distanceText, metres, timeText } from "../measure.js";
import { renderNeedForm } from "./needs-form.js";

const T = {
  title: gettext("Needs"),
  detail: gettext("Need"),
  raise: gettext("Register a need"),
  toConfirm: gettext("Reported done: waiting for my confirmation"),
  open: gettext("Open needs in my grid"),
  unsent: gettext("Registered on the phone, not sent yet"),
  closed: gettext("Closed in the last 30 days"),
  none: gettext("No needs in your grid yet."),
  unsentHint: gettext("Saved on the phone; it gets its number when it is sent."),
  overdue: gettext("Past due"),
  urgent: gettext("urgent"),
  status: gettext("Status"),
  kind: gettext("Kind"),
  details: gettext("Details"),
  address: gettext("Address"),
  contact: gettext("Contact"),
  raised: gettext("Registered at"),
  due: gettext("To be done by"),
  distance: gettext("Distance from me"),
  provider: gettext("Served by"),
  report: gettext("Provider's report"),
  hours: gettext("%(h)s hours"),
  satisfaction: gettext("Satisfaction"),
  feedback: gettext("Resident's words (optional)"),
  declined: gettext("Reason declined"),
  merged: gettext("Merged into"),
  photos: gettext("Photos"),
  photoFailed: gettext("This photo is not on the phone and there is no signal."),
  confirm: gettext("Confirm done"),
  confirmHint: gettext("Ask the resident whether the service was done and how satisfied they are."),
  pickScore: gettext("Choose how satisfied the resident is."),
  queued: gettext("Your confirmation is saved on the phone and waits to be sent."),
  problems: gettext("See the outbox for what the server said."),
  outbox: gettext("Open the outbox"),
  notFound: gettext("This need is not on the phone (closed over a month ago, or not in your grid)."),
};
// 5 非常满意 … 1 不满意, as the community's figures count them.
const SCORES = [
  [5, gettext("very satisfied")],
  [4, gettext("satisfied")],
  [3, gettext("fair")],
  [2, gettext("somewhat dissatisfied")],
  [1, gettext("dissatisfied")],
];
const CLOSED = new Set(["done", "declined", "merged"]);

const isNew = (n) => String(n.id).startsWith("new:");
const isOverdue = (n) => Boolean(n.overdue) || (!CLOSED.has(n.status) && n.due_at && Date.parse(n.due_at) < Date.now());

async function kindNames(app) {
  return new Map((await app.store.all("servicekinds")).map((k) => [k.code, k.name]));
}

function row(app, n, names) {
  const { h } = app.ui;
  const state = n._state || (isNew(n) ? "saved" : app.outbox.stateOf("needs", n.id));
  const meta = [n.number, n.status_name, n.due_at && !CLOSED.has(n.status) ? `${T.due} ${timeText(n.due_at)}` : null];
  if (isNew(n)) meta.push(timeText(n._made_at));
  if (app.position && n.lon != null) meta.push(distanceText(metres(app.position, n)));
  return h("a", { class: `work-row${isOverdue(n) ? " is-overdue" : ""}`, href: `#/needs/${encodeURIComponent(n.id)}`, "data-need": n.id },
    h("span", { class: "work-row-main" },
      h("strong", {}, n.title || ""),
      h("span", { class: "work-row-text" }, n.kind_name || names.get(n.kind) || ""),
      h("span", { class: "work-meta" }, meta.filter(Boolean).join(" · "))),
    h("span", { class: "work-row-side" },
      isOverdue(n) ? h("span", { class: "work-tag is-overdue" }, T.overdue) : null,
      n.urgency === "urgent" ? h("span", { class: "work-tag is-urgent" }, T.urgent) : null,
      state ? app.ui.stateBadge(state) : null));
}

async function drawList(el, app) {
  const { h } = app.ui;
  const all = await app.store.all("needs");
  const names = await kindNames(app);
  const newest = (a, b) => String(b.raised_at || b._made_at).localeCompare(String(a.raised_at || a._made_at));
  const unsent = all.filter(isNew).sort(newest);
  const sent = all.filter((n) => !isNew(n));
  const toConfirm = sent.filter((n) => n.status === "reported").sort(newest);
  const open = sent.filter((n) => n.status !== "reported" && !CLOSED.has(n.status))
    .sort((a, b) => Number(isOverdue(b)) - Number(isOverdue(a)) || newest(a, b));
  const closed = sent.filter((n) => CLOSED.has(n.status)).sort(newest);
  const section = (title, items, name) => (items.length
    ? [h("h3", { class: "work-section", "data-section": name }, `${title} (${items.length})`), h("div", { class: "work-list" }, ...items.map((n) => row(app, n, names)))]
    : []);
  const body = h("div", { class: "work-page" },
    h("a", { class: "work-button is-primary", href: "#/needs/new" }, `＋ ${T.raise}`),
    ...section(T.unsent, unsent, "unsent"),
    ...section(T.toConfirm, toConfirm, "confirm"),
    ...section(T.open, open, "open"),
    ...section(T.closed, closed, "closed"));
  if (!all.length) body.append(app.ui.empty(T.none));
  el.replaceChildren(body);
}

// The list as the store has it now, drawn again when the outbox settles an item (a sent need
// leaves 已在手机登记 for the grid's list; a confirmed one moves to closed) or a sync lands.
async function renderList(el, params, app) {
  await drawList(el, app);
  const redraw = () => { drawList(el, app).catch((error) => console.info(`needs list: ${error.message}`)); };
  app.addEventListener("outbox", redraw);
  app.addEventListener("synced", redraw);
  return () => {
    app.removeEventListener("outbox", redraw);
    app.removeEventListener("synced", redraw);
  };
}

function photoStrip(app, photos) {
  const { h } = app.ui;
  const strip = h("div", { class: "work-thumbs is-large" });
  for (const photo of photos) {
    const img = h("img", { alt: "", loading: "lazy" });
    const box = h("a", { class: "work-thumb", href: "#" }, img);
    strip.append(box);
    app.media(photo.url).then(
      (url) => { img.src = url; box.href = url; box.target = "_blank"; },
      () => box.replaceChildren(h("span", { class: "work-hint" }, T.photoFailed)),
    );
  }
  return strip;
}

function facts(app, n, names) {
  const { h } = app.ui;
  // A phone the worker may see is one tap from a call; a masked one is only text.
  const callable = n.contact_phone && !String(n.contact_phone).includes("*");
  const contact = n.contact_name || n.contact_phone
    ? [n.contact_name ? `${n.contact_name} ` : "", callable ? h("a", { href: `tel:${n.contact_phone}` }, n.contact_phone) : n.contact_phone || ""]
    : null;
  const report = [n.report, n.hours ? interpolate(T.hours, { h: n.hours }, true) : null].filter(Boolean).join(" · ");
  const score = SCORES.find(([s]) => s === n.satisfaction);
  const rows = [
    [T.status, n.status_name || (isNew(n) ? T.unsentHint : n.status)],
    [T.kind, n.kind_name || names.get(n.kind) || n.kind],
    [T.details, n.description],
    [T.address, n.address],
    [T.contact, contact],
    [T.raised, timeText(n.raised_at || n._made_at)],
    [T.due, n.due_at ? timeText(n.due_at) : null],
    [T.distance, app.position && n.lon != null ? distanceText(metres(app.position, n)) : null],
    [T.provider, n.provider_name],
    [T.report, report],
    [T.satisfaction, score ? `${"★".repeat(score[0])} ${score[1]}` : null],
    [T.feedback, n.feedback],
    [T.declined, n.decline_reason],
    [T.merged, n.merged_into],
  ].filter(([, v]) => v);
  return h("dl", { class: "work-facts" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, Array.isArray(v) ? v : String(v))]));
}

function confirmForm(app, n) {
  const { h } = app.ui;
  let score = null;
  const scores = h("div", { class: "work-choices need-scores", role: "radiogroup", "aria-label": T.satisfaction },
    ...SCORES.map(([value, text]) => h("button", {
      type: "button", class: "work-choice", role: "radio", "aria-checked": "false", "data-score": value,
      onclick: (e) => {
        score = value;
        scores.querySelectorAll("[data-score]").forEach((b) => {
          b.classList.toggle("is-on", b === e.currentTarget);
          b.setAttribute("aria-checked", String(b === e.currentTarget));
        });
      },
    }, h("span", {}, text), h("span", { class: "work-code", "aria-hidden": "true" }, "★".repeat(value)))));
  const feedback = h("input", { id: "need-feedback", type: "text", maxlength: "200" });
  const problems = h("div", { class: "work-problems", role: "alert" });
  const send = h("button", { type: "submit", class: "work-button is-primary" }, T.confirm);
  const form = h("form", { class: "work-form", novalidate: true },
    h("h3", {}, T.confirm),
    h("p", { class: "work-hint" }, T.confirmHint),
    h("span", { class: "work-label" }, T.satisfaction), scores,
    h("label", { class: "work-field", for: "need-feedback" }, T.feedback), feedback,
    problems, send);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!score) {
      problems.replaceChildren(h("p", {}, T.pickScore));
      return;
    }
    send.disabled = true;
    const data = { satisfaction: score };
    if (feedback.value.trim()) data.feedback = feedback.value.trim();
    await app.outbox.enqueue({ kind: "need.confirm", target: n.id, base_version: n.version, data });
    toastSaved(app);
    app.go("/needs");
  });
  return form;
}

async function renderDetail(el, params, app) {
  const { h } = app.ui;
  const id = decodeURIComponent(params.id);
  const n = (/^\d+$/.test(id) && (await app.store.get("needs", Number(id)))) || (await app.store.get("needs", id));
  if (!n) {
    el.replaceChildren(h("div", { class: "work-page" }, app.ui.empty(T.notFound)));
    return;
  }
  const names = await kindNames(app);
  const state = n._state || (isNew(n) ? "saved" : app.outbox.stateOf("needs", n.id));
  app.ui.header(n.number || T.detail, { back: true });
  let action = null;
  if (state === "saved" && !isNew(n)) action = h("p", { class: "work-banner" }, T.queued);
  else if (state === "conflict" || state === "refused") {
    action = [h("p", { class: "work-banner is-warning" }, T.problems), h("a", { class: "work-button", href: "#/outbox" }, T.outbox)];
  } else if (n.status === "reported") action = confirmForm(app, n);
  el.replaceChildren(h("div", { class: "work-page" },
    h("h2", { class: "work-title" }, n.title || ""),
    h("div", { class: "work-badges" }, state ? app.ui.stateBadge(state) : null,
      isOverdue(n) ? h("span", { class: "work-tag is-overdue" }, T.overdue) : null,
      n.urgency === "urgent" ? h("span", { class: "work-tag is-urgent" }, T.urgent) : null),
    facts(app, n, names),
    n.photos && n.photos.length ? [h("h3", {}, T.photos), photoStrip(app, n.photos)] : null,
    action));
}

export const routes = [
  { path: "/needs", title: T.title, render: renderList },
  { path: "/needs/new", title: gettext("Register a need"), render: renderNeedForm },
  { path: "/needs/:id", title: T.detail, render: renderDetail },
];
