// A grid's side panel on the map page: its figures, its latest households, and (when the
// map shows an indicator or the ledger's completeness) its value with the 12-period trend.
import { esc, json } from "../gridline/api.js";
import { STATUS, number, toNumber } from "./figures.js";
import { T } from "./words.js";

export function createGridPanel(view, figures) {
  const { meta, state } = view;

  async function openGrid(id) {
    const grid = await json(`${meta.urls.grids}${id}/`);
    const p = grid.properties;
    const recent = await json(`${meta.urls.households}?grid=${encodeURIComponent(p.code)}&page_size=5&ordering=-registered_on`);
    const f = state.figures[id];
    view.panel.open(`
      <h2>${esc(p.name)}</h2><div class="code">${esc(p.code)}</div>
      <dl>
        <dt>${esc(T.community)}</dt><dd>${esc(p.community_name)}</dd>
        <dt>${esc(T.colour)}</dt><dd>${esc(T[p.colour] || p.colour)}</dd>
        <dt>${esc(T.leader)}</dt><dd>${esc(p.leader || T.none)}</dd>
        <dt>${esc(T.workers)}</dt><dd>${esc((p.workers || []).join("、") || T.none)}</dd>
        <dt>${esc(T.households)}</dt><dd data-figure="households">${p.households}</dd>
        <dt>${esc(T.residents)}</dt><dd data-figure="residents">${p.residents}</dd>
        <dt>${esc(T.elderly)}</dt><dd data-figure="elderly">${f ? f.tags.elderly || 0 : "–"}</dd>
        <dt>${esc(T.children)}</dt><dd data-figure="child">${f ? f.tags.child || 0 : "–"}</dd>
      </dl>
      <h3>${esc(T.recent)}</h3>
      <ul>${recent.features.map((h) => `<li>${esc(h.properties.address)} <small>${
        esc(h.properties.registered_on)}</small></li>`).join("")}</ul>
      <section id="panel-indicator"></section>`, { key: `grid:${id}`, closed: () => {
      view.select("grids", null);
      delete view.panel.el.dataset.grid;
      delete view.panel.el.dataset.gridId;
    } });
    view.panel.el.dataset.grid = p.code;
    view.panel.el.dataset.gridId = id;
    view.select("grids", id);
    drawIndicator(id);
  }

  async function drawIndicator(id) {
    const box = document.getElementById("panel-indicator");
    if (!box) return;
    box.innerHTML = "";
    if (state.figure === "completeness" && state.completeness) {
      const unit = state.completeness.byId[id];
      if (unit) {
        box.innerHTML = `<h3>${esc(T.completeness)} · ${esc(state.completeness.period)}</h3><p data-status="${
          esc(unit.status)}"><i class="swatch" style="background:${STATUS[unit.status]}"></i>${esc(T[unit.status])}</p>`;
      }
      return;
    }
    const ind = figures.indicatorOf(state.indicator);
    if (state.figure !== "indicator" || !ind || !state.ind) return;
    const shown = { ...state.ind };
    const value = shown.values[id];
    const unitCode = shown.units[id] || (state.figures[id] || {}).code;
    const unitText = ind.unit ? ` ${esc(ind.unit)}` : "";
    const head = `<h3>${esc(ind.name)} · ${esc(shown.period)}</h3><p class="indicator-value"><b data-indicator-value="${
      value ?? ""}">${value === undefined ? esc(T.noValue) : esc(shown.yesNo ? (value ? T.yes : T.no) : number(value))}</b>${
      value === undefined ? "" : unitText}</p>`;
    box.innerHTML = `${head}<div class="trend">${esc(T.loading)}</div>`;
    if (!unitCode) { box.querySelector(".trend").textContent = ""; return; }
    try {
      const data = await json(`${meta.urls.indicators}${encodeURIComponent(ind.code)}/trend/?unit=${
        encodeURIComponent(unitCode)}&periods=12&end=${encodeURIComponent(shown.period)}`);
      if (view.panel.el.dataset.gridId !== String(id) || !state.ind || state.ind.code !== shown.code
        || state.ind.period !== shown.period) return;
      box.innerHTML = `${head}<h4>${esc(T.trend)}</h4>${trendChart(data.points, ind)}`;
    } catch (err) {
      box.querySelector(".trend").textContent = err.message;
    }
  }

  // A small bar chart in inline SVG: one bar per period (none where there is no value).
  function trendChart(points, ind) {
    const values = points.map((p) => toNumber(p.value));
    const present = values.filter((v) => v !== null && Number.isFinite(v));
    const W = 280; const H = 110; const left = 40; const top = 8; const bottom = 22;
    const lo = present.length ? Math.min(0, ...present) : 0;
    const hi = present.length ? Math.max(...present) : 1;
    const span = hi - lo || 1;
    const step = (W - left) / Math.max(points.length, 1);
    const y = (v) => top + (H - top - bottom) * (1 - (v - lo) / span);
    const fmt = (v) => (ind.value_type === "percentage" ? `${number(v, 1)}%` : number(v));
    const bars = points.map((p, i) => {
      const v = values[i];
      const x = left + i * step + step * 0.15;
      const w = step * 0.7;
      if (v === null || !Number.isFinite(v)) {
        return `<rect class="bar none" data-period="${esc(p.period)}" x="${x.toFixed(1)}" y="${
          (H - bottom - 1).toFixed(1)}" width="${w.toFixed(1)}" height="1"><title>${esc(p.label)}: ${esc(T.noValue)}</title></rect>`;
      }
      const y0 = y(Math.max(lo, 0));
      const y1 = y(v);
      return `<rect class="bar" data-period="${esc(p.period)}" data-value="${v}" x="${x.toFixed(1)}" y="${
        Math.min(y0, y1).toFixed(1)}" width="${w.toFixed(1)}" height="${Math.max(Math.abs(y0 - y1), 0.5).toFixed(1)}"><title>${
        esc(p.label)}: ${esc(fmt(v))}</title></rect>`;
    }).join("");
    const first = points[0];
    const last = points[points.length - 1];
    const min = present.length ? Math.min(...present) : null;
    const labels = present.length ? `<text x="${left - 4}" y="${(y(hi) + 4).toFixed(1)}" text-anchor="end" class="max">${
      esc(T.max)} ${esc(fmt(hi))}</text>${min === hi ? "" : `<text x="${left - 4}" y="${
      Math.max(y(min) + 3, y(hi) + 15).toFixed(1)}" text-anchor="end" class="min">${esc(T.min)} ${esc(fmt(min))}</text>`}` : "";
    return `<svg class="trend-chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" data-points="${
      points.length}" aria-label="${esc(ind.name)}">
      <line x1="${left}" x2="${W}" y1="${y(lo).toFixed(1)}" y2="${y(lo).toFixed(1)}" class="axis"/>
      ${bars}${labels}
      ${first ? `<text x="${left}" y="${H - 6}" class="first">${esc(first.period)}</text>` : ""}
      ${last ? `<text x="${W}" y="${H - 6}" text-anchor="end" class="last">${esc(last.period)}</text>` : ""}
    </svg>`;
  }

  return { openGrid, drawIndicator };
}
