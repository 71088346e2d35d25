// The command-centre map page (一屏统揽): the map core with the user's style (embedded in
// the page; a preset this user picked before is asked for instead), the grid choropleth and
// its chooser, a grid's panel, and the figures of what is in view.
import { esc, json } from "../gridline/api.js";
import { createMap, loadModules } from "../gridline/map/index.js";
import { presetKey } from "../gridline/map/controls.js";
import { createFigures } from "./figures.js";
import { createGridPanel } from "./grid-panel.js";
import { T } from "./words.js";

async function start() {
  let style = JSON.parse(document.getElementById("map-style").textContent);
  const meta = style.metadata.gridline;
  let remembered = null;
  try {
    remembered = localStorage.getItem(presetKey(meta));
  } catch {
    // storage off: the role's default
  }
  const asked = new URLSearchParams(window.location.search).get("preset");
  if (!asked && remembered && remembered !== meta.preset && (meta.presets || []).some((p) => p.name === remembered)) {
    style = await json(`/api/map/style.json?preset=${encodeURIComponent(remembered)}`);
  }
  // The layers' modules (and what they import) load while MapLibre starts, not after.
  loadModules(style.metadata.gridline);
  // The grid figures load while the map starts; the first complete render waits for them.
  const rollup = json(`${style.metadata.gridline.urls.rollup}?level=grid`);
  let figured;
  const applied = new Promise((resolve) => { figured = resolve; });
  const view = await createMap(document.getElementById("map"), { style, controls: true, waitFor: [applied] });
  const figures = createFigures(view, () => {
    const id = view.panel.el.dataset.gridId;
    if (id) panel.drawIndicator(Number(id));
  });
  const panel = createGridPanel(view, figures);
  view.openGrid = panel.openGrid;
  const preset = (view.meta.presets || []).find((p) => p.name === view.meta.preset);
  view.state.figure = preset ? preset.figure : "households";

  view.onFeatureClick("grids", (feature) => {
    panel.openGrid(feature.properties.id ?? feature.id).catch((err) => console.error(err.message));
    return true;
  });
  window.addEventListener("gridline:search", (ev) => {
    // A household opens the panel of its grid: the panel never shows a grid the pin is not in.
    const grid = ev.detail.type === "grid" ? ev.detail.id : ev.detail.grid_id;
    if (grid) panel.openGrid(grid).catch((err) => console.error(err.message));
    else view.panel.close();
  });
  window.addEventListener("gridline:preset", (ev) => figures.choose(ev.detail.figure));

  // ---- figures for the current view ----
  const strip = document.getElementById("view-figures");
  const updateView = async () => {
    const b = view.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(6));
    try {
      const data = await json(`${view.meta.urls.rollup}?level=grid&bbox=${bbox.join(",")}`);
      const sum = (f) => data.results.reduce((acc, r) => acc + f(r), 0);
      strip.innerHTML = `${esc(T.inView)}: <b>${data.results.length}</b> ${esc(T.grids)} · <b>${
        sum((r) => r.households)}</b> ${esc(T.households)} · <b>${sum((r) => r.residents)}</b> ${
        esc(T.residents)} · <b>${sum((r) => r.tags.elderly || 0)}</b> ${esc(T.elderly)} · <b>${
        sum((r) => r.tags.child || 0)}</b> ${esc(T.children)}`;
      strip.dataset.households = sum((r) => r.households);
    } catch (err) {
      strip.textContent = err.message;
    }
  };
  let timer;
  view.map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(updateView, 250); });
  try {
    await figures.load(rollup);
    figures.choose(view.state.figure);
  } finally {
    figured();
  }
  updateView();
}

start().catch((err) => {
  console.error(err);
  document.body.dataset.mapError = err.message;
});
