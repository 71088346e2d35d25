// The command-centre map (一屏统揽): vector tiles from /tiles/, grids coloured by a figure
// from the roll-up API, a side panel for a clicked grid, figures for the current view and a
// search that flies to its result. Plain JavaScript, no CDN: every file is served by the app.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const T = JSON.parse(document.getElementById("map-i18n").textContent);
  const RAMP = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];
  const COLOURS = { red: "#d7301f", yellow: "#f2c12e", blue: "#3b7dd8" };
  // Grid fills of the ledger's completeness (on time, late, missing) and of "no value".
  const STATUS = { on_time: "#1a9850", late: "#f5a623", missing: "#d7301f" };
  const NO_VALUE = "#e4e7eb";
  const state = {
    figure: "households", figures: {}, breaks: [], pending: 0, busy: 0,
    // 一表通: loaded on first use. ind: the chosen indicator's values per grid id.
    indicators: null, groups: {}, indicator: null, period: null,
    ind: null, completeness: null, month: null, seq: 0,
  };

  const map = L.map("map", { zoomControl: true, minZoom: 3, maxZoom: 19 });
  L.control.scale({ imperial: false }).addTo(map);
  config.basemap.forEach((b) => L.tileLayer(b.url, b.options).addTo(map));
  const e = config.extent;
  if (e) map.fitBounds([[e[1], e[0]], [e[3], e[2]]]);
  else map.setView([29.35, 105.93], 10);
  // A link to a place (a device's "show on map"): ?lon=&lat=&z= centres the view there.
  const at = new URLSearchParams(window.location.search);
  const atLon = Number(at.get("lon")), atLat = Number(at.get("lat"));
  if (at.has("lon") && at.has("lat") && Math.abs(atLon) <= 180 && Math.abs(atLat) <= 90) {
    map.setView([atLat, atLon], Math.min(19, Math.max(3, Number(at.get("z")) || 16)));
  }

  const json = async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  };
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  // ---- periods (keys as the reports API writes them: 2026-10, 2026-Q4, 2026-H2, 2026) ----
  const PERIOD_MONTHS = { month: 1, quarter: 3, half_year: 6, year: 12 };
  const PERIOD_COUNT = { month: 12, quarter: 8, half_year: 4, year: 5 };
  const periodKey = (index, type) => {  // index: months since year 0 of the period's start
    const year = Math.floor(index / 12);
    const m = index % 12;
    if (type === "month") return `${year}-${String(m + 1).padStart(2, "0")}`;
    if (type === "quarter") return `${year}-Q${m / 3 + 1}`;
    if (type === "half_year") return `${year}-H${m / 6 + 1}`;
    return `${year}`;
  };
  // The last complete periods of a type, newest first (the first is the default).
  const periodsOf = (type) => {
    const step = PERIOD_MONTHS[type] || 1;
    const [y, mo] = config.today.split("-").map(Number);
    const current = y * 12 + Math.floor((mo - 1) / step) * step;
    return Array.from({ length: PERIOD_COUNT[type] || 12 },
      (_, i) => periodKey(current - (i + 1) * step, type));
  };

  // ---- figures per grid and the choropleth -------------------------------------------
  const valueOf = (id) => {
    if (state.figure === "indicator") {
      const v = state.ind ? state.ind.values[id] : undefined;
      return v === undefined ? null : v;
    }
    const f = state.figures[id];
    if (!f) return null;
    if (state.figure === "households") return f.households;
    if (state.figure === "residents") return f.residents;
    if (state.figure === "oldyoung") {
      return f.residents ? ((f.tags.elderly || 0) + (f.tags.child || 0)) / f.residents : 0;
    }
    return null;
  };
  const computeBreaks = () => {
    const ids = state.figure === "indicator" && state.ind
      ? Object.keys(state.ind.values) : Object.keys(state.figures);
    const values = ids.map(valueOf).filter((v) => v !== null).sort((a, b) => a - b);
    // Quintile breaks, without repeats (few distinct values give fewer classes).
    state.breaks = values.length
      ? [...new Set([0.2, 0.4, 0.6, 0.8].map((q) => values[Math.floor(q * (values.length - 1))]))]
      : [];
  };
  const rampColour = (v) => {
    let i = 0;
    while (i < state.breaks.length && v > state.breaks[i]) i += 1;
    return RAMP[i];
  };
  const fillOf = (props) => {
    if (state.figure === "colour") return COLOURS[props.colour] || "#ccc";
    if (state.figure === "completeness") {
      const unit = state.completeness ? state.completeness.byId[props.id] : null;
      return unit ? STATUS[unit.status] : NO_VALUE;
    }
    if (state.figure === "indicator" && state.ind && state.ind.yesNo) {
      const v = valueOf(props.id);
      return v === null ? NO_VALUE : (v ? RAMP[3] : RAMP[1]);
    }
    const v = valueOf(props.id);
    return v === null ? (state.figure === "indicator" ? NO_VALUE : "#ddd") : rampColour(v);
  };
  const gridStyle = (props) => {
    const fill = fillOf(props);
    const none = fill === NO_VALUE;
    return { fill: true, fillColor: fill, fillOpacity: none ? 0.35 : 0.55,
      color: "#5b6875", weight: 0.6, dashArray: none ? "3 3" : null };
  };

  // ---- layers -------------------------------------------------------------------------
  const layers = {};
  const overlays = {};
  // A layer with per-status colours (incidents): points coloured by status, overdue ones
  // ringed; below its aggregation zoom, grid polygons shaded by their count (`code` + `n`).
  const densityColour = (ramp, n) => ramp[Math.min(ramp.length - 1, Math.floor(Math.log2(n || 1)))];
  const statusStyle = (layer, props) => {
    const s = layer.style;
    if (props.code !== undefined && props.n !== undefined) {
      return { fill: true, fillColor: densityColour(s.density, props.n), fillOpacity: 0.6,
        color: "#a50f15", weight: 0.8 };
    }
    if (props.status === undefined) {  // a cluster of points
      return { radius: Math.min(4 + 2.5 * Math.log10((props.n || 1) + 1), 14), fill: true,
        fillOpacity: 0.85, fillColor: s.color, color: "#fff", weight: 1 };
    }
    return { radius: s.radius || 6, fill: true, fillOpacity: 0.9,
      fillColor: s.statuses[props.status] || s.color,
      color: props.step_overdue ? "#000" : "#fff", weight: props.step_overdue ? 2.5 : 1 };
  };
  // Other apps style their own layers: window.gridlineLayerStyles[name](props, zoom, layer),
  // set by a script loaded after this one (read when a tile is drawn).
  const styleFor = (layer) => (props, zoom) => {
    const own = (window.gridlineLayerStyles || {})[layer.name];
    if (own) return own(props, zoom, layer);
    if (layer.name === "grids") return gridStyle(props);
    if (layer.style.statuses) return statusStyle(layer, props);
    if (layer.kind === "point") {
      const n = props.n || 1;
      return {
        // Aggregates grow with the log of their count, so a thousand stays readable.
        radius: props.n ? Math.min(3 + 2.5 * Math.log10(n + 1), 12) : (layer.style.radius || 3),
        fill: true, fillOpacity: 0.8, fillColor: layer.style.color, color: "#fff", weight: 1,
      };
    }
    return { ...layer.style, fill: false };
  };
  config.layers.forEach((layer) => {
    const vg = L.vectorGrid.protobuf(layer.url, {
      vectorTileLayerStyles: { [layer.name]: styleFor(layer) },
      interactive: true,
      minZoom: layer.minZoom,
      maxNativeZoom: 18,
      getFeatureId: (f) => f.properties.id,
      fetchOptions: { credentials: "same-origin" },
      pane: layer.kind === "polygon" ? "overlayPane" : "markerPane",
    });
    vg.layerName = layer.name;
    layers[layer.name] = vg;
    overlays[layer.title] = vg;
    vg.on("loading", () => { state.pending += 1; ready(false); });
    vg.on("load", () => { state.pending = Math.max(0, state.pending - 1); ready(); });
    vg.on("click", (ev) => onClick(layer, ev.layer.properties, ev.latlng));
    // Layers marked "off" (e.g. a choropleth over the grids) wait for the layer switcher.
    if (layer.name !== "communities" && !layer.style.off) vg.addTo(map);
  });
  const layerControl = L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map);

  // The page says it is done when every visible layer has its tiles and the figures are in,
  // and the indicator or completeness being shown has its values (the browser tests and the
  // render benchmark wait for it).
  function ready(done = true) {
    const now = done && state.pending === 0 && state.busy === 0 && state.figuresLoaded;
    document.body.dataset.mapReady = now ? "1" : "0";
    // The first complete render, in ms since navigation started (the render benchmark).
    if (now && window.gridlineReadyAt === undefined) window.gridlineReadyAt = performance.now();
  }
  // Runs `load` with the page not done meanwhile; a load overtaken by a newer choice is
  // dropped. `apply` gets the result; the grids are restyled before the page is done again.
  const track = async (load, apply) => {
    const seq = ++state.seq;
    state.busy += 1;
    ready(false);
    try {
      const result = await load();
      if (seq === state.seq) apply(result);
    } catch (err) {
      if (seq === state.seq) state.error = err.message;
    } finally {
      if (seq === state.seq) restyle();
      state.busy -= 1;
      ready();
    }
  };
  // Restyles the grids. Not below the layer's minimum zoom: there it has no tiles to restyle,
  // and Leaflet's redraw() would load tiles of that zoom anyway and could stay "loading"
  // for ever (the page never done); tiles loaded later take the current style.
  const redrawGrids = () => {
    const grids = layers.grids;
    if (!grids || !map.hasLayer(grids)) return;
    if (grids.options.minZoom !== undefined && map.getZoom() < grids.options.minZoom) return;
    grids.redraw();
  };
  const restyle = () => {
    computeBreaks();
    drawLegend();
    redrawGrids();
    const grid = panel.hidden ? null : panel.dataset.gridId;
    if (grid) drawPanelIndicator(Number(grid));
  };

  // ---- legend with the figure chooser ----------------------------------------------------
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  const FIGURES = ["households", "residents", "oldyoung", "colour", "indicator", "completeness"];
  const number = (v, digits = 2) => {
    const n = Number(v);
    return Number.isInteger(n) ? String(n) : n.toFixed(digits).replace(/\.?0+$/, "");
  };
  const indicatorOf = (code) => (state.indicators || []).find((i) => i.code === code);
  const pct = (r) => (r === null || r === undefined ? "–" : `${Math.round(r * 1000) / 10}%`);
  const select = (id, options, chosen, label) => `<label>${esc(label)}<br><select id="${id}">${
    options}</select></label>`.replace(`value="${esc(chosen)}"`, `value="${esc(chosen)}" selected`);
  const periodOptions = (type) => periodsOf(type).map((k) => `<option value="${k}">${k}</option>`).join("");

  const indicatorRows = () => {
    const groups = {};
    (state.indicators || []).forEach((i) => { (groups[i.group] = groups[i.group] || []).push(i); });
    const options = Object.entries(groups).map(([g, items]) => `<optgroup label="${
      esc(state.groups[g] || g)}">${items.map((i) => `<option value="${esc(i.code)}">${
      esc(i.name)}${i.unit ? ` (${esc(i.unit)})` : ""}</option>`).join("")}</optgroup>`).join("");
    const ind = indicatorOf(state.indicator);
    let html = select("indicator", options, state.indicator, T.indicatorName);
    if (!ind) return html + (state.indicators ? `<div>${esc(T.noIndicators)}</div>` : `<div>${esc(T.loading)}</div>`);
    html += select("period", periodOptions(ind.period_type), state.period, T.period);
    if (!state.ind) return `${html}<div>${esc(state.error || T.loading)}</div>`;
    const unit = ind.unit ? ` (${esc(ind.unit)})` : "";
    html += `<div class="legend-caption" data-indicator="${esc(ind.code)}" data-period="${
      esc(state.ind.period)}"><b>${esc(ind.name)}</b>${unit} · ${esc(state.ind.period)}</div>`;
    let rows;
    if (state.ind.yesNo) {
      rows = [[RAMP[3], T.yes], [RAMP[1], T.no]].map(([c, t]) => `<div><i style="background:${c}"></i>${esc(t)}</div>`);
    } else {
      const fmt = (v) => (ind.value_type === "percentage" ? `${number(v, 1)}%` : number(v));
      const edges = [state.ind.min, ...state.breaks];
      rows = state.ind.count === 0 ? [] : RAMP.slice(0, edges.length).map((c, i) => `<div><i style="background:${c}"></i>${
        i < state.breaks.length ? `${fmt(edges[i])}–${fmt(state.breaks[i])}` : `> ${fmt(edges[i])}`}</div>`);
    }
    rows.push(`<div data-no-value="${state.ind.missing}"><i class="no-value"></i>${esc(T.noValue)} (${state.ind.missing})</div>`);
    return html + rows.join("");
  };
  const completenessRows = () => {
    let html = select("month", periodOptions("month"), state.month, T.month);
    const c = state.completeness;
    if (!c) return `${html}<div>${esc(state.error || T.loading)}</div>`;
    const counts = { on_time: c.on_time, late: c.submitted - c.on_time, missing: c.expected - c.submitted };
    html += `<div class="legend-caption" data-period="${esc(c.period)}"><b>${esc(T.completeness)}</b> · ${esc(c.period)}</div>`;
    html += Object.entries(STATUS).map(([k, colour]) => `<div data-status="${k}"><i style="background:${
      colour}"></i>${esc(T[k])} (${counts[k]})</div>`).join("");
    return `${html}<div class="legend-rates" data-reporting-rate="${c.reporting_rate ?? ""}" data-on-time-rate="${
      c.on_time_rate ?? ""}">${esc(T.reportingRate)}: <b>${pct(c.reporting_rate)}</b> · ${
      esc(T.onTimeRate)}: <b>${pct(c.on_time_rate)}</b></div>`;
  };

  const drawLegend = () => {
    const div = legend.getContainer();
    const options = FIGURES
      .map((k) => `<option value="${k}"${k === state.figure ? " selected" : ""}>${esc(T[k])}</option>`)
      .join("");
    let rows;
    if (state.figure === "colour") {
      rows = Object.entries(COLOURS).map(([k, c]) => `<div><i style="background:${c}"></i>${esc(T[k])}</div>`);
    } else if (state.figure === "indicator") {
      rows = [indicatorRows()];
    } else if (state.figure === "completeness") {
      rows = [completenessRows()];
    } else {
      const fmt = (v) => (state.figure === "oldyoung" ? `${Math.round(v * 100)}%` : Math.round(v));
      const edges = [0, ...state.breaks];
      rows = RAMP.slice(0, edges.length).map((c, i) => `<div><i style="background:${c}"></i>${
        i < state.breaks.length ? `${fmt(edges[i])}–${fmt(state.breaks[i])}` : `> ${fmt(edges[i])}`}</div>`);
    }
    // Layers coloured by status add their own key below the figure's.
    const keys = config.layers.filter((l) => l.style.statuses).map((l) => {
      const seen = new Set();
      const items = Object.entries(l.style.statuses).filter(([, c]) => !seen.has(c) && seen.add(c));
      return `<div class="legend-layer"><b>${esc(l.title)}</b>${items.map(([k, c]) =>
        `<div><i class="dot" style="background:${c}"></i>${esc((l.style.statusLabels || {})[k] || k)}</div>`)
        .join("")}</div>`;
    });
    div.innerHTML = `<label>${esc(T.figure)}<br><select id="figure">${options}</select></label>${
      rows.join("")}${keys.join("")}`;
    div.dataset.figure = state.figure;
    div.querySelector("#figure").addEventListener("change", (ev) => chooseFigure(ev.target.value));
    const on = (id, f) => { const el = div.querySelector(`#${id}`); if (el) el.addEventListener("change", (ev) => f(ev.target.value)); };
    on("indicator", (code) => chooseIndicator(code));
    on("period", (key) => { state.period = key; loadIndicator(); });
    on("month", (key) => { state.month = key; loadCompleteness(); });
  };

  // ---- 一表通: an indicator's values, or the ledger's completeness, per grid ----------------
  const NUMERIC = new Set(["integer", "decimal", "percentage", "boolean"]);
  function chooseFigure(figure) {
    state.figure = figure;
    state.error = null;
    if (figure === "indicator" && !state.indicators) {
      track(() => Promise.all([
        json(`${config.urls.indicators}?active=1`), json(config.urls.indicatorGroups),
      ]), ([indicators, groups]) => {
        state.indicators = indicators.filter((i) => NUMERIC.has(i.value_type));
        state.groups = Object.fromEntries(groups.map((g) => [g.code, g.name]));
        if (state.indicators.length) chooseIndicator(state.indicators[0].code);
      });
    } else if (figure === "indicator" && !state.ind && state.indicator) {
      loadIndicator();
    } else if (figure === "completeness" && !state.completeness) {
      state.month = state.month || periodsOf("month")[0];
      loadCompleteness();
    }
    restyle();
  }
  function chooseIndicator(code) {
    const ind = indicatorOf(code);
    if (!ind) return;
    state.indicator = code;
    if (!state.period || !periodsOf(ind.period_type).includes(state.period)) {
      state.period = periodsOf(ind.period_type)[0];
    }
    loadIndicator();
  }
  // Each grid's value: its own, or (an indicator collected per community or street) that of
  // the unit whose code its code begins with; `units` keeps which unit that is (the trend).
  function loadIndicator() {
    const ind = indicatorOf(state.indicator);
    const level = ind.level === "street" ? "street" : (ind.level === "community" ? "community" : "grid");
    state.ind = null;
    state.error = null;
    drawLegend();
    track(() => json(`${config.urls.indicators}${encodeURIComponent(ind.code)}/values/?period=${
      encodeURIComponent(state.period)}&level=${level}`), (data) => {
      const toNumber = (v) => {
        if (v === null || v === undefined || v === "") return null;
        if (v === "是" || v === true) return 1;
        if (v === "否" || v === false) return 0;
        const n = Number(v);
        return Number.isFinite(n) ? n : null;
      };
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
        code: ind.code, period: data.period, level, values, units,
        count: present.length,
        missing: Object.keys(state.figures).filter((id) => !(id in values)).length,
        min: present.length ? Math.min(...present) : 0,
        yesNo: ind.value_type === "boolean" && level === "grid",
      };
    });
  }
  function loadCompleteness() {
    state.completeness = null;
    state.error = null;
    drawLegend();
    track(() => json(`${config.urls.completeness}?period=${encodeURIComponent(state.month)}&level=grid`),
      (data) => {
        state.completeness = { ...data, byId: Object.fromEntries(data.units.map((u) => [u.id, u])) };
      });
  }

  const loadFigures = async () => {
    const data = await json(`${config.urls.rollup}?level=grid`);
    state.figures = Object.fromEntries(data.results.map((r) => [r.id, r]));
    state.figuresLoaded = true;
    computeBreaks();
    drawLegend();
    redrawGrids();
    ready();
  };

  // ---- figures for the current view ------------------------------------------------------
  const viewBox = document.getElementById("view-figures");
  const updateView = async () => {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(6));
    try {
      const data = await json(`${config.urls.rollup}?level=grid&bbox=${bbox.join(",")}`);
      const sum = (f) => data.results.reduce((acc, r) => acc + f(r), 0);
      viewBox.innerHTML = `${esc(T.inView)}: <b>${data.results.length}</b> ${esc(T.grids)} · <b>${
        sum((r) => r.households)}</b> ${esc(T.households)} · <b>${sum((r) => r.residents)}</b> ${
        esc(T.residents)} · <b>${sum((r) => r.tags.elderly || 0)}</b> ${esc(T.elderly)} · <b>${
        sum((r) => r.tags.child || 0)}</b> ${esc(T.children)}`;
      viewBox.dataset.households = sum((r) => r.households);
    } catch (err) {
      viewBox.textContent = err.message;
    }
  };
  let viewTimer;
  map.on("moveend", () => { clearTimeout(viewTimer); viewTimer = setTimeout(updateView, 250); });

  // ---- side panel for a grid -------------------------------------------------------------
  const panel = document.getElementById("panel");
  const panelBody = document.getElementById("panel-body");
  document.getElementById("panel-close").addEventListener("click", () => {
    panel.hidden = true;
    delete panel.dataset.gridId;
  });
  async function openGrid(id) {
    const grid = await json(`${config.urls.grids}${id}/`);
    const p = grid.properties;
    const f = state.figures[id];
    const recent = await json(
      `${config.urls.households}?grid=${encodeURIComponent(p.code)}&page_size=5&ordering=-registered_on`);
    panelBody.innerHTML = `
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
      <section id="panel-indicator"></section>`;
    panel.dataset.grid = p.code;
    panel.dataset.gridId = id;
    panel.hidden = false;
    drawPanelIndicator(id);
  }

  // The chosen indicator's value for the grid and its trend over the last 12 periods (up to
  // the one shown), or the grid's ledger status when the map shows completeness.
  async function drawPanelIndicator(id) {
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
    const ind = indicatorOf(state.indicator);
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
      const data = await json(`${config.urls.indicators}${encodeURIComponent(ind.code)}/trend/?unit=${
        encodeURIComponent(unitCode)}&periods=12&end=${encodeURIComponent(shown.period)}`);
      // Still the same grid and indicator?
      if (panel.dataset.gridId !== String(id) || !state.ind || state.ind.code !== shown.code
        || state.ind.period !== shown.period) return;
      box.innerHTML = `${head}<h4>${esc(T.trend)}</h4>${trendChart(data.points, ind)}`;
    } catch (err) {
      box.querySelector(".trend").textContent = err.message;
    }
  }

  // A small bar chart in inline SVG: one bar per period (none where there is no value), the
  // first and last period below, the minimum and maximum on the left.
  function trendChart(points, ind) {
    const toNumber = (v) => (v === "是" ? 1 : v === "否" ? 0 : (v === null || v === "" ? null : Number(v)));
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
    const labels = present.length ? `
      <text x="${left - 4}" y="${(y(hi) + 4).toFixed(1)}" text-anchor="end" class="max">${
        esc(T.max)} ${esc(fmt(hi))}</text>${min === hi ? "" : `
      <text x="${left - 4}" y="${Math.max(y(min) + 3, y(hi) + 15).toFixed(1)}" text-anchor="end" class="min">${
        esc(T.min)} ${esc(fmt(min))}</text>`}` : "";
    return `<svg class="trend-chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" data-points="${
      points.length}" aria-label="${esc(ind.name)}">
      <line x1="${left}" x2="${W}" y1="${y(lo).toFixed(1)}" y2="${y(lo).toFixed(1)}" class="axis"/>
      ${bars}${labels}
      ${first ? `<text x="${left}" y="${H - 6}" class="first">${esc(first.period)}</text>` : ""}
      ${last ? `<text x="${W}" y="${H - 6}" text-anchor="end" class="last">${esc(last.period)}</text>` : ""}
    </svg>`;
  }
  function onClick(layer, props, latlng) {
    // Another mode (fire response) takes the map's clicks for itself.
    if (window.gridlineMap.clickMode) return;
    if (layer.style.link && props.status !== undefined) {
      // A feature with a page of its own (an incident): a popup linking to it.
      const url = layer.style.link.replace("{fid}", encodeURIComponent(props.id));
      L.popup().setLatLng(latlng).setContent(`<a class="feature-link" href="${esc(url)}">${
        esc(props.title || props.id)}</a><br><small>${
        esc((layer.style.statusLabels || {})[props.status] || props.status)}</small>`).openOn(map);
    } else if (layer.style.link && props.code !== undefined && props.n !== undefined) {
      map.flyTo(latlng, layer.aggregatedBelow || map.getZoom() + 1, { duration: 0.6 });
    } else if (layer.name === "grids") openGrid(props.id);
    else if (layer.name === "households" && props.code) {
      // An aggregate: zoom into its grid.
      search(props.code, true);
    }
  }

  // ---- search ----------------------------------------------------------------------------
  const input = document.getElementById("search");
  const list = document.getElementById("search-results");
  const flyTo = (r) => {
    if (r.extent) {
      map.flyToBounds([[r.extent[1], r.extent[0]], [r.extent[3], r.extent[2]]], { duration: 0.6 });
      if (r.type === "grid") openGrid(r.id);
    } else if (r.point) {
      map.flyTo([r.point[1], r.point[0]], 17, { duration: 0.6 });
    }
    list.hidden = true;
  };
  async function search(q, go = false) {
    if (q.trim().length < 2) { list.hidden = true; return; }
    const data = await json(`${config.urls.search}?q=${encodeURIComponent(q.trim())}`);
    if (go && data.results.length) { flyTo(data.results[0]); return; }
    list.innerHTML = data.results.length
      ? data.results.map((r, i) => `<li tabindex="0" data-i="${i}">${esc(r.label)}${
        r.grid ? `<small>${esc(r.grid)}</small>` : ""}</li>`).join("")
      : `<li>${esc(T.noResults)}</li>`;
    list.hidden = false;
    list.querySelectorAll("li[data-i]").forEach((li) => {
      const go2 = () => flyTo(data.results[Number(li.dataset.i)]);
      li.addEventListener("click", go2);
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") go2(); });
    });
  }
  let searchTimer;
  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(input.value), 250);
  });
  input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") search(input.value, true); });

  // fillOf: the fill a grid has under the figure shown (the browser tests read it).
  // Also the small API other apps' scripts build on (sensors: filters, fire mode).
  window.gridlineMap = {
    map, layers, state, openGrid, fillOf: (id) => fillOf({ id }),
    config, T, esc, json, layerControl, clickMode: null, redrawLegend: () => drawLegend(),
  };
  loadFigures().then(updateView).catch((err) => { viewBox.textContent = err.message; });
})();
