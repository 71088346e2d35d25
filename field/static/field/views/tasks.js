// 任务: my grid's open tasks by due day (overdue marked), recently done ones below; one task
// with the evidence its kind needs before `task.complete` is queued — visit tasks: every target
// household visited (a visit saved on the phone counts: the server ticks it off when it
// arrives, before the completion that follows it in the outbox); patrol tasks: one of my
// patrols; other tasks: a note or a photo. The server checks the same rules again.
import { toastSaved } from "./saved.js";
import { photoPicker } from "../photos.js";
import { dayText, distanceText, durationText, metres, timeText, today } from "../measure.js";

const T = {
  title: gettext("Tasks"),
  detail: gettext("Task"),
  open: gettext("Open tasks"),
  done: gettext("Done recently"),
  none: gettext("No tasks for your grid."),
  overdue: gettext("Past due"),
  due: gettext("due %(day)s"),
  doneAt: gettext("done %(time)s"),
  waiting: gettext("completed on the phone, not sent yet"),
  visit: gettext("household visits"),
  patrol: gettext("patrol"),
  other: gettext("other"),
  targets: gettext("Households to visit"),
  visited: gettext("visited"),
  notVisited: gettext("not visited"),
  record: gettext("Record visit"),
  visitedCount: gettext("%(done)s of %(all)s visited"),
  unvisited: gettext("Visit every household first: %(n)s not visited yet."),
  pickPatrol: gettext("The patrol done for this task"),
  noPatrols: gettext("No patrol on the phone yet: start one on the patrol page."),
  toPatrol: gettext("Go to patrol"),
  needPatrol: gettext("Choose a patrol."),
  needEvidence: gettext("Write a note or add a photo."),
  note: gettext("Note"),
  photos: gettext("Photos"),
  complete: gettext("Complete the task"),
  notFound: gettext("This task is not on the phone."),
  unknownHousehold: gettext("household %(id)s"),
};
const KIND = { visit: T.visit, patrol: T.patrol, other: T.other };

const isDone = (t) => Boolean(t.done_at) || t._state === "saved" || t._state === "sending" || t._state === "sent";
const isOverdue = (t) => !isDone(t) && t.due_on && t.due_on < today();

async function visitedHouseholds(app) {
  // Visits on the phone: mine of the last 31 days from the server plus the unsent ones.
  const visits = await app.store.all("visits");
  return new Set(visits.map((v) => Number(v.household_id)));
}

function taskRow(app, t) {
  const { h } = app.ui;
  const targets = t.targets || [];
  const meta = [KIND[t.kind] || t.kind];
  if (t.done_at) meta.push(interpolate(T.doneAt, { time: timeText(t.done_at) }, true));
  else if (isDone(t)) meta.push(T.waiting);
  else if (t.due_on) meta.push(interpolate(T.due, { day: dayText(t.due_on) }, true));
  if (t.kind === "visit" && targets.length) {
    const done = targets.filter((x) => x.visit_id).length;
    meta.push(interpolate(T.visitedCount, { done, all: targets.length }, true));
  }
  return h(
    "a",
    { class: `work-row${isOverdue(t) ? " is-overdue" : ""}`, href: `#/tasks/${t.id}` },
    h("span", { class: "work-row-main" }, h("strong", {}, t.title), h("span", { class: "work-meta" }, meta.join(" · "))),
    h(
      "span",
      { class: "work-row-side" },
      isOverdue(t) ? h("span", { class: "work-tag is-overdue" }, T.overdue) : null,
      t._state ? app.ui.stateBadge(t._state) : null,
    ),
  );
}

async function renderList(el, params, app) {
  const { h } = app.ui;
  const tasks = await app.store.all("tasks");
  const open = tasks.filter((t) => !isDone(t)).sort((a, b) => String(a.due_on).localeCompare(String(b.due_on)));
  const done = tasks.filter(isDone).sort((a, b) => String(b.done_at || "").localeCompare(String(a.done_at || "")));
  const body = h("div", { class: "work-page" });
  if (open.length) body.append(h("h3", { class: "work-section" }, `${T.open} (${open.length})`), h("div", { class: "work-list" }, ...open.map((t) => taskRow(app, t))));
  if (done.length) body.append(h("h3", { class: "work-section" }, T.done), h("div", { class: "work-list" }, ...done.map((t) => taskRow(app, t))));
  if (!tasks.length) body.append(app.ui.empty(T.none));
  el.replaceChildren(body);
}

