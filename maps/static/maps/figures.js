// The grid choropleth of the map page: grids coloured by a figure of the roll-up (households,
// residents, share of elderly and children), by their three-colour status, by a 一表通
// indicator, or by the ledger's completeness. Colours go to the map as feature-state "fill"
// (the grids layer's style reads it); the legend block holds the chooser and the key.
import { esc, json } from "../gridline/api.js";
import { T } from "./words.js";

export const RAMP = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];
const COLOURS = { red: "#e06666", yellow: "#f1c232", blue: "#6fa8dc" };
// The ledger's completeness (on time, late, missing) and "no value": never the alarm red.
export const STATUS = { on_time: "#1a9850", late: "#f5a623", missing: "#8e6c8a" };
const NO_VALUE = "#e4e7eb";
const FIGURES = ["households", "residents", "oldyoung", "colour", "indicator", "completeness", "none"];
const NUMERIC = new Set(["integer", "decimal", "percentage", "boolean"]);
const PERIOD_MONTHS = { month: 1, quarter: 3, half_year: 6, year: 12 };
const PERIOD_COUNT = { month: 12, quarter: 8, half_year: 4, year: 5 };

export const number = (v, digits = 2) => {
  const n = Number(v);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits).replace(/\.?0+$/, "");
};
const pct = (r) => (r === null || r === undefined ? "–" : `${Math.round(r * 1000) / 10}%`);
export const toNumber = (v) => {
  if (v === null || v === undefined || v === "") return null;
  if (v === "是" || v === true) return 1;
  if (v === "否" || v === false) return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

export function createFigures(view, onChange) {
  const { map, meta } = view;
  const state = view.state;
  Object.assign(state, {
    figure: "households", figures: {}, colours: {}, breaks: [],
    indicators: null, groups: {}, indicator: null, period: null,
    ind: null, completeness: null, month: null, seq: 0, error: null,
  });
  const periodKey = (index, type) => {
    const year = Math.floor(index / 12);
    const m = index % 12;
    if (type === "month") return `${year}-${String(m + 1).padStart(2, "0")}`;
    if (type === "quarter") return `${year}-Q${m / 3 + 1}`;
    if (type === "half_year") return `${year}-H${m / 6 + 1}`;
    return `${year}`;
  };
  const periodsOf = (type) => {
    const step = PERIOD_MONTHS[type] || 1;
    const [y, mo] = meta.today.split("-").map(Number);
    const current = y * 12 + Math.floor((mo - 1) / step) * step;
    return Array.from({ length: PERIOD_COUNT[type] || 12 }, (_, i) => periodKey(current - (i + 1) * step, type));
  };
  const indicatorOf = (code) => (state.indicators || []).find((i) => i.code === code);
  const valueOf = (id) => {
    if (state.figure === "indicator") {
      const v = state.ind ? state.ind.values[id] : undefined;
      return v === undefined ? null : v;
    }
    const f = state.figures[id];
    if (!f) return null;
    if (state.figure === "households") return f.households;
    if (state.figure === "residents") return f.residents;
    if (state.figure === "oldyoung") return f.residents ? ((f.tags.elderly || 0) + (f.tags.child || 0)) / f.residents : 0;
    return null;
  };
  const computeBreaks = () => {
    const ids = state.figure === "indicator" && state.ind ? Object.keys(state.ind.values) : Object.keys(state.figures);
    const values = ids.map(valueOf).filter((v) => v !== null).sort((a, b) => a - b);
    state.breaks = values.length
      ? [...new Set([0.2, 0.4, 0.6, 0.8].map((q) => values[Math.floor(q * (values.length - 1))]))] : [];
  };
  const rampColour = (v) => {
    let i = 0;
    while (i < state.breaks.length && v > state.breaks[i]) i += 1;
    return RAMP[i];
  };
  const fillOf = (id) => {
    if (state.figure === "none") return null;
    if (state.figure === "colour") return COLOURS[state.colours[id]] || null;
    if (state.figure === "completeness") {
      const unit = state.completeness ? state.completeness.byId[id] : null;
      return unit ? STATUS[unit.status] : NO_VALUE;
    }
    const v = valueOf(id);
    if (state.figure === "indicator" && state.ind && state.ind.yesNo) return v === null ? NO_VALUE : (v ? RAMP[3] : RAMP[1]);
    return v === null ? (state.figure === "indicator" ? NO_VALUE : null) : rampColour(v);
  };
  view.fillOf = fillOf;

  // The grids' three colours come with their tiles: read them from what is loaded.
  const readColours = () => {
    map.querySourceFeatures("gridline", { sourceLayer: "grids" }).forEach((f) => {
      state.colours[f.properties.id ?? f.id] = f.properties.colour;
    });
  };
  const paint = () => {
    if (!map.getLayer("grids-fill")) return;
    const base = map.getPaintProperty("grids-fill", "fill-color");
    // The grids' own fill: the style's coalesce(feature-state, fill), or the three colours'
    // match (the core starts a "colour" preset with it); an unchanged paint costs no relayout.
    let fallback = "#dfe5eb";
    if (Array.isArray(base) && base[0] === "coalesce") fallback = base[2];
    else if (Array.isArray(base) && base[0] === "match") fallback = base[base.length - 1];
    // Set only when it differs: MapLibre redraws after any set (~0.25 s a frame in software).
    const setFill = (value) => {
      if (JSON.stringify(value) !== JSON.stringify(base)) map.setPaintProperty("grids-fill", "fill-color", value);
    };
    if (state.figure === "colour") {
      setFill(["match", ["get", "colour"], "red", COLOURS.red, "yellow", COLOURS.yellow, "blue", COLOURS.blue, fallback]);
      readColours();
      return;
    }
    setFill(["coalesce", ["feature-state", "fill"], fallback]);
    Object.keys(state.figures).forEach((id) => {
      map.setFeatureState({ source: "gridline", sourceLayer: "grids", id: Number(id) }, { fill: fillOf(id) });
    });
  };
  map.on("sourcedata", (e) => { if (e.sourceId === "gridline" && state.figure === "colour") readColours(); });

  const restyle = () => { computeBreaks(); paint(); view.legend.refresh(); onChange(); };
  // Runs `load` with the page not ready meanwhile; a load overtaken by a newer choice is dropped.
  const track = (load, apply) => {
    const seq = ++state.seq;
    const done = (async () => {
      try {
        const result = await load();
        if (seq === state.seq) apply(result);
      } catch (err) {
        if (seq === state.seq) state.error = err.message;
      } finally {
        if (seq === state.seq) restyle();
      }
    })();
    view.waitFor(done);
    return done;
  };

  function loadIndicator() {
    const ind = indicatorOf(state.indicator);
    const level = ind.level === "street" ? "street" : (ind.level === "community" ? "community" : "grid");
    state.ind = null;
    state.error = null;
    view.legend.refresh();
    track(() => json(`${meta.urls.indicators}${encodeURIComponent(ind.code)}/values/?period=${
      encodeURIComponent(state.period)}&level=${level}`), (data) => {
      const values = {};
      const units = {};
      if (level === "grid") {
        data.values.forEach((r) => {
          units[r.id] = r.code;
          const n = toNumber(r.value);
          if (n !== null) values[r.id] = n;
        });
      } else {
        Object.values(state.figures).forEach((g) => {
          const r = data.values.find((u) => g.code.startsWith(u.code));
          if (!r) return;
          units[g.id] = r.code;
          const n = toNumber(r.value);
          if (n !== null) values[g.id] = n;
        });
      }
      const present = Object.values(values);
      state.ind = {
        code: ind.code, period: data.period, level, values, units, count: present.length,
        missing: Object.keys(state.figures).filter((id) => !(id in values)).length,
        min: present.length ? Math.min(...present) : 0,
        yesNo: ind.value_type === "boolean" && level === "grid",
      };
    });
  }
  function chooseIndicator(code) {
    const ind = indicatorOf(code);
    if (!ind) return;
    state.indicator = code;
    if (!state.period || !periodsOf(ind.period_type).includes(state.period)) state.period = periodsOf(ind.period_type)[0];
    loadIndicator();
  }
  function loadCompleteness() {
    state.completeness = null;
    state.error = null;
    view.legend.refresh();
    track(() => json(`${meta.urls.completeness}?period=${encodeURIComponent(state.month)}&level=grid`), (data) => {
      state.completeness = { ...data, byId: Object.fromEntries(data.units.map((u) => [u.id, u])) };
    });
  }
  function choose(figure) {
    state.figure = FIGURES.includes(figure) ? figure : "households";
    state.error = null;
    if (state.figure === "indicator" && !state.indicators) {
      track(() => Promise.all([json(`${meta.urls.indicators}?active=1`), json(meta.urls.indicatorGroups)]),
        ([indicators, groups]) => {
          state.indicators = indicators.filter((i) => NUMERIC.has(i.value_type));
          state.groups = Object.fromEntries(groups.map((g) => [g.code, g.name]));
          if (state.indicators.length) chooseIndicator(state.indicators[0].code);
        });
    } else if (state.figure === "indicator" && !state.ind && state.indicator) {
      loadIndicator();
    } else if (state.figure === "completeness" && !state.completeness) {
      state.month = state.month || periodsOf("month")[0];
      loadCompleteness();
    }
    restyle();
  }

  // ---- the legend block: the chooser and the key of what the grids show ----------------
  const select = (id, options, chosen, label) => `<label>${esc(label)}<br><select id="${id}">${
    options}</select></label>`.replace(`value="${esc(chosen)}"`, `value="${esc(chosen)}" selected`);
  const periodOptions = (type) => periodsOf(type).map((k) => `<option value="${k}">${k}</option>`).join("");
  const key = (colour, text, attrs = "") => `<div class="legend-entry"${attrs}><i class="key key-fill" style="--key:${colour}"></i>${text}</div>`;
  const indicatorRows = () => {
    const groups = {};
    (state.indicators || []).forEach((i) => { (groups[i.group] = groups[i.group] || []).push(i); });
    const options = Object.entries(groups).map(([g, items]) => `<optgroup label="${esc(state.groups[g] || g)}">${
      items.map((i) => `<option value="${esc(i.code)}">${esc(i.name)}${i.unit ? ` (${esc(i.unit)})` : ""}</option>`).join("")}</optgroup>`).join("");
    const ind = indicatorOf(state.indicator);
    let html = select("indicator", options, state.indicator, T.indicatorName);
    if (!ind) return html + `<div>${esc(state.indicators ? T.noIndicators : T.loading)}</div>`;
    html += select("period", periodOptions(ind.period_type), state.period, T.period);
    if (!state.ind) return `${html}<div>${esc(state.error || T.loading)}</div>`;
    html += `<div class="legend-caption" data-indicator="${esc(ind.code)}" data-period="${esc(state.ind.period)}"><b>${
      esc(ind.name)}</b>${ind.unit ? ` (${esc(ind.unit)})` : ""} · ${esc(state.ind.period)}</div>`;
    let rows;
    if (state.ind.yesNo) rows = [key(RAMP[3], esc(T.yes)), key(RAMP[1], esc(T.no))];
    else {
      const f = (v) => (ind.value_type === "percentage" ? `${number(v, 1)}%` : number(v));
      const edges = [state.ind.min, ...state.breaks];
      rows = state.ind.count === 0 ? [] : RAMP.slice(0, edges.length).map((c, i) => key(c,
        i < state.breaks.length ? `${f(edges[i])}–${f(state.breaks[i])}` : `> ${f(edges[i])}`));
    }
    rows.push(`<div class="legend-entry" data-no-value="${state.ind.missing}"><i class="key no-value"></i>${
      esc(T.noValue)} (${state.ind.missing})</div>`);
    return html + rows.join("");
  };
  const completenessRows = () => {
    let html = select("month", periodOptions("month"), state.month, T.month);
    const c = state.completeness;
    if (!c) return `${html}<div>${esc(state.error || T.loading)}</div>`;
    const counts = { on_time: c.on_time, late: c.submitted - c.on_time, missing: c.expected - c.submitted };
    html += `<div class="legend-caption" data-period="${esc(c.period)}"><b>${esc(T.completeness)}</b> · ${esc(c.period)}</div>`;
    html += Object.entries(STATUS).map(([k, colour]) => key(colour, `${esc(T[k])} (${counts[k]})`, ` data-status="${k}"`)).join("");
    return `${html}<div class="legend-rates" data-reporting-rate="${c.reporting_rate ?? ""}" data-on-time-rate="${
      c.on_time_rate ?? ""}">${esc(T.reportingRate)}: <b>${pct(c.reporting_rate)}</b> · ${
      esc(T.onTimeRate)}: <b>${pct(c.on_time_rate)}</b></div>`;
  };
  const legendBlock = () => {
    // The grids are drawn from their layer's minimum zoom: no key for a choropleth not on screen.
    if (!view.isOn("grids") || map.getZoom() < (view.layerMeta.grids || {}).minZoom) return null;
    const options = FIGURES.map((k) => `<option value="${k}"${k === state.figure ? " selected" : ""}>${
      esc(k === "none" ? T.noFigure : T[k])}</option>`).join("");
    let rows = "";
    if (state.figure === "colour") rows = ["red", "yellow", "blue"].map((k) => key(COLOURS[k], esc(T[k]))).join("");
    else if (state.figure === "indicator") rows = indicatorRows();
    else if (state.figure === "completeness") rows = completenessRows();
    else if (state.figure !== "none") {
      const f = (v) => (state.figure === "oldyoung" ? `${Math.round(v * 100)}%` : Math.round(v));
      const edges = [0, ...state.breaks];
      rows = RAMP.slice(0, edges.length).map((c, i) => key(c,
        i < state.breaks.length ? `${f(edges[i])}–${f(state.breaks[i])}` : `> ${f(edges[i])}`)).join("");
    }
    return `<div class="legend figure-chooser" data-figure="${esc(state.figure)}"><label>${esc(T.figure)}<br><select id="figure">${
      options}</select></label>${rows}</div>`;
  };
  view.legend.add("figure", legendBlock);
  view.legend.el.addEventListener("change", (ev) => {
    const t = ev.target;
    if (t.id === "figure") choose(t.value);
    else if (t.id === "indicator") chooseIndicator(t.value);
    else if (t.id === "period") { state.period = t.value; loadIndicator(); }
    else if (t.id === "month") { state.month = t.value; loadCompleteness(); }
  });

  const load = async (pending = null) => {
    const data = await (pending || json(`${meta.urls.rollup}?level=grid`));
    state.figures = Object.fromEntries(data.results.map((r) => [r.id, r]));
    state.figuresLoaded = true;
    restyle();
  };
  return { choose, load, periodsOf, indicatorOf, restyle };
}
