// The ledger of one unit and period: save the changed values (POST /api/reports/ledger/
// with the versions the page was drawn at), show each error beside its item and rule
// warnings after a save, prefill empty items with last period's values, submit, reopen,
// and the change history.
import { call, errorMessages as messages, esc, fmt } from "../gridline/api.js";
import { flash, keepFlash, showKeptFlash } from "../gridline/flash.js";

const config = JSON.parse(document.getElementById("ledger-config").textContent);
const T = {
  saved: gettext("Saved."),
  changed: gettext("changed"),
  nothing: gettext("Nothing changed."),
  warnings: gettext("Saved, with warnings to check:"),
  notSaved: gettext("Nothing was saved:"),
  stale: gettext("Someone else changed these values since you opened the page. Reload to see theirs, then enter yours again."),
  reload: gettext("Reload"),
  locked: gettext("This period is locked."),
  submitted: gettext("Submitted."),
  missing: gettext("Cannot submit yet: these items have no value."),
  reopened: gettext("Reopened."),
  prefilled: gettext("Empty items were filled with the values of last period: check them, then save."),
  noHistory: gettext("No change yet."),
  empty: gettext("(empty)"),
  failed: gettext("The request failed"),
};
const box = document.getElementById("flash");
const form = document.getElementById("ledger-form");
const page = document.querySelector(".ledger-page");
const inputs = [...form.querySelectorAll("[data-initial]")];
const byCode = Object.fromEntries(inputs.map((el) => [el.name, el]));
const names = Object.fromEntries(inputs.map((el) => [el.name, el.closest("tr").querySelector("label").textContent]));
const clientKey = () => crypto.randomUUID();
showKeptFlash(box);

// ---- field messages --------------------------------------------------------------------
function clearFieldMessages() {
  form.querySelectorAll("[data-error-for], [data-warning-for]").forEach((el) => { el.hidden = true; el.textContent = ""; });
  form.querySelectorAll("tr.has-error, tr.has-warning").forEach((tr) => tr.classList.remove("has-error", "has-warning"));
}
// Errors naming an item go beside it; the rest (period, rule without item) to the flash.
function place(errors, kind = "error") {
  const loose = [];
  errors.forEach((e) => {
    const slot = e.field && form.querySelector(`[data-${kind}-for="${CSS.escape(e.field)}"]`);
    if (!slot) { loose.push(e.field && e.field !== "non_field_errors" && !byCode[e.field] ? `${e.field}: ${e.message}` : e.message); return; }
    slot.hidden = false;
    slot.insertAdjacentHTML("beforeend", `<div>${esc(e.message)}</div>`);
    slot.closest("tr").classList.add(`has-${kind}`);
  });
  return loose;
}
const changed = () => inputs.filter((el) => el.value !== el.dataset.initial);
const markDirty = () => { const d = document.getElementById("dirty"); if (d) d.hidden = !changed().length; };
inputs.forEach((el) => el.addEventListener("input", markDirty));
inputs.forEach((el) => el.addEventListener("change", markDirty));
function refreshMissing() {
  const list = document.getElementById("missing-list");
  const empty = inputs.filter((el) => el.value === "");
  inputs.forEach((el) => el.closest("tr").classList.toggle("missing", el.value === ""));
  if (!list) return;
  list.innerHTML = empty.map((el) => `<li data-code="${esc(el.name)}">${esc(names[el.name])}</li>`).join("");
  document.getElementById("missing").hidden = !empty.length || !document.getElementById("submit-ledger");
}

