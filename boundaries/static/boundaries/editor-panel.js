// What the boundary editor's side panel says: the validation list, the impact table, the
// steps, the applied summary and the grid table, as HTML from the server's answers. Pure
// functions of the data; editor.js draws them and wires their buttons to the map and the API.
import { esc, fmt } from "../gridline/api.js";
import { T } from "./words.js";

// "%(code)s" in a translated sentence.
export const fill = (template, values) => template.replace(/%\((\w+)\)s/g, (_, k) => values[k] ?? "");

export const actionOf = (p) => p.action || "unchanged";
export const ACTION_LABEL = { unchanged: T.unchanged, reshape: T.reshaped, new: T.new, retire: T.retired };
const KINDS = ["households", "residents", "sensors", "incidents", "tasks"];

export const m2 = (a) => {
  const n = Number(a);
  return `${n >= 100 ? fmt.number(n) : Math.round(n * 10) / 10} ${T.m2}`;
};

// The validation's problems, each with its drawn ground (or location) when it has one.
export const problemsOf = (v) => {
  if (!v) return [];
  const fc = v.features && (Array.isArray(v.features) ? v.features : v.features.features);
  if (Array.isArray(fc)) return fc.map((f) => ({ ...f.properties, geometry: f.geometry }));
  return Array.isArray(v.problems) ? v.problems : [];
};
export const summaryOf = (v, problems) => (v && v.summary) || {
  errors: problems.filter((p) => p.severity !== "warning").length,
  warnings: problems.filter((p) => p.severity === "warning").length,
};
export const summaryBadge = (s) => `<span class="badge ${s.errors ? "bad" : "good"}" id="validation-summary" data-errors="${
  s.errors}" data-warnings="${s.warnings}">${s.errors} ${esc(T.errors)} · ${s.warnings} ${esc(T.warnings)}</span>`;

export function problemsHtml(problems) {
  if (!problems.length) return `<p class="good" id="no-problems">${esc(T.noProblems)}</p>`;
  return `<ul id="problems">${problems.map((p) => `<li data-index="${p.index}" data-code="${esc(p.code)}" data-severity="${
    esc(p.severity || "error")}" tabindex="0"><span class="sev ${esc(p.severity || "error")}">${
    esc(p.severity === "warning" ? T.warning : T.error)}</span> ${esc(p.message)}${
    p.feature ? ` <small>${esc(p.feature)}</small>` : ""}${
    p.area_m2 !== undefined && p.area_m2 !== null ? ` <b class="area">${esc(m2(p.area_m2))}</b>` : ""}</li>`).join("")}</ul>`;
}

export const movedLabel = (p) => `${esc(p.from || T.nowhere)} → ${esc(p.to || T.nowhere)}${
  p.area_m2 !== undefined ? ` · ${esc(m2(p.area_m2))}` : ""}`;

export function impactHtml(impact) {
  if (!impact) return `<p>${esc(T.loading)}</p>`;
  const rows = impact.rows || [];
  if (!rows.length) return `<p id="no-impact">${esc(T.noImpact)}</p>`;
  const totals = impact.totals || {};
  const head = `<tr><th>${esc(T.from)}</th><th>${esc(T.to)}</th>${KINDS.map((k) => `<th class="num">${esc(T[k])}</th>`).join("")}</tr>`;
  const line = (r) => `<tr data-from="${esc(r.from || "")}" data-to="${esc(r.to || "")}"><td>${esc(r.from || T.nowhere)}</td><td>${
    esc(r.to || T.nowhere)}</td>${KINDS.map((k) => `<td class="num" data-kind="${k}">${r[k] ?? 0}</td>`).join("")}</tr>`;
  return `<div class="table-scroll"><table id="impact-table" class="impact"><thead>${head}</thead><tbody>${
    rows.map(line).join("")}</tbody><tfoot><tr class="totals"><th colspan="2">${esc(T.total)}</th>${
    KINDS.map((k) => `<td class="num" data-kind="${k}">${totals[k] ?? 0}</td>`).join("")}</tr></tfoot></table></div>`;
}

// The lock line: whose it is and until when, or that it lapsed.
export function lockText(d, author) {
  const when = fmt.datetime(d.lock_expires_at);
  return d.locked === false || new Date(d.lock_expires_at) < new Date()
    ? fill(T.lockExpired, { time: when }) : fill(T.lockUntil, { author, time: when });
}

export function appliedHtml(summary, config) {
  const counts = summary.moved || summary;
  const moved = Object.keys(counts).filter((k) => typeof counts[k] === "number")
    .map((k) => `<span data-moved="${esc(k)}">${esc(T[k] || k)} <b>${counts[k]}</b></span>`).join(" · ");
  const c = config.extent ? [(config.extent[0] + config.extent[2]) / 2, (config.extent[1] + config.extent[3]) / 2] : null;
  const url = c ? `${config.urls.map}?lon=${c[0].toFixed(6)}&lat=${c[1].toFixed(6)}&z=15` : config.urls.map;
  return `<div class="applied" id="applied">${esc(T.applied)} ${moved} · <a id="open-map" href="${esc(url)}">${esc(T.openMap)}</a></div>`;
}

export function stepsHtml(d) {
  const steps = d.steps || [];
  return steps.length ? `<ol id="steps">${steps.map((s) => `<li data-number="${s.number}" class="${
    (s.done === false || s.number > d.position) ? "undone" : ""}"><b>${esc(T[s.operation] || s.operation)}</b> ${
    esc(s.summary || "")}</li>`).join("")}</ol>` : "";
}

// The grid table, and above it the selected grid (rename while it may be edited, and its
// boundary history).
export function gridsHtml({ grids, selected, editable, historyUrl }) {
  const sel = selected.length === 1 ? grids.find((f) => f.properties.code === selected[0]) : null;
  let selectedHtml = "";
  if (sel) {
    const p = sel.properties;
    const history = p.grid_id ? historyUrl.replace("000000000000000", encodeURIComponent(p.code)) : null;
    selectedHtml = `<div class="selected-grid" data-code="${esc(p.code)}"><h3>${esc(T.selected)}: ${esc(p.code)}</h3>
      ${editable && actionOf(p) !== "retire" ? `<label>${esc(T.name)} <input id="rename-input" value="${esc(p.name)}" maxlength="100"></label>
      <button type="button" id="rename">${esc(T.rename)}</button>` : `<p>${esc(p.name)}</p>`}
      ${history ? ` <a href="${esc(history)}">${esc(T.history)}</a>` : ""}</div>`;
  }
  const rows = grids.map((f) => {
    const p = f.properties;
    const a = actionOf(p);
    return `<tr data-code="${esc(p.code)}" data-action="${esc(a)}" class="${selected.includes(p.code) ? "selected" : ""}"><td>${
      esc(p.code)}</td><td>${esc(p.name)}</td><td><span class="action action-${esc(a)}">${esc(ACTION_LABEL[a] || a)}</span></td></tr>`;
  }).join("");
  return { sel, html: `${selectedHtml}<div class="table-scroll"><table id="grid-table"><thead><tr><th>${esc(T.code)}</th><th>${
    esc(T.name)}</th><th>${esc(T.action)}</th></tr></thead><tbody>${rows}</tbody></table></div>` };
}
