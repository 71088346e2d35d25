// 我的事件: what waits for my step first (overdue marked), then the rest of my grid's open
// incidents, and my reports not sent yet; one incident with its photos and the steps the
// server said I may take now (`actions`), each a form → `incident.step`.
import { distanceText, metres, timeText } from "../measure.js";
import { ACTIONS, stepForm } from "./incident-step.js";

const T = {
  title: gettext("Incidents"),
  detail: gettext("Incident"),
  unsent: gettext("My reports not sent yet"),
  mine: gettext("Waiting for my step"),
  others: gettext("Other open incidents in my grid"),
  none: gettext("No incidents in your grid."),
  overdue: gettext("Past due"),
  due: gettext("due %(time)s"),
  report: gettext("Report an incident"),
  status: gettext("Status"),
  category: gettext("Category"),
  description: gettext("Description"),
  address: gettext("Address"),
  reported: gettext("Reported at"),
  dueAt: gettext("Due"),
  distance: gettext("Distance from me"),
  priority: gettext("Priority"),
  photos: gettext("Photos"),
  noPhotos: gettext("No photos."),
  photoFailed: gettext("This photo is not on the phone and there is no signal."),
  steps: gettext("What you can do"),
  noSteps: gettext("No step is yours to take now."),
  queued: gettext("Your step is saved on the phone and waits to be sent; the next steps show after it is sent."),
  unsentHint: gettext("Saved on the phone; it gets its number when it is sent."),
  problems: gettext("See the outbox for what the server said."),
  outbox: gettext("Open the outbox"),
  notFound: gettext("This incident is not on the phone (closed, or not in your grid)."),
  urgent: gettext("urgent"),
  critical: gettext("critical"),
  normal: gettext("normal"),
};

const isOverdue = (i) => Boolean(i.step_overdue) || (i.due_at && Date.parse(i.due_at) < Date.now());
const isNew = (i) => String(i.id).startsWith("new:");

function rank(a, b) {
  const overdue = Number(isOverdue(b)) - Number(isOverdue(a));
  if (overdue) return overdue;
  return String(a.due_at || "9999").localeCompare(String(b.due_at || "9999"));
}

function row(app, i, names) {
  const { h } = app.ui;
  const state = i._state || (isNew(i) ? "saved" : app.outbox.stateOf("incidents", i.id));
  const meta = [i.status_name, i.due_at ? interpolate(T.due, { time: timeText(i.due_at) }, true) : null];
  if (isNew(i)) meta.push(timeText(i._made_at));
  if (app.position && i.lon != null) meta.push(distanceText(metres(app.position, i)));
  return h(
    "a",
    { class: `work-row${isOverdue(i) ? " is-overdue" : ""}`, href: `#/incidents/${encodeURIComponent(i.id)}` },
    h(
      "span",
      { class: "work-row-main" },
      h("strong", {}, i.category_name || names.get(i.category) || i.category || ""),
      h("span", { class: "work-row-text" }, i.title || i.description || ""),
      h("span", { class: "work-meta" }, meta.filter(Boolean).join(" · ")),
    ),
    h(
      "span",
      { class: "work-row-side" },
      isOverdue(i) ? h("span", { class: "work-tag is-overdue" }, T.overdue) : null,
      i.priority && i.priority !== "normal" ? h("span", { class: "work-tag is-urgent" }, T[i.priority] || i.priority) : null,
      state ? app.ui.stateBadge(state) : null,
    ),
  );
}

async function renderList(el, params, app) {
  const { h } = app.ui;
  const all = await app.store.all("incidents");
  // A report made on the phone holds the category's code only.
  const names = new Map((await app.store.all("categories")).map((c) => [c.code, c.name]));
  const unsent = all.filter(isNew).sort((a, b) => String(b._made_at).localeCompare(String(a._made_at)));
  const mine = all.filter((i) => !isNew(i) && i.mine).sort(rank);
  const others = all.filter((i) => !isNew(i) && !i.mine).sort(rank);
  const section = (title, items) =>
    items.length ? [h("h3", { class: "work-section" }, `${title} (${items.length})`), h("div", { class: "work-list" }, ...items.map((i) => row(app, i, names)))] : [];
  const report = h("a", { class: "work-button is-primary", href: "#/report" }, `＋ ${T.report}`);
  const body = h(
    "div",
    { class: "work-page" },
    report,
    ...section(T.unsent, unsent),
    ...section(T.mine, mine),
    ...section(T.others, others),
  );
  if (!all.length) body.append(app.ui.empty(T.none));
  el.replaceChildren(body);
}

