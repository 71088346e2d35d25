// The ledger (一表通 台账) of my grid for the period on the phone: the items my grid types,
// grouped as the sheet groups them, each value checked as it is typed with the server's own
// rules (ledger-rules.js: type, range, choices, and the validation rules between
// indicators), errors named by indicator beside it, saving blocked while an error stands.
// A save is one outbox item `ledger.save` {values, versions} (the per-cell versions seen,
// so two people typing different cells never conflict). Values saved on the phone and not
// yet sent are shown as the current values; a refusal from the server is shown by item.
import { checkLedger, NUMERIC } from "../ledger-rules.js";
import { badge, showProblems, stateOf } from "./basedata-kit.js";

const T = {
  title: gettext("Ledger"),
  none: gettext("No ledger for your grid on the phone yet: sync once with a signal."),
  nothingDue: gettext("Nothing to type this period: every item of your grid is computed by the platform."),
  period: gettext("Period"),
  due: gettext("Due"),
  locked: gettext("This period is locked; a higher level can reopen it."),
  submitted: gettext("Submitted"),
  previous: gettext("last period: %(value)s"),
  derived: gettext("Computed by the platform"),
  save: gettext("Save"),
  saved: gettext("Saved on the phone. It is sent as soon as there is a signal."),
  nothing: gettext("Nothing changed."),
  blocked: gettext("Correct the errors first: nothing can be saved while a rule is broken."),
  errors: gettext("%(n)s errors to correct before saving"),
  warnings: gettext("Warnings (saving is allowed):"),
  pending: gettext("Values saved on the phone, not sent yet, are shown."),
  refused: gettext("The server refused the last save; correct the marked items and save again."),
  yes: gettext("yes"),
  no: gettext("no"),
  empty: gettext("(empty)"),
  missing: gettext("%(n)s items still empty"),
};

const OPEN = new Set(["saved", "sending", "refused", "conflict"]);

// The value as the input shows it: whole numbers without ".0", yes/no as 是/否.
function shown(item, value) {
  if (value === null || value === undefined) return "";
  if (item.value_type === "boolean") {
    if (value === true || value === 1 || value === "1" || value === "是" || Number(value) === 1) return "是";
    if (value === false || value === 0 || value === "0" || value === "否" || value === "0.0000" || Number(value) === 0) return "否";
    return String(value);
  }
  if (NUMERIC.has(item.value_type)) {
    return String(value).replace(/^(-?\d+)\.0+$/, "$1").replace(/^(-?\d+\.\d*?)0+$/, "$1");
  }
  return String(value);
}

// The values of my ledger items not sent yet (saved, sending, refused, conflict), in order.
function pendingValues(app, sheet) {
  const values = {};
  for (const item of app.outbox.items({ set: "ledger", id: sheet.id })) {
    if (OPEN.has(item.state)) Object.assign(values, (item.data && item.data.values) || {});
  }
  return values;
}

function inputFor(app, item, value, disabled) {
  const { h } = app.ui;
  const attrs = { name: item.indicator, id: `lg-${item.indicator}`, disabled, "data-indicator": item.indicator };
  if (item.value_type === "boolean" || item.value_type === "choice") {
    const options = item.value_type === "boolean" ? [["是", T.yes], ["否", T.no]] : (item.choices || []).map((c) => [c, c]);
    const el = h("select", attrs, h("option", { value: "" }, T.empty), ...options.map(([v, label]) => h("option", { value: v }, label)));
    el.value = value;
    if (el.value !== value) el.append(h("option", { value }, value)); // an old value no longer a choice stays visible
    el.value = value;
    return el;
  }
  if (item.value_type === "text") return h("textarea", { ...attrs, rows: "2", maxlength: "500" }, value);
  return h("input", { ...attrs, type: "text", inputmode: item.value_type === "integer" ? "numeric" : "decimal", value, autocomplete: "off" });
}