async function visitEvidence(app, task) {
  const { h } = app.ui;
  const visited = await visitedHouseholds(app);
  const targets = task.targets || [];
  const rows = [];
  let missing = 0;
  for (const target of targets) {
    const hh = await app.store.get("households", target.household_id);
    const ok = Boolean(target.visit_id) || visited.has(Number(target.household_id));
    if (!ok) missing += 1;
    const distance = hh && app.position && hh.lon != null ? distanceText(metres(app.position, hh)) : "";
    rows.push(
      h(
        "div",
        { class: `work-row${ok ? " is-done" : ""}` },
        h(
          "span",
          { class: "work-row-main" },
          h("strong", {}, hh ? hh.address : interpolate(T.unknownHousehold, { id: target.household_id }, true)),
          h("span", { class: "work-meta" }, [ok ? `✓ ${T.visited}` : T.notVisited, distance].filter(Boolean).join(" · ")),
        ),
        ok || isDone(task) ? null : h("a", { class: "work-button is-small", href: `#/visits/${target.household_id}?task=${task.id}` }, T.record),
      ),
    );
  }
  const el = h("section", {}, h("h3", {}, `${T.targets} (${interpolate(T.visitedCount, { done: targets.length - missing, all: targets.length }, true)})`), h("div", { class: "work-list" }, ...rows));
  return { el, check: () => (missing ? interpolate(T.unvisited, { n: missing }, true) : null), data: () => ({}) };
}

async function patrolEvidence(app) {
  const { h } = app.ui;
  const patrols = (await app.store.all("patrols")).sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
  if (!patrols.length) {
    const el = h("section", {}, h("p", { class: "work-hint" }, T.noPatrols), h("a", { class: "work-button", href: "#/patrol" }, T.toPatrol));
    return { el, check: () => T.needPatrol, data: () => ({}) };
  }
  const name = "work-task-patrol";
  const options = patrols.map((p, index) => {
    const key = p.client_key || p._client_key || String(p.id).replace(/^new:/, "");
    const seconds = p.duration_s ?? (Date.parse(p.ended_at) - Date.parse(p.started_at)) / 1000;
    const input = h("input", { type: "radio", name, value: key, id: `${name}-${index}` });
    if (index === 0) input.checked = true;
    return h(
      "label",
      { class: "work-row work-radio", for: `${name}-${index}` },
      input,
      h("span", { class: "work-row-main" }, h("strong", {}, timeText(p.started_at)), h("span", { class: "work-meta" }, [durationText(seconds), p.distance_m != null ? distanceText(p.distance_m) : ""].filter(Boolean).join(" · "))),
    );
  });
  const el = h("fieldset", { class: "work-field" }, h("legend", {}, T.pickPatrol), h("div", { class: "work-list" }, ...options));
  const chosen = () => el.querySelector(`input[name=${name}]:checked`)?.value || null;
  return { el, check: () => (chosen() ? null : T.needPatrol), data: () => ({ patrol_client_key: chosen() }) };
}

async function renderDetail(el, params, app) {
  const { h } = app.ui;
  const task = (await app.store.get("tasks", Number(params.id))) || (await app.store.get("tasks", params.id));
  if (!task) {
    el.replaceChildren(h("div", { class: "work-page" }, app.ui.empty(T.notFound)));
    return;
  }
  const lines = [KIND[task.kind] || task.kind];
  if (task.due_on) lines.push(interpolate(T.due, { day: dayText(task.due_on) }, true));
  if (task.done_at) lines.push(interpolate(T.doneAt, { time: timeText(task.done_at) }, true));
  const body = h(
    "div",
    { class: "work-page" },
    h("h2", { class: "work-title" }, task.title),
    h("p", { class: "work-meta" }, lines.join(" · "), " ", isOverdue(task) ? h("span", { class: "work-tag is-overdue" }, T.overdue) : null, task._state ? app.ui.stateBadge(task._state) : null),
  );
  el.replaceChildren(body);

  const evidence = task.kind === "visit" ? await visitEvidence(app, task) : task.kind === "patrol" ? await patrolEvidence(app) : null;
  if (evidence) body.append(evidence.el);
  if (isDone(task)) return;

  const note = h("textarea", { id: "work-task-note", rows: "3", maxlength: "2000" });
  const photos = photoPicker();
  const problems = h("div", { class: "work-problems", role: "alert" });
  const send = h("button", { type: "submit", class: "work-button is-primary" }, `✓ ${T.complete}`);
  const form = h(
    "form",
    { class: "work-form", novalidate: true },
    h("label", { class: "work-field", for: "work-task-note" }, T.note),
    note,
    h("div", { class: "work-field" }, h("span", { class: "work-label" }, T.photos), photos.el),
    problems,
    send,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const blobs = photos.photos();
    let problem = evidence ? evidence.check() : null;
    if (!evidence && !note.value.trim() && !blobs.length) problem = T.needEvidence;
    problems.replaceChildren(...(problem ? [h("p", {}, problem)] : []));
    if (problem) return;
    send.disabled = true;
    try {
      await app.outbox.enqueue({
        kind: "task.complete",
        target: task.id,
        base_version: task.version != null ? String(task.version) : null,
        data: { note: note.value.trim(), ...(evidence ? evidence.data() : {}) },
        photos: blobs,
      });
    } catch (error) {
      send.disabled = false;
      problems.replaceChildren(h("p", {}, error.message || String(error)));
      return;
    }
    toastSaved(app);
    app.go("/tasks");
  });
  body.append(form);
}

export const routes = [
  { path: "/tasks", title: T.title, render: renderList },
  { path: "/tasks/:id", title: T.detail, render: renderDetail },
];