function photoStrip(app, photos) {
  const { h } = app.ui;
  if (!photos || !photos.length) return h("p", { class: "work-hint" }, T.noPhotos);
  const strip = h("div", { class: "work-thumbs is-large" });
  for (const photo of photos) {
    const img = h("img", { alt: "", loading: "lazy" });
    const box = h("a", { class: "work-thumb", href: "#" }, img);
    strip.append(box);
    app.media(photo.url).then(
      (url) => {
        img.src = url;
        box.href = url;
        box.target = "_blank";
      },
      () => box.replaceChildren(h("span", { class: "work-hint" }, T.photoFailed)),
    );
  }
  return strip;
}

function facts(app, i) {
  const { h } = app.ui;
  const rows = [
    [T.status, i.status_name || i.status],
    [T.category, i.category_name || i.category],
    [T.priority, i.priority ? T[i.priority] || i.priority : null],
    [T.description, i.description],
    [T.address, i.address],
    [T.reported, timeText(i.reported_at)],
    [T.dueAt, i.due_at ? timeText(i.due_at) : null],
    [T.distance, app.position && i.lon != null ? distanceText(metres(app.position, i)) : null],
  ].filter(([, v]) => v);
  return h("dl", { class: "work-facts" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
}

async function findIncident(app, id) {
  const numeric = /^\d+$/.test(id) ? Number(id) : null;
  return (numeric != null && (await app.store.get("incidents", numeric))) || (await app.store.get("incidents", id));
}

async function renderDetail(el, params, app) {
  const { h } = app.ui;
  const id = decodeURIComponent(params.id);
  const found = await findIncident(app, id);
  if (!found) {
    el.replaceChildren(h("div", { class: "work-page" }, app.ui.empty(T.notFound)));
    return;
  }
  // A report made on the phone holds the category's code only.
  const category = found.category_name ? null : await app.store.get("categories", found.category);
  const i = category ? { ...found, category_name: category.name } : found;
  const state = i._state || (isNew(i) ? "saved" : app.outbox.stateOf("incidents", i.id));
  const title = i.code || i.number || (isNew(i) ? T.detail : `${T.detail} ${i.id}`);
  const steps = h("section", { class: "work-steps" });
  const formBox = h("div", {});
  const drawSteps = () => {
    formBox.replaceChildren();
    if (isNew(i)) {
      steps.replaceChildren(h("p", { class: "work-hint" }, T.unsentHint));
      return;
    }
    if (state === "saved" || state === "sending") {
      steps.replaceChildren(h("p", { class: "work-banner" }, T.queued));
      return;
    }
    if (state === "conflict" || state === "refused") {
      steps.replaceChildren(h("p", { class: "work-banner is-warning" }, T.problems), h("a", { class: "work-button", href: "#/outbox" }, T.outbox));
      return;
    }
    const actions = (i.actions || []).filter((a) => a !== "report");
    if (!actions.length) {
      steps.replaceChildren(h("h3", {}, T.steps), h("p", { class: "work-hint" }, T.noSteps));
      return;
    }
    const buttons = actions.map((action) => {
      const b = h("button", { type: "button", class: "work-button work-step-button", "data-action": action }, ACTIONS[action] || action);
      b.addEventListener("click", async () => {
        const others = action === "merge" ? (await app.store.all("incidents")).filter((o) => o.id !== i.id && !isNew(o)) : [];
        steps.hidden = true;
        formBox.replaceChildren(
          stepForm(app, i, action, {
            others,
            done: () => app.go("/incidents"),
            cancel: () => {
              steps.hidden = false;
              formBox.replaceChildren();
            },
          }),
        );
        formBox.querySelector("textarea")?.focus();
      });
      return b;
    });
    steps.replaceChildren(h("h3", {}, T.steps), h("div", { class: "work-step-buttons" }, ...buttons));
  };
  app.ui.header(title, { back: true });
  el.replaceChildren(
    h(
      "div",
      { class: "work-page" },
      h("h2", { class: "work-title" }, i.title || i.category_name || i.category || ""),
      h("div", { class: "work-badges" }, state ? app.ui.stateBadge(state) : null, isOverdue(i) ? h("span", { class: "work-tag is-overdue" }, T.overdue) : null),
      facts(app, i),
      h("h3", {}, T.photos),
      photoStrip(app, i.photos),
      steps,
      formBox,
    ),
  );
  drawSteps();
}

export const routes = [
  { path: "/incidents", title: T.title, render: renderList },
  { path: "/incidents/:id", title: T.detail, render: renderDetail },
];
