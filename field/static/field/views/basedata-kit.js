// What the 一标三实 forms and the ledger share: a labelled field with its own slot for a
// problem, problems placed beside the field they name (the phone's checks and a server's
// refusal alike), the point chooser, a record's state, and the catalogues the forms read
// (from the working set, else once from the API while online, kept for offline).

// The state of a local record: the outbox's word wins over the `_state` kept on the record.
export async function stateOf(app, set, rec) {
  if (!rec) return null;
  let state = null;
  try {
    state = app.outbox && app.outbox.stateOf ? await app.outbox.stateOf(set, rec.id) : null;
  } catch (error) {
    console.warn("stateOf", error);
  }
  return state || rec._state || null;
}

export function badge(app, state) {
  return state ? app.ui.stateBadge(state) : null;
}

// A labelled input with a slot for its problem. `input` is a node; its name is `name`.
export function field(app, { name, label, input, hint = "", required = false }) {
  const { h } = app.ui;
  const id = `bd-${name.replace(/[^a-z0-9_-]/gi, "-")}`;
  if (input && !input.id) input.id = id;
  return h("div", { class: "bd-field", "data-field": name },
    h("label", { for: input && input.id ? input.id : id }, label, required ? h("span", { class: "bd-required", "aria-hidden": "true" }, " *") : null),
    input,
    hint ? h("div", { class: "bd-hint" }, hint) : null,
    h("div", { class: "bd-error", role: "alert", "data-error-for": name, hidden: true }));
}

export function textInput(app, name, value, attrs = {}) {
  return app.ui.h("input", { name, type: "text", value: value ?? "", autocomplete: "off", ...attrs });
}

// A select of [{value, label}] (optionally a blank first choice).
export function select(app, name, value, options, { blank = null } = {}) {
  const { h } = app.ui;
  const el = h("select", { name },
    blank !== null ? h("option", { value: "" }, blank) : null,
    ...options.map((o) => h("option", { value: o.value }, o.label)));
  el.value = value ?? "";
  return el;
}

// Problems [{field, message}] beside the fields they name; the rest in the form's summary.
// Returns how many there were. `aliases` maps a server field (tag_levels.disabled, lon,
// location) to the field shown on the form.
export function showProblems(form, problems, { aliases = {}, focus = true } = {}) {
  form.querySelectorAll("[data-error-for]").forEach((slot) => { slot.hidden = true; slot.textContent = ""; });
  form.querySelectorAll(".bd-field.has-error").forEach((el) => el.classList.remove("has-error"));
  const summary = form.querySelector(".bd-summary");
  const loose = [];
  for (const p of problems) {
    let name = p.field || "";
    if (aliases[name]) name = aliases[name];
    else if (name.startsWith("tag_levels.")) name = "tags";
    const slot = name && form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!slot) { loose.push(p.message); continue; }
    const line = document.createElement("div");
    line.textContent = p.message;
    slot.append(line);
    slot.hidden = false;
    slot.closest(".bd-field")?.classList.add("has-error");
  }
  if (summary) {
    summary.hidden = !problems.length;
    summary.textContent = "";
    if (problems.length) {
      const head = document.createElement("strong");
      // With every problem beside its field, a complete sentence, not a heading over nothing.
      head.textContent = loose.length ? gettext("Please correct the marked fields:") : gettext("Please correct the fields marked in red below.");
      summary.append(head);
      for (const text of loose) {
        const line = document.createElement("div");
        line.textContent = text;
        summary.append(line);
      }
    }
  }
  if (!focus) return problems.length;
  const first = form.querySelector(".bd-field.has-error input, .bd-field.has-error select, .bd-field.has-error textarea, .bd-field.has-error button");
  if (first) first.focus({ preventScroll: false });
  else if (summary && problems.length) summary.scrollIntoView({ block: "nearest" });
  return problems.length;
}

// A field's problem goes as soon as the worker changes its value (the next save checks again).
export function clearOnInput(form) {
  form.addEventListener("input", (ev) => {
    const box = ev.target.closest && ev.target.closest(".bd-field.has-error");
    if (!box) return;
    box.classList.remove("has-error");
    box.querySelectorAll("[data-error-for]").forEach((slot) => { slot.hidden = true; slot.textContent = ""; });
    const summary = form.querySelector(".bd-summary");
    if (summary && !form.querySelector(".bd-field.has-error") && summary.childElementCount <= 1) summary.hidden = true;
  });
}

const fix = (v) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(6) : "—");

