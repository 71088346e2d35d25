// The reports hub: choose a template, a period and a region, preview the generated table
// (GET .../generate/?format=json), download it as .xlsx or .csv, and see the recent runs.
import { call, errorMessages as messages, esc, fmt } from "../gridline/api.js";
import { flash, showKeptFlash } from "../gridline/flash.js";

const config = JSON.parse(document.getElementById("hub-config").textContent);
const T = {
  failed: gettext("The request failed"),
  rows: gettext("rows"),
  boundaries: gettext("units as on"),
  total: gettext("Total"),
  unit: gettext("Unit"),
  parent: gettext("In"),
  derived: gettext("computed by the platform"),
  noRuns: gettext("No report generated yet."),
  generating: gettext("Generating…"),
  running: gettext("running, not complete"),
};
const form = document.getElementById("generate-form");
const box = document.getElementById("flash");
const button = document.getElementById("generate-button");
showKeptFlash(box);

// ---- the period picker follows the template's period type ------------------------------
function fillPeriods() {
  const template = config.templates[form.template.value];
  if (!template) return;
  const periods = config.periods[template.period_type] || [];
  form.period.innerHTML = periods.map((p) =>
    `<option value="${esc(p.key)}"${p.key === template.default_period ? " selected" : ""}>${esc(p.label)}${
      p.running ? ` · ${esc(T.running)}` : ""}</option>`).join("");
}
function select(code) {
  if (!config.templates[code]) return;
  form.template.value = code;
  fillPeriods();
  document.querySelectorAll("tr[data-template]").forEach((tr) =>
    tr.classList.toggle("selected", tr.dataset.template === code));
  const url = new URL(window.location.href);
  url.searchParams.set("template", code);
  window.history.replaceState(null, "", url);
}
form.template.addEventListener("change", () => select(form.template.value));
document.querySelectorAll("a[data-pick]").forEach((a) => a.addEventListener("click", (ev) => {
  ev.preventDefault();
  select(a.dataset.pick);
  form.scrollIntoView({ block: "nearest" });
}));

// ---- generating ------------------------------------------------------------------------
const url = (format) => {
  const q = new URLSearchParams({ period: form.period.value, region: form.region.value, output: format });
  return `${config.urls.generate.replace("{code}", encodeURIComponent(form.template.value))}?${q}`;
};
const cell = (v) => (v === null || v === undefined ? "" : esc(v));
function render(table) {
  document.getElementById("result-title").textContent = `${table.title} · ${table.region.name} · ${table.period_label}`;
  document.getElementById("result-meta").textContent =
    `${table.rows.length} ${T.rows} · ${T.boundaries} ${table.boundaries_on}`;
  document.getElementById("result-notes").innerHTML = (table.notes || []).map((n) => `<div>${esc(n)}</div>`).join("");
  const cls = (c) => (c.source === "derived" ? ' class="derived-col"' : "");
  const head = `<thead><tr><th>${esc(T.unit)}</th><th>${esc(T.parent)}</th>${table.columns.map((c) =>
    `<th${cls(c)} title="${esc(c.indicator)}${c.source === "derived" ? ` · ${esc(T.derived)}` : ""}">${esc(c.heading)}${
      c.unit && !c.heading.includes(c.unit) ? `<br><small>（${esc(c.unit)}）</small>` : ""}</th>`).join("")}</tr></thead>`;
  const body = `<tbody>${table.rows.map((r) => `<tr data-unit="${esc(r.code)}"><td>${esc(r.name)}</td><td>${esc(r.parent)}</td>${
    r.values.map((v, i) => `<td class="num${table.columns[i].source === "derived" ? " derived-col" : ""}">${cell(v)}</td>`).join("")}</tr>`).join("")}</tbody>`;
  const foot = `<tfoot><tr><td>${esc(T.total)}</td><td>${esc(table.region.name)}</td>${
    table.total.map((v) => `<td class="num">${cell(v)}</td>`).join("")}</tr></tfoot>`;
  document.getElementById("preview").innerHTML = head + body + foot;
  document.getElementById("download-xlsx").href = url("xlsx");
  document.getElementById("download-csv").href = url("csv");
  document.getElementById("result").hidden = false;
}
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  button.disabled = true;
  const label = button.textContent;
  button.textContent = T.generating;
  const { ok, status, body } = await call(url("json"));
  button.disabled = false;
  button.textContent = label;
  if (!ok) {
    document.getElementById("result").hidden = true;
    flash(box, messages(body, `${T.failed} (HTTP ${status})`));
    return;
  }
  box.hidden = true;
  render(body);
  document.body.dataset.generated = body.template;
  loadRuns();
});
// Downloads are logged too: refresh the log a moment after one starts.
["download-xlsx", "download-csv"].forEach((id) =>
  document.getElementById(id).addEventListener("click", () => setTimeout(loadRuns, 1500)));

// ---- the log ---------------------------------------------------------------------------
const periodKey = (type, start) => {
  const [y, m] = start.split("-").map(Number);
  if (type === "month") return `${y}-${String(m).padStart(2, "0")}`;
  if (type === "quarter") return `${y}-Q${Math.floor((m - 1) / 3) + 1}`;
  if (type === "half_year") return `${y}-H${m === 1 ? 1 : 2}`;
  return String(y);
};
async function loadRuns() {
  const { ok, body } = await call(config.urls.runs);
  if (!ok) return;
  const runs = (Array.isArray(body) ? body : body.results || []).slice(0, 10);
  const titles = Object.fromEntries(Object.entries(config.templates).map(([code, t]) => [code, t.title]));
  document.getElementById("runs").innerHTML = runs.length ? runs.map((r) => `<tr>
    <td>${esc(fmt.datetime(r.at))}</td><td>${esc(titles[r.template] || r.template)}</td>
    <td>${esc(periodKey(r.period_type, r.period_start))}</td><td>${esc(r.region)}</td><td>${esc(r.format)}</td>
    <td class="num">${esc(r.rows)}</td><td class="num">${esc(r.milliseconds)}</td><td>${esc(r.by)}</td></tr>`).join("")
    : `<tr><td colspan="8" class="empty">${esc(T.noRuns)}</td></tr>`;
}

if (config.selected) select(config.selected);
loadRuns();
document.body.dataset.ready = "1";
