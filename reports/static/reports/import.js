// Bringing a department's Excel form in: upload (POST multipart to /api/reports/form-imports/),
// then one row per column of the form with the proposed indicator (a candidate, computed by a
// definition, a new one typed at a level and period set here, or skip) and the district's
// current figure, a preview of what communities will still type, the template's fields, and
// Confirm (POST .../confirm/) → the hub.
import { call, errorMessages as messages, esc } from "../gridline/api.js";
import { flash, keepFlash } from "../gridline/flash.js";

const config = JSON.parse(document.getElementById("import-config").textContent);
const T = {
  failed: gettext("The request failed"),
  chooseDepartment: gettext("Choose the department the form is from."),
  chooseFile: gettext("Choose the .xlsx file."),
  newIndicator: gettext("New indicator (collected in the ledger)"),
  skip: gettext("Skip this column (left blank in the report)"),
  existing: gettext("Existing indicators"),
  matched: gettext("matched"),
  suggested: gettext("check"),
  new: gettext("new"),
  summary: gettext("columns: matched / to check / computed / new"),
  code: gettext("Code"),
  name: gettext("Name"),
  unit: gettext("Unit"),
  type: gettext("Type"),
  group: gettext("Group"),
  choices: gettext("Choices (comma-separated)"),
  notConfirmed: gettext("Nothing was created:"),
  duplicate: gettext("same indicator as column"),
  reading: gettext("Reading…"),
  created: gettext("Template created."),
  defined: gettext("computed"),
  computeIt: gettext("Compute it from the base data (a new defined indicator)"),
  figure: gettext("Now in"),
  partOf: gettext("part of the item before it (其中)"),
  level: gettext("Typed by"),
  period: gettext("Period"),
  perCommunity: gettext("Fields typed per community each time the form falls due, before → with this template"),
  stillTyped: gettext("Still typed:"),
  nothingTyped: gettext("Nothing is typed: the platform computes every column."),
  levels: {grid: gettext("grid"), community: gettext("community"), street: gettext("street")},
  why: {new: gettext("new item"), collected: gettext("collected, not yet asked by another template")},
};
const box = document.getElementById("flash");
const upload = document.getElementById("upload-form");
const confirmForm = document.getElementById("confirm-form");
const rows = document.getElementById("mapping-rows");
const page = document.querySelector(".import-page");
let current = null;

const options = (list, selected) => list.map((o) =>
  `<option value="${esc(o.value)}"${o.value === selected ? " selected" : ""}>${esc(o.label)}</option>`).join("");
const groups = config.groups.map((g) => ({ value: g.code, label: g.name }));
const aggregationFor = (type) => (type === "percentage" ? "mean" : type === "text" || type === "choice" ? "latest" : "sum");

// ---- upload ------------------------------------------------------------------------------
upload.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (config.choose_department && !upload.department.value) { flash(box, T.chooseDepartment); return; }
  if (!upload.file.files.length) { flash(box, T.chooseFile); return; }
  const data = new FormData();
  data.append("file", upload.file.files[0]);
  if (config.choose_department) data.append("department", upload.department.value);
  const button = document.getElementById("upload-button");
  const label = button.textContent;
  button.disabled = true;
  button.textContent = T.reading;
  const { ok, status, body } = await call(config.urls.upload, { method: "POST", data });
  button.disabled = false;
  button.textContent = label;
  if (!ok) {
    flash(box, messages(body, `${T.failed} (HTTP ${status})`));
    document.getElementById("mapping-card").hidden = true;
    return;
  }
  box.hidden = true;
  const url = new URL(window.location.href);
  url.searchParams.set("id", body.id);
  window.history.replaceState(null, "", url);
  show(body);
});

// ---- the mapping -------------------------------------------------------------------------
function headerPreview(layout) {
  const header = layout.header || [];
  const height = layout.header_rows || 1;
  const covered = new Set();
  let html = "";
  for (let r = 0; r < height; r += 1) {
    html += "<tr>";
    for (let c = 0; c < (layout.width || 0); c += 1) {
      if (covered.has(`${r},${c}`)) continue;
      const cell = header.find((h) => h.row === r && h.col === c);
      if (!cell) { html += "<td></td>"; continue; }
      for (let rr = r; rr < r + (cell.rowspan || 1); rr += 1)
        for (let cc = c; cc < c + (cell.colspan || 1); cc += 1) covered.add(`${rr},${cc}`);
      html += `<td rowspan="${cell.rowspan || 1}" colspan="${cell.colspan || 1}">${esc(cell.text)}</td>`;
    }
    html += "</tr>";
  }
  document.getElementById("header-preview").innerHTML = html;
}