// The position of a record: shown as numbers, chosen on the map or taken from the phone's
// position. `point` is {lon, lat} (changed in place); `onChange` after each choice.
export function pointField(app, point, { title, onChange = () => {} } = {}) {
  const { h } = app.ui;
  const shown = h("div", { class: "bd-point-text" });
  const paint = () => {
    shown.textContent = Number.isFinite(point.lon)
      ? `${fix(point.lon)}, ${fix(point.lat)}`
      : gettext("No position yet");
  };
  paint();
  const choose = h("button", { type: "button", class: "bd-button", onclick: async () => {
    const got = await app.pickPoint({ title: title || gettext("Tap the position") });
    if (got) { point.lon = got.lon; point.lat = got.lat; paint(); onChange(point); }
  } }, gettext("Choose on the map"));
  const mine = h("button", { type: "button", class: "bd-button", onclick: () => {
    if (!app.position) { app.ui.toast(gettext("Waiting for the position… (allow location access)")); return; }
    point.lon = app.position.lon;
    point.lat = app.position.lat;
    paint();
    onChange(point);
  } }, gettext("My position"));
  const input = h("div", { class: "bd-point", id: "bd-location", tabindex: "-1" }, shown, h("div", { class: "bd-row" }, mine, choose));
  return field(app, { name: "location", label: gettext("Position"), input, required: true });
}

// A catalogue the forms need offline: the working set's copy, else read from the API (a
// device token reads it like any signed-in user) and kept in the store for later. `fresh`
// (the lists view, with a signal) reads it again, so an administrator's new kind arrives and
// a copy cut short by a lost signal is completed.
export async function catalogue(app, set, url, { fresh = false } = {}) {
  const ordered = (list) => list.sort((a, b) => (a.order ?? 0) - (b.order ?? 0) || String(a.code).localeCompare(String(b.code)));
  let rows = ordered(await app.store.all(set).catch(() => []));
  if (rows && rows.length && !(fresh && navigator.onLine !== false)) return rows;
  if (!app.api) return rows || [];
  const { ok, body } = await app.api(url);
  if (!ok) return rows || [];
  rows = (Array.isArray(body) ? body : body.results || body.features || []).map((r) => ({ id: r.code, ...r }));
  for (const row of rows) await app.store.put(set, row);
  return ordered(rows);
}

export const tagKinds = (app, options) => catalogue(app, "resident_tag_kinds", "/api/catalogues/resident-tags/?page_size=500", options);
export const unitTypes = (app, options) => catalogue(app, "unit_types", "/api/catalogues/unit-types/?page_size=500", options);

// The fields whose value differs from the record's (what an update sends).
export function changedFields(before, after, names) {
  const out = {};
  for (const name of names) {
    const a = before ? before[name] : undefined;
    const b = after[name];
    const same = JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
      || ((a ?? "") === "" && (b ?? "") === "");
    if (!same) out[name] = b;
  }
  return out;
}

// The local copy of a record, or null; a "new:" id is only on the phone.
export async function getRecord(app, set, id) {
  if (id === undefined || id === null || id === "") return null;
  const rec = (await app.store.get(set, id)) || (/^\d+$/.test(String(id)) ? await app.store.get(set, Number(id)) : null);
  return rec || null;
}

export const isLocal = (rec) => String(rec?.id ?? "").startsWith("new:");

// A resident added to a household made on the phone names it by the household item's
// client key (it has no id yet). Once that household is sent, the resident's item is given
// the household's id before it goes (or again, if the server refused it for want of one).
// The outbox emits `outbox` synchronously after each item settles, before the next is sent.
const linked = new WeakSet();
export function linkNewHouseholds(app) {
  if (linked.has(app)) return;
  linked.add(app);
  const link = () => {
    const made = new Map(app.outbox.items({ kind: "household.create", state: "sent" })
      .filter((i) => i.record).map((i) => [i.client_key, i.record.id]));
    if (!made.size) return;
    for (const item of app.outbox.items({ kind: "resident.create" })) {
      const key = item.data && item.data.household_client_key;
      if (!key || !made.has(key) || !app.outbox.editable(item)) continue;
      const data = { household_id: made.get(key), ...item.data };
      delete data.household_client_key;
      item.data = data;
      app.outbox.update(item.client_key, { data: item.data }).catch((error) => console.error("link", error));
    }
  };
  app.addEventListener("outbox", link);
  link();
}

// A view's body with a header, a message when something is missing.
export function missing(app, el, title, text) {
  const { h } = app.ui;
  app.ui.header(title, { back: true });
  el.replaceChildren(h("div", { class: "bd-page" }, app.ui.empty(text)));
}
