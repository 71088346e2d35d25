// 入户走访: pick a household (nearest to me first, or nearest to a point tapped on the map, or
// by typing part of the address; those a task asks for come first), then record the visit
// with the location check — how far I stand from the household, in metres; farther than the
// server's limit is flagged for the community to check, never refused: a worker may meet a
// resident at the gate — and a note → one outbox item `visit.record`.
import { toastSaved } from "./saved.js";
import { byDistance, dayText, distanceText, metres, timeText } from "../measure.js";

const T = {
  title: gettext("Household visits"),
  record: gettext("Record a visit"),
  search: gettext("Search an address"),
  onMap: gettext("Choose on the map"),
  pickTitle: gettext("Tap near the household"),
  nearMe: gettext("Nearest to me"),
  nearPoint: gettext("Nearest to the point chosen on the map"),
  byAddress: gettext("All households"),
  due: gettext("Asked for by a task"),
  recent: gettext("My recent visits"),
  noHouseholds: gettext("No households on the phone yet: sync once with a signal."),
  none: gettext("Nothing matches."),
  lastVisit: gettext("last visit %(day)s"),
  members: gettext("%(n)s people"),
  here: gettext("Where I am"),
  waiting: gettext("Waiting for the position… (allow location access)"),
  accuracy: gettext("accurate to %(m)s m"),
  away: gettext("%(m)s from the household"),
  far: gettext("Farther than %(limit)s m from the household: the visit will be flagged for checking. You can still record it."),
  near: gettext("Within %(limit)s m of the household."),
  task: gettext("For task"),
  noTask: gettext("No task"),
  note: gettext("Note"),
  noteHint: gettext("Who you met, what you found, what they asked for"),
  save: gettext("Record visit"),
  noPosition: gettext("The visit needs your position: allow location access and wait for a fix."),
  notFound: gettext("This household is not on the phone (not in your grid)."),
  flagged: gettext("flagged"),
};
const SHOWN = 50;

async function openVisitTasks(app) {
  const tasks = await app.store.all("tasks");
  return tasks.filter((t) => t.kind === "visit" && !t.done_at && !t._state);
}

function householdRow(app, hh, lastVisits, dueIds) {
  const { h } = app.ui;
  const meta = [];
  if (hh._metres != null) meta.push(distanceText(hh._metres));
  if (hh.member_count != null) meta.push(interpolate(T.members, { n: hh.member_count }, true));
  const last = lastVisits.get(Number(hh.id));
  if (last) meta.push(interpolate(T.lastVisit, { day: dayText(last.slice(0, 10)) }, true));
  return h(
    "a",
    { class: "work-row", href: `#/visits/${hh.id}` },
    h("span", { class: "work-row-main" }, h("strong", {}, hh.address || `#${hh.id}`), h("span", { class: "work-meta" }, meta.join(" · "))),
    dueIds.has(Number(hh.id)) ? h("span", { class: "work-tag is-due" }, T.due) : null,
  );
}

function renderList(el, params, app) {
  const { h } = app.ui;
  let picked = null;
  const search = h("input", { type: "search", class: "work-search", placeholder: T.search, "aria-label": T.search });
  const mapButton = h("button", { type: "button", class: "work-button" }, T.onMap);
  const listBox = h("div", {});
  const recentBox = h("div", {});
  const body = h("div", { class: "work-page" }, h("div", { class: "work-toolbar" }, search, mapButton), listBox, recentBox);
  el.replaceChildren(body);

  let households = [];
  let visits = [];
  let tasks = [];
  const draw = () => {
    const lastVisits = new Map();
    for (const v of visits) {
      const key = Number(v.household_id);
      const at = v.visited_at || v._client_time || new Date().toISOString();
      if (!lastVisits.has(key) || lastVisits.get(key) < at) lastVisits.set(key, at);
    }
    const dueIds = new Set(tasks.flatMap((t) => (t.targets || []).filter((x) => !x.visit_id && !lastVisits.has(Number(x.household_id))).map((x) => Number(x.household_id))));
    if (!households.length) {
      listBox.replaceChildren(app.ui.empty(T.noHouseholds));
      return;
    }
    const needle = search.value.trim();
    const from = picked || app.position;
    let rows = needle ? households.filter((hh) => (hh.address || "").includes(needle)) : households;
    rows = byDistance(rows, from);
    if (!from) rows.sort((a, b) => String(a.address).localeCompare(String(b.address), "zh-CN"));
    const due = rows.filter((hh) => dueIds.has(Number(hh.id)));
    const rest = rows.filter((hh) => !dueIds.has(Number(hh.id))).slice(0, SHOWN);
    const heading = needle || !from ? T.byAddress : picked ? T.nearPoint : T.nearMe;
    listBox.replaceChildren(
      ...(due.length ? [h("h3", { class: "work-section" }, `${T.due} (${due.length})`), h("div", { class: "work-list" }, ...due.map((hh) => householdRow(app, hh, lastVisits, dueIds)))] : []),
      h("h3", { class: "work-section" }, heading),
      rest.length ? h("div", { class: "work-list" }, ...rest.map((hh) => householdRow(app, hh, lastVisits, dueIds))) : app.ui.empty(T.none),
    );
    const mine = [...visits].sort((a, b) => String(b.visited_at || "~").localeCompare(String(a.visited_at || "~"))).slice(0, 10);
    const byId = new Map(households.map((hh) => [Number(hh.id), hh]));
    recentBox.replaceChildren(
      ...(mine.length
        ? [
            h("h3", { class: "work-section" }, T.recent),
            h(
              "div",
              { class: "work-list" },
              ...mine.map((v) =>
                h(
                  "div",
                  { class: "work-row" },
                  h(
                    "span",
                    { class: "work-row-main" },
                    h("strong", {}, byId.get(Number(v.household_id))?.address || `#${v.household_id}`),
                    h("span", { class: "work-meta" }, [timeText(v.visited_at), v.distance_m != null ? distanceText(v.distance_m) : null, v.note].filter(Boolean).join(" · ")),
                  ),
                  h("span", { class: "work-row-side" }, v.flagged ? h("span", { class: "work-tag is-overdue" }, T.flagged) : null, v._state ? app.ui.stateBadge(v._state) : null),
                ),
              ),
            ),
          ]
        : []),
    );
  };
  search.addEventListener("input", draw);
  mapButton.addEventListener("click", async () => {
    const chosen = await app.pickPoint({ title: T.pickTitle });
    if (!chosen) return;
    picked = chosen;
    search.value = "";
    draw();
  });
  Promise.all([app.store.all("households"), app.store.all("visits"), openVisitTasks(app)]).then(([hhs, vs, ts]) => {
    households = hhs;
    visits = vs;
    tasks = ts;
    draw();
  });
  let hadPosition = Boolean(app.position);
  const onPosition = () => {
    // Re-sort once when the first fix arrives, not on every fix: rows jumping under a
    // finger make the worker tap the wrong household.
    if (!hadPosition && app.position && !picked) {
      hadPosition = true;
      draw();
    }
  };
  app.addEventListener("position", onPosition);
  return () => app.removeEventListener("position", onPosition);
}