function newSpec(p, spec) {
  const s = spec || p.new || {};
  const type = s.value_type || p.value_type || "integer";
  const open = p.choice && p.choice.new && !p.choice.definition;
  return `<div class="new-spec" data-new-for="${p.column}"${open ? "" : " hidden"}>
    <label>${esc(T.code)} <input data-key="code" value="${esc(s.code || "")}"></label>
    <label>${esc(T.name)} <input data-key="name" value="${esc(s.name || p.name || "")}"></label>
    <label>${esc(T.unit)} <input data-key="unit" value="${esc(s.unit || "")}"></label>
    <label>${esc(T.type)} <select data-key="value_type">${options(config.value_types, type)}</select></label>
    <label>${esc(T.group)} <select data-key="group">${options(groups, s.group)}</select></label>
    <label>${esc(T.level)} <select data-key="level">${options(config.levels, s.level || "grid")}</select></label>
    <label>${esc(T.period)} <select data-key="period_type">${options(config.period_types, s.period_type || "month")}</select></label>
    <label data-choices${type === "choice" ? "" : " hidden"}>${esc(T.choices)} <input data-key="choices" value="${esc((s.choices || []).join(","))}"></label>
  </div>`;
}

function row(p) {
  const chosen = p.choice || {};
  const picked = chosen.indicator ? `i:${chosen.indicator}` : chosen.skip ? "skip" : chosen.definition ? "def" : "new";
  const cands = (p.candidates || []).map((c) => {
    const level = c.score >= 0.75 ? "high" : c.score >= 0.5 ? "mid" : "";
    return { value: `i:${c.code}`, label: `${c.name}${c.unit ? `（${c.unit}）` : ""} · ${c.code} · ${Math.round(c.score * 100)}%`, level, reason: c.reason };
  });
  const state = { matched: T.matched, suggested: T.suggested, new: T.new, defined: T.defined }[p.status] || p.status;
  const figure = `<br><small class="muted" data-figure-for="${p.column}">${figureText(p)}</small>`;
  const top = (p.candidates || [])[0];
  const scoreClass = top ? (top.score >= 0.75 ? "high" : top.score >= 0.5 ? "mid" : "") : "";
  return `<tr data-column="${p.column}" class="${picked === "new" ? "is-new" : picked === "skip" ? "is-skip" : ""}">
    <td>${esc(p.cell)}</td>
    <td>${esc(p.heading)}<br><span class="score ${scoreClass}">${esc(state)}</span>${
      p.duplicate_of !== undefined ? ` <small class="muted">${esc(T.duplicate)} ${esc(p.duplicate_of + 1)}</small>` : ""}${
      p.part_of !== null && p.part_of !== undefined ? ` <small class="muted">${esc(T.partOf)}</small>` : ""}${figure}</td>
    <td>${esc(p.unit || "")}</td>
    <td class="muted">${esc((p.samples || []).filter((v) => v !== null && v !== "").slice(0, 3).join(", "))}</td>
    <td>
      <select data-decision="${p.column}">
        ${cands.length ? `<optgroup label="${esc(T.existing)}">${cands.map((c) =>
          `<option value="${esc(c.value)}" title="${esc(c.reason || "")}"${c.value === picked ? " selected" : ""}>${esc(c.label)}</option>`).join("")}</optgroup>` : ""}
        ${p.definition && !chosen.indicator ? `<option value="def"${picked === "def" ? " selected" : ""}>${esc(T.computeIt)}${p.description ? `：${esc(p.description)}` : ""}</option>` : ""}
        <option value="new"${picked === "new" ? " selected" : ""}>${esc(T.newIndicator)}</option>
        <option value="skip"${picked === "skip" ? " selected" : ""}>${esc(T.skip)}</option>
      </select>
      ${newSpec(p, chosen.new)}
      <div class="field-error" data-error-for="columns.${p.column}" hidden></div>
    </td></tr>`;
}

function figureText(p) {
  return p.figure ? `${esc(T.figure)} ${esc(p.figure.region)} ${esc(p.figure.period)}: <strong>${esc(p.figure.value)}</strong>` : "";
}
// The district's figures are counted apart (seconds at full scale): filled in when ready.
async function loadFigures(form) {
  if (!config.urls.figures) return;
  const { ok, body } = await call(config.urls.figures.replace("{id}", form.id), { method: "POST", data: {} });
  if (!ok || current !== form) return;
  (body.proposals || []).forEach((p) => {
    const mine = current.proposals.find((q) => q.column === p.column);
    if (mine) mine.figure = p.figure;
    const slot = rows.querySelector(`[data-figure-for="${p.column}"]`);
    if (slot) slot.innerHTML = figureText(p);
  });
}