// ---- saving ------------------------------------------------------------------------------
// Resolves to true when everything typed is saved.
async function save() {
  const dirty = changed();
  clearFieldMessages();
  if (!dirty.length) return true;
  const values = {};
  const versions = {};
  dirty.forEach((el) => { values[el.name] = el.value; versions[el.name] = config.versions[el.name] || 0; });
  const saveButton = document.getElementById("save");
  if (saveButton) saveButton.disabled = true;
  const { ok, status, body } = await call(config.urls.save, {
    method: "POST",
    data: { unit: config.unit, period: config.period, values, versions, client_key: clientKey() },
  });
  if (saveButton) saveButton.disabled = false;
  if (ok) {
    Object.assign(config.versions, body.versions || {});
    dirty.forEach((el) => { el.dataset.initial = el.value; });
    markDirty();
    refreshMissing();
    const warnings = body.warnings || [];
    const loose = place(warnings, "warning");
    const head = `${T.saved} ${body.changed.length ? `${body.changed.length} ${T.changed}.` : T.nothing}`;
    if (warnings.length) flash(box, [head, T.warnings, ...warnings.map((w) => w.message), ...loose], "error");
    else flash(box, head, "ok");
    page.dataset.saved = String(Number(page.dataset.saved || 0) + 1);
    return true;
  }
  const errors = (body && body.errors) || [];
  if (status === 409) {
    const stale = errors.some((e) => e.code === "stale");
    place(errors);
    flash(box, [stale ? T.stale : T.locked, ...messages(body, T.failed)]);
    box.insertAdjacentHTML("beforeend", `<div><a href="${esc(window.location.href)}">${esc(T.reload)}</a></div>`);
  } else {
    const loose = place(errors);
    flash(box, [T.notSaved, ...(loose.length ? loose : errors.length ? [] : [`${T.failed} (HTTP ${status})`])]);
    const first = form.querySelector("tr.has-error input, tr.has-error select");
    if (first) first.focus();
  }
  box.scrollIntoView({ block: "nearest" });
  return false;
}
form.addEventListener("submit", (ev) => { ev.preventDefault(); save(); });

// ---- last period's values ------------------------------------------------------------------
const previousButton = document.getElementById("use-previous");
if (previousButton) previousButton.addEventListener("click", () => {
  let n = 0;
  inputs.forEach((el) => {
    if (el.value === "" && el.dataset.previous !== "") { el.value = el.dataset.previous; n += 1; }
  });
  markDirty();
  if (n) flash(box, T.prefilled, "ok");
});

// ---- submitting ---------------------------------------------------------------------------
const submitButton = document.getElementById("submit-ledger");
if (submitButton) submitButton.addEventListener("click", async () => {
  if (!(await save())) return;
  submitButton.disabled = true;
  const { ok, status, body } = await call(config.urls.submit, {
    method: "POST", data: { unit: config.unit, period: config.period, client_key: clientKey() },
  });
  submitButton.disabled = false;
  if (ok) {
    keepFlash(T.submitted, "ok");
    window.location.reload();
    return;
  }
  const errors = (body && body.errors) || [];
  const missing = errors.filter((e) => e.code === "missing_value");
  if (missing.length) {
    missing.forEach((e) => { const tr = byCode[e.field] && byCode[e.field].closest("tr"); if (tr) tr.classList.add("has-error", "missing"); });
    refreshMissing();
    document.getElementById("missing").hidden = false;
    flash(box, [T.missing, ...missing.map((e) => e.message)]);
  } else {
    flash(box, messages(body, `${T.failed} (HTTP ${status})`));
  }
  box.scrollIntoView({ block: "nearest" });
});

// ---- reopening (a higher level) ---------------------------------------------------------
const reopen = document.getElementById("reopen-form");
if (reopen) reopen.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const { ok, status, body } = await call(config.urls.reopen, {
    method: "POST",
    data: { unit: config.unit, period: config.period, until: reopen.until.value, reason: reopen.reason.value },
  });
  if (ok) { keepFlash(`${T.reopened} → ${body.until}`, "ok"); window.location.reload(); return; }
  flash(box, messages(body, `${T.failed} (HTTP ${status})`));
});

// ---- history --------------------------------------------------------------------------------
const history = document.getElementById("history");
history.addEventListener("toggle", async () => {
  if (!history.open || history.dataset.loaded) return;
  const q = new URLSearchParams({ unit: config.unit, period: config.period });
  const { ok, body } = await call(`${config.urls.history}?${q}`);
  if (!ok) return;
  history.dataset.loaded = "1";
  const show = (v) => (v === null || v === undefined || v === "" ? T.empty
    : String(v).replace(/^(-?\d+)\.0+$/, "$1").replace(/^(-?\d+\.\d*?)0+$/, "$1"));
  document.getElementById("history-rows").innerHTML = body.length ? body.map((r) => `<tr>
    <td>${esc(fmt.datetime(r.at))}</td><td>${esc(names[r.indicator] || r.indicator)}</td>
    <td>${esc(show(r.previous))}</td><td>${esc(show(r.value))}</td><td>${esc(r.version)}</td><td>${esc(r.by)}</td></tr>`).join("")
    : `<tr><td colspan="6" class="empty">${esc(T.noHistory)}</td></tr>`;
});

page.dataset.ready = "1";
window.gridlineLedger = { config, save };