function renderRecord(el, params, app) {
  const { h } = app.ui;
  // The server's GRIDLINE_VISIT_DISTANCE_M, from the shell's config (200 m by default).
  const limit = (app.config && app.config.limits && app.config.limits.visit_distance_m) || 200;
  const body = h("div", { class: "work-page" });
  el.replaceChildren(body);
  const id = Number(params.household);
  let cleanup = null;
  Promise.all([app.store.get("households", id), openVisitTasks(app)]).then(([hh, tasks]) => {
    if (!hh) {
      body.replaceChildren(app.ui.empty(T.notFound));
      return;
    }
    const asking = tasks.filter((t) => (t.targets || []).some((x) => Number(x.household_id) === id));
    const here = h("p", { class: "work-where-text", "aria-live": "polite" });
    const check = h("p", { class: "work-check", "aria-live": "polite" });
    const drawCheck = () => {
      const p = app.position;
      if (!p) {
        here.textContent = T.waiting;
        check.textContent = "";
        check.className = "work-check";
        return;
      }
      here.textContent = interpolate(T.accuracy, { m: Math.round(p.accuracy) }, true);
      const m = metres(p, hh);
      const far = m > limit;
      check.replaceChildren(
        h("strong", { class: "work-check-metres" }, interpolate(T.away, { m: distanceText(m) }, true)),
        h("span", {}, interpolate(far ? T.far : T.near, { limit }, true)),
      );
      check.className = `work-check ${far ? "is-far" : "is-near"}`;
    };
    const taskSelect = h(
      "select",
      { id: "work-visit-task" },
      h("option", { value: "" }, T.noTask),
      ...asking.map((t) => h("option", { value: String(t.id) }, t.title)),
    );
    const fromTask = asking.find((t) => String(t.id) === String(params.task)) || asking[0];
    if (fromTask) taskSelect.value = String(fromTask.id);
    const note = h("textarea", { id: "work-visit-note", rows: "4", maxlength: "2000", placeholder: T.noteHint });
    const problems = h("div", { class: "work-problems", role: "alert" });
    const save = h("button", { type: "submit", class: "work-button is-primary" }, `✓ ${T.save}`);
    const form = h(
      "form",
      { class: "work-form", novalidate: true },
      h("h2", { class: "work-title" }, hh.address || `#${hh.id}`),
      hh.member_count != null ? h("p", { class: "work-meta" }, interpolate(T.members, { n: hh.member_count }, true)) : null,
      h("fieldset", { class: "work-where" }, h("legend", {}, T.here), here, check),
      ...(asking.length ? [h("label", { class: "work-field", for: "work-visit-task" }, T.task), taskSelect] : []),
      h("label", { class: "work-field", for: "work-visit-note" }, T.note),
      note,
      problems,
      save,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const p = app.position;
      if (!p) {
        problems.replaceChildren(h("p", {}, T.noPosition));
        return;
      }
      save.disabled = true;
      const data = {
        household_id: id,
        lon: p.lon,
        lat: p.lat,
        accuracy_m: p.accuracy != null ? Math.round(p.accuracy) : null,
        note: note.value.trim(),
      };
      if (taskSelect.value) data.task_id = Number(taskSelect.value);
      try {
        await app.outbox.enqueue({ kind: "visit.record", target: null, base_version: null, data, photos: [] });
      } catch (error) {
        save.disabled = false;
        problems.replaceChildren(h("p", {}, error.message || String(error)));
        return;
      }
      toastSaved(app);
      app.go(params.task ? `/tasks/${params.task}` : "/visits");
    });
    body.replaceChildren(form);
    drawCheck();
    app.addEventListener("position", drawCheck);
    cleanup = () => app.removeEventListener("position", drawCheck);
  });
  return () => cleanup && cleanup();
}

export const routes = [
  { path: "/visits", title: T.title, render: renderList },
  { path: "/visits/:household", title: T.record, render: renderRecord },
];