function summarise() {
  const picks = [...rows.querySelectorAll("select[data-decision]")].map((s) => s.value);
  const counts = { matched: 0, suggested: 0, new: 0, defined: 0 };
  (current.proposals || []).forEach((p) => { counts[p.status] = (counts[p.status] || 0) + 1; });
  document.getElementById("mapping-summary").textContent =
    `${current.proposals.length} ${T.summary}: ${counts.matched} / ${counts.suggested} / ${counts.defined} / ${counts.new}` +
    ` → ${picks.filter((v) => v.startsWith("i:")).length} + ${picks.filter((v) => v === "def").length} + ${picks.filter((v) => v === "new").length}`;
  typingPreview();
}

// What communities will still type as the choices stand (the same rules as
// reports.services.forms.still_typed, on the proposal's candidates).
function typingOf(p) {
  const tr = rows.querySelector(`tr[data-column="${p.column}"]`);
  const value = tr.querySelector("select[data-decision]").value;
  if (value === "skip" || value === "def") return { typed: false, why: value === "def" ? "computed" : "skipped" };
  if (value === "new") return { typed: true, level: tr.querySelector(".new-spec [data-key=level]").value, why: "new" };
  const c = (p.candidates || []).find((x) => `i:${x.code}` === value) || {};
  if (c.source === "derived") return { typed: false, why: "computed" };
  if (c.asked) return { typed: false, level: c.level, why: "collected_already" };
  return { typed: true, level: c.level || "grid", why: "collected" };
}
function typingPreview() {
  const box = document.getElementById("typing-preview");
  const guessed = (current.layout && current.layout.form) || {};
  const units = (guessed.typing && guessed.typing.units) || {};
  if (!box || !units.community) { if (box) box.hidden = true; return; }
  const level = confirmForm.row_level.value || guessed.row_level || "grid";
  const before = (units[level] || 0) * current.proposals.length;
  let after = 0;
  const typed = [];
  current.proposals.forEach((p) => {
    const t = typingOf(p);
    if (t.typed) { after += units[t.level] || 0; typed.push(`${p.heading}（${T.levels[t.level] || t.level} · ${T.why[t.why] || t.why}）`); }
  });
  const per = (n) => (n / units.community).toFixed(1);
  const cut = before ? Math.round((1 - after / before) * 1000) / 10 : 0;
  const sign = cut > 0 ? "−" : cut < 0 ? "+" : "±";
  box.hidden = false;
  box.innerHTML = `<p>${esc(T.perCommunity)}: <strong>${esc(per(before))} → ${esc(per(after))}</strong> (${esc(sign)}${esc(Math.abs(cut).toFixed(1))}%)</p>` +
    (typed.length ? `<p>${esc(T.stillTyped)}</p><ul>${typed.map((t) => `<li>${esc(t)}</li>`).join("")}</ul>` : `<p>${esc(T.nothingTyped)}</p>`);
}

function show(form) {
  current = form;
  if (form.status === "confirmed") {
    const a = document.getElementById("confirmed-link");
    a.href = config.urls.hub.replace("{code}", encodeURIComponent(form.template || ""));
    a.textContent = form.template || "";
    document.getElementById("confirmed-card").hidden = false;
    document.getElementById("mapping-card").hidden = true;
    return;
  }
  const guessed = (form.layout && form.layout.form) || {};
  document.getElementById("import-file").textContent = form.filename;
  document.getElementById("import-warnings").innerHTML = (guessed.warnings || []).map((w) => `<div>${esc(w.message)}</div>`).join("");
  headerPreview(form.layout || {});
  confirmForm.title.value = guessed.title || form.filename.replace(/\.xlsx$/i, "");
  confirmForm.code.value = `${form.department}-${form.id}`.replace(/[^-a-zA-Z0-9_]/g, "-");
  confirmForm.period_type.innerHTML = options(config.period_types, guessed.period_type || "month");
  confirmForm.row_level.innerHTML = options(config.levels, guessed.row_level || "grid");
  rows.innerHTML = (form.proposals || []).map(row).join("");
  rows.querySelectorAll("select[data-decision]").forEach((select) => select.addEventListener("change", () => {
    const tr = select.closest("tr");
    const spec = tr.querySelector(".new-spec");
    spec.hidden = select.value !== "new" && select.value !== "def";
    tr.classList.toggle("is-new", select.value === "new");
    tr.classList.toggle("is-skip", select.value === "skip");
    summarise();
  }));
  rows.querySelectorAll("select[data-key=value_type]").forEach((select) => select.addEventListener("change", () => {
    select.closest(".new-spec").querySelector("[data-choices]").hidden = select.value !== "choice";
  }));
  rows.querySelectorAll(".new-spec [data-key=level]").forEach((select) => select.addEventListener("change", typingPreview));
  confirmForm.row_level.addEventListener("change", typingPreview);
  confirmForm.period_type.addEventListener("change", fitPeriods);
  fitPeriods();
  summarise();
  document.getElementById("mapping-card").hidden = false;
  page.dataset.proposed = String(form.id);
  loadFigures(form);
}

