// The command-centre map (一屏统揽): vector tiles from /tiles/, grids coloured by a figure
// from the roll-up API, a side panel for a clicked grid, figures for the current view and a
// search that flies to its result. Plain JavaScript, no CDN: every file is served by the app.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const T = JSON.parse(document.getElementById("map-i18n").textContent);
  const RAMP = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];
  const COLOURS = { red: "#d7301f", yellow: "#f2c12e", blue: "#3b7dd8" };
  const state = { figure: "households", figures: {}, breaks: [], pending: 0 };

  const map = L.map("map", { zoomControl: true, minZoom: 3, maxZoom: 19 });
  L.control.scale({ imperial: false }).addTo(map);
  config.basemap.forEach((b) => L.tileLayer(b.url, b.options).addTo(map));
  const e = config.extent;
  if (e) map.fitBounds([[e[1], e[0]], [e[3], e[2]]]);
  else map.setView([29.35, 105.93], 10);

  const json = async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  };
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  // ---- figures per grid and the choropleth -------------------------------------------
  const valueOf = (id) => {
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
    const values = Object.keys(state.figures).map(valueOf).filter((v) => v !== null)
      .sort((a, b) => a - b);
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
  const gridStyle = (props) => {
    const fill = state.figure === "colour"
      ? COLOURS[props.colour] || "#ccc"
      : (valueOf(props.id) === null ? "#ddd" : rampColour(valueOf(props.id)));
    return { fill: true, fillColor: fill, fillOpacity: 0.55, color: "#5b6875", weight: 0.6 };
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
  const styleFor = (layer) => (props, zoom) => {
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
    if (layer.name !== "communities") vg.addTo(map);
  });
  L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map);

  // The page says it is done when every visible layer has its tiles and the figures are in
  // (the browser tests and the render benchmark wait for it).
  function ready(done = true) {
    const now = done && state.pending === 0 && state.figuresLoaded;
    document.body.dataset.mapReady = now ? "1" : "0";
    // The first complete render, in ms since navigation started (the render benchmark).
    if (now && window.gridlineReadyAt === undefined) window.gridlineReadyAt = performance.now();
  }

  // ---- legend with the figure chooser ----------------------------------------------------
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(map);
  const drawLegend = () => {
    const div = legend.getContainer();
    const options = ["households", "residents", "oldyoung", "colour"]
      .map((k) => `<option value="${k}"${k === state.figure ? " selected" : ""}>${esc(T[k])}</option>`)
      .join("");
    let rows;
    if (state.figure === "colour") {
      rows = Object.entries(COLOURS).map(([k, c]) => `<div><i style="background:${c}"></i>${esc(T[k])}</div>`);
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
    div.querySelector("#figure").addEventListener("change", (ev) => {
      state.figure = ev.target.value;
      computeBreaks();
      drawLegend();
      if (layers.grids) layers.grids.redraw();
    });
  };

  const loadFigures = async () => {
    const data = await json(`${config.urls.rollup}?level=grid`);
    state.figures = Object.fromEntries(data.results.map((r) => [r.id, r]));
    state.figuresLoaded = true;
    computeBreaks();
    drawLegend();
    if (layers.grids) layers.grids.redraw();
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
  document.getElementById("panel-close").addEventListener("click", () => { panel.hidden = true; });
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
        esc(h.properties.registered_on)}</small></li>`).join("")}</ul>`;
    panel.dataset.grid = p.code;
    panel.hidden = false;
  }
  function onClick(layer, props, latlng) {
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

  window.gridlineMap = { map, layers, state, openGrid };
  loadFigures().then(updateView).catch((err) => { viewBox.textContent = err.message; });
})();