async function render(el, params, app) {
  const { h } = app.ui;
  app.ui.header(T.title, { back: true });
  const sheets = await app.store.all("ledger").catch(() => []);
  const sheet = sheets.find((s) => !params.id || String(s.id) === params.id) || null;
  if (!sheet) { el.replaceChildren(h("div", { class: "bd-page" }, app.ui.empty(T.none))); return undefined; }
  const items = sheet.items || [];
  const pending = pendingValues(app, sheet);
  const locked = Boolean(sheet.locked) && !sheet.reopened_until;
  const initial = {};
  for (const item of items) initial[item.indicator] = item.indicator in pending ? String(pending[item.indicator] ?? "") : shown(item, item.value);
  const inputs = {};
  const groups = [...new Set(items.map((i) => i.group || ""))];
  const form = h("form", { class: "bd-form lg-form", id: "ledger-form", novalidate: true },
    h("div", { class: "bd-summary", role: "alert", hidden: true }),
    ...groups.map((group) => h("fieldset", { class: "lg-group" },
      group ? h("legend", {}, group) : null,
      ...items.filter((i) => (i.group || "") === group).map((item) => {
        const input = inputFor(app, item, initial[item.indicator], locked);
        inputs[item.indicator] = input;
        const previous = item.previous === null || item.previous === undefined || item.previous === "" ? null : shown(item, item.previous);
        return h("div", { class: `bd-field lg-item${item.indicator in pending ? " lg-pending" : ""}`, "data-field": item.indicator },
          h("label", { for: input.id }, item.name, item.unit ? h("span", { class: "lg-unit" }, ` (${item.unit})`) : null),
          input,
          previous !== null ? h("div", { class: "bd-hint" }, interpolate(T.previous, { value: previous }, true)) : null,
          h("div", { class: "bd-error", role: "alert", "data-error-for": item.indicator, hidden: true }),
          h("div", { class: "lg-warning", "data-warning-for": item.indicator, hidden: true }));
      }))),
    (sheet.derived || []).length ? h("section", { class: "bd-card lg-derived" }, h("h2", {}, T.derived),
      h("dl", { class: "bd-facts" }, ...(sheet.derived || []).flatMap((d) => [
        h("dt", {}, d.name), h("dd", {}, d.value === null || d.value === undefined ? "—" : `${d.value}${d.unit ? ` ${d.unit}` : ""}`)]))) : null);
  const saveButton = h("button", { type: "submit", form: "ledger-form", class: "bd-button bd-primary bd-save", disabled: locked }, T.save);
  const status = h("div", { class: "lg-status", role: "status" });
  const warningsBox = h("div", { class: "lg-warnings", hidden: true });

  // What would be sent: every value changed from what the phone shows as current.
  const typed = () => Object.fromEntries(Object.entries(inputs)
    .filter(([code, input]) => input.value.trim() !== initial[code].trim())
    .map(([code, input]) => [code, input.value]));
  const placeWarnings = (warnings) => {
    form.querySelectorAll("[data-warning-for]").forEach((slot) => { slot.hidden = true; slot.textContent = ""; });
    warningsBox.hidden = !warnings.length;
    warningsBox.replaceChildren(...(warnings.length ? [h("strong", {}, T.warnings), ...warnings.map((w) => h("div", {}, w.message))] : []));
    for (const w of warnings) {
      const slot = form.querySelector(`[data-warning-for="${CSS.escape(w.field)}"]`);
      if (slot) { slot.hidden = false; slot.append(h("div", {}, w.message)); }
    }
  };
  const empties = () => items.filter((i) => (inputs[i.indicator].value || "").trim() === "").length;
  // Checks everything typed; marks errors by indicator; the save waits until none is left.
  const check = ({ focus = false } = {}) => {
    const result = checkLedger(sheet, typed());
    const errors = result.errors.map((e) => ({ ...e, field: e.field in inputs ? e.field : null }));
    showProblems(form, errors, { focus });
    placeWarnings(result.warnings);
    saveButton.disabled = locked || errors.length > 0;
    saveButton.title = errors.length ? T.blocked : "";
    const n = empties();
    status.textContent = [
      errors.length ? interpolate(T.errors, { n: errors.length }, true) : "",
      n ? interpolate(T.missing, { n }, true) : "",
    ].filter(Boolean).join(" · ");
    status.classList.toggle("lg-bad", errors.length > 0);
    return result;
  };
  let timer = 0;
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => check(), 250); });
  form.addEventListener("change", () => { clearTimeout(timer); check(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearTimeout(timer);
    const values = typed();
    if (!Object.keys(values).length) { app.ui.toast(T.nothing); return; }
    const result = check({ focus: true });
    if (result.errors.length) { app.ui.toast(T.blocked, { kind: "error" }); return; }
    const versions = Object.fromEntries(Object.keys(values).map((code) => [code, (items.find((i) => i.indicator === code) || {}).version ?? 0]));
    // A save not sent yet (or refused) is changed in place: a second item would carry
    // versions the first is about to replace, and conflict with my own save.
    const open = app.outbox.items({ set: "ledger", id: sheet.id }).filter((i) => app.outbox.editable(i)).pop();
    const merged = open && (await app.outbox.update(open.client_key, { data: {
      values: { ...open.data.values, ...values },
      versions: { ...versions, ...open.data.versions },
    } }));
    if (!merged) {
      await app.outbox.enqueue({ kind: "ledger.save", target: sheet.id, base_version: sheet.version ?? null, data: { values, versions } });
    }
    app.ui.toast(T.saved);
    app.go("/ledger");
  });

  const state = await stateOf(app, "ledger", sheet);
  const facts = [
    [T.period, sheet.period_label || sheet.period],
    [T.due, sheet.due || "—"],
    sheet.submitted_at ? [T.submitted, app.ui.day ? app.ui.day(sheet.submitted_at) : sheet.submitted_at] : null,
  ].filter(Boolean);
  const last = app.outbox.items({ set: "ledger", id: sheet.id }).pop();
  el.replaceChildren(h("div", { class: "bd-page lg-page", "data-ledger": sheet.id },
    h("section", { class: "bd-card" },
      h("div", { class: "bd-card-head" }, h("h2", {}, (sheet.unit && sheet.unit.name) || T.title), badge(app, state)),
      h("dl", { class: "bd-facts" }, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      locked ? h("p", { class: "bd-alert" }, T.locked) : null,
      Object.keys(pending).length ? h("p", { class: "bd-note" }, T.pending) : null,
      last && last.state === "refused" ? h("p", { class: "bd-alert" }, T.refused) : null),
    items.length ? form : app.ui.empty(T.nothingDue),
    warningsBox,
    items.length ? h("div", { class: "lg-bar" }, status, saveButton) : null));
  if (last && last.state === "refused") showProblems(form, last.errors && last.errors.length ? last.errors : [{ message: last.error }]);
  else if (items.length) check();
  return () => clearTimeout(timer);
}

export const routes = [{ path: "/ledger", title: T.title, render }];