// A new item cannot have a longer period than the form it fills (a 季报 item in a 月报 is
// refused on confirm): those periods are offered disabled. config.period_types runs from the
// shortest to the longest.
function fitPeriods() {
  const order = config.period_types.map((p) => p.value);
  const longest = order.indexOf(confirmForm.period_type.value);
  rows.querySelectorAll(".new-spec [data-key=period_type]").forEach((select) => {
    [...select.options].forEach((o) => { o.disabled = longest >= 0 && order.indexOf(o.value) > longest; });
    if (select.selectedOptions[0] && select.selectedOptions[0].disabled) select.value = confirmForm.period_type.value;
  });
}

// ---- confirm -------------------------------------------------------------------------------
function decisions() {
  return (current.proposals || []).map((p) => {
    const tr = rows.querySelector(`tr[data-column="${p.column}"]`);
    const value = tr.querySelector("select[data-decision]").value;
    if (value === "skip") return { column: p.column, skip: true };
    if (value.startsWith("i:")) return { column: p.column, indicator: value.slice(2) };
    const spec = { ...((p.choice && p.choice.new) || p.new || {}) };
    tr.querySelectorAll(".new-spec [data-key]").forEach((el) => { spec[el.dataset.key] = el.value.trim(); });
    spec.choices = spec.value_type === "choice" ? spec.choices.split(/[,，、]/).map((c) => c.trim()).filter(Boolean) : [];
    if (spec.value_type !== (p.new || {}).value_type) spec.aggregation = aggregationFor(spec.value_type);
    if (value === "def") return { column: p.column, definition: p.definition, new: spec };
    return { column: p.column, new: spec };
  });
}
function placeErrors(errors) {
  confirmForm.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; el.textContent = ""; });
  const loose = [];
  errors.forEach((e) => {
    // columns.4, columns.4.new.code → the row of column 4; title, code … → their field.
    const m = /^columns\.(\d+)/.exec(e.field || "");
    const key = m ? `columns.${m[1]}` : e.field;
    const slot = key && confirmForm.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    if (slot) { slot.hidden = false; slot.insertAdjacentHTML("beforeend", `<div>${esc(e.message)}</div>`); }
    else loose.push(e.message);
  });
  return loose;
}
confirmForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const button = document.getElementById("confirm-button");
  button.disabled = true;
  const data = {
    title: confirmForm.title.value.trim(),
    code: confirmForm.code.value.trim(),
    period_type: confirmForm.period_type.value,
    row_level: confirmForm.row_level.value,
    due_day: Number(confirmForm.due_day.value || 5),
    decisions: decisions(),
  };
  const { ok, status, body } = await call(config.urls.confirm.replace("{id}", current.id), { method: "POST", data });
  button.disabled = false;
  if (ok) {
    keepFlash(`${T.created} ${body.title}`, "ok");
    window.location.href = config.urls.hub.replace("{code}", encodeURIComponent(body.code));
    return;
  }
  const errors = (body && body.errors) || [];
  const loose = placeErrors(errors);
  flash(box, [T.notConfirmed, ...(errors.length ? errors.map((e) => e.message) : [`${T.failed} (HTTP ${status})`])]);
  box.scrollIntoView({ block: "nearest" });
  return loose;
});

// ---- an import opened again (?id=) --------------------------------------------------------
if (config.import) {
  call(config.urls.import.replace("{id}", config.import)).then(({ ok, body }) => { if (ok) show(body); });
}
page.dataset.ready = "1";
