// The map core (issue #16, contract C): one MapLibre map drawn from the server's style
// (/api/map/style.json: a composite vector source "gridline" holding every registry layer
// that is on), with the layer panel, legend, search and side panel as controls, popups for
// every clickable thing, hover and selection by feature-state, a click mode that takes every
// click (fire mode), live updates, and the layer modules the registry names. The map page,
// /screen/ and the field app all build on createMap().
import * as maplibregl from "../../vendor/maplibre-gl/maplibre-gl.mjs";
import { json } from "../api.js";
import { maplibreLocale } from "../maplibre-words.js";
import { installClicks } from "./clicks.js";
import { installControls } from "./controls.js";
import { flash, marker } from "./marks.js";
import { installSearch } from "./search.js";
import { createTiles } from "./tiles.js";

// Tiles are parsed in MapLibre's workers: it starts floor(cores / 2) of them (one on a
// 2-core machine, parsing a whole screen of tiles one by one), and only when the first map is
// built. Two, started as soon as this module runs, while the page is still setting up.
if (maplibregl.getWorkerCount() < 2) maplibregl.setWorkerCount(2);
maplibregl.prewarm();

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const SOURCE = "gridline";

// PMTiles base maps (GRIDLINE_BASEMAP=pmtiles): the protocol comes from the vendored
// classic build (its ES build imports a bare "fflate" a browser cannot resolve).
async function registerPmtiles(style) {
  const uses = Object.values(style.sources || {}).some((s) => String(s.url || "").startsWith("pmtiles://")
    || (s.tiles || []).some((t) => String(t).startsWith("pmtiles://")));
  if (!uses || registerPmtiles.done) return;
  registerPmtiles.done = true;
  if (!globalThis.pmtiles) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL("../../vendor/pmtiles/pmtiles.js", import.meta.url).href;
      script.onload = resolve;
      script.onerror = () => reject(new Error("pmtiles"));
      document.head.append(script);
    });
  }
  const protocol = new globalThis.pmtiles.Protocol();
  maplibregl.addProtocol("pmtiles", protocol.tile);
}

// Where to look first: ?lon=&lat=&z= (a device's "show on map"), else the jurisdiction.
function initialView(meta) {
  const at = new URLSearchParams(window.location.search);
  const lon = Number(at.get("lon"));
  const lat = Number(at.get("lat"));
  if (at.has("lon") && at.has("lat") && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
    return { center: [lon, lat], zoom: Math.min(19, Math.max(3, Number(at.get("z")) || 16)) };
  }
  const e = meta.extent;
  if (e) return { bounds: [[e[0], e[1]], [e[2], e[3]]], fitBoundsOptions: { padding: 20 } };
  return { center: [105.93, 29.35], zoom: 10 };
}

export async function createMap(element, options = {}) {
  // modules: the layers' own modules (popups, fire mode...); off on forms that only place a point.
  const { controls = true, interactive = true, modules = true, live = true } = options;
  const given = typeof options.style === "string" ? await json(options.style) : options.style;
  const style = withPresetFigure(given);
  await registerPmtiles(style);
  const meta = style.metadata.gridline;
  document.body.dataset.mapReady = "0";
  const map = new maplibregl.Map({
    container: element,
    style,
    ...initialView(meta),
    minZoom: 3,
    maxZoom: 19,
    interactive,
    attributionControl: false,
    locale: maplibreLocale(), // MapLibre's own control titles and units in the page's language
    // Chinese is drawn with the browser's own font; the style's glyph files hold the rest.
    localIdeographFontFamily: "'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    canvasContextAttributes: { preserveDrawingBuffer: true },
    // Labels appear at once instead of fading in over 300 ms (the first render waits for it).
    fadeDuration: 0,
  });
  const view = {
    map, meta, maplibregl, element,
    state: { figures: {}, pending: 0 },
    layerMeta: Object.fromEntries(meta.layers.map((l) => [l.name, l])),
    clickMode: null,
    _handlers: {},
    _waits: new Set(),
  };
  view.layerIds = (name) => map.getStyle().layers
    .filter((l) => l.source === SOURCE && l["source-layer"] === name).map((l) => l.id);
  view.isOn = (name) => view.tiles.on.has(name);
  view.onFeatureClick = (layer, fn) => { view._handlers[layer] = fn; };
  view.setClickMode = (fn) => {
    view.clickMode = fn || null;
    map.getCanvas().style.cursor = fn ? "crosshair" : "";
    document.body.dataset.clickMode = fn ? "1" : "";
  };
  view.flash = (lngLat, opts) => flash(view, lngLat, opts);
  view.marker = (lngLat, label) => marker(view, lngLat, label);
  // A promise the first complete render waits for besides the tiles (the page's figures).
  view.waitFor = (promise) => {
    view._waits.add(promise);
    promise.finally(() => { view._waits.delete(promise); view._checkReady(); });
    return promise;
  };

  // What the page loads besides the tiles (its figures), counted in the first render.
  (options.waitFor || []).forEach((promise) => view.waitFor(promise));
  view.tiles = createTiles(view, SOURCE, style);
  if (controls) {
    installSearch(view); // first: the search box is the top-left control
    installControls(view);
  }
  else {
    view.legend = { add() {}, refresh() {} };
    view.panel = { open() {}, close() {} };
  }
  installClicks(view);
  installReady(view);
  window.gridlineMap = view;
  // The layers' modules load with the tiles and install once the style is in, so what they
  // add (images, a source, layers) is drawn in the frames the tiles cause anyway (each frame
  // costs ~0.25 s in a software-rendered 1080p canvas); the first render waits for them.
  // The first render waits for the modules of the layers that are on (their images, their
  // popups); the others (e.g. fire mode's control while sensors are off) install meanwhile.
  if (modules) installModules(view);
  await new Promise((resolve) => map.once("load", resolve));
  await view.tiles.start();
  // The field app has no session for /events/, and shows its own state instead.
  if (live) installLive(view);
  return view;
}

// document.body.dataset.mapReady is "1" once every source on is loaded and the page's own
// data is in, "0" while anything loads (tests and the bench wait for it); window.gridlineReadyAt
// is the first complete render in ms since navigation.
function installReady(view) {
  const { map } = view;
  let readyResolve;
  view.ready = new Promise((resolve) => { readyResolve = resolve; });
  view._checkReady = () => {
    if (view._waits.size || !view.tiles || !view.tiles.started) return;
    if (!map.loaded() || !map.areTilesLoaded()) return;
    document.body.dataset.mapReady = "1";
    if (window.gridlineReadyAt === undefined) {
      window.gridlineReadyAt = Math.round(performance.now());
      readyResolve(view);
    }
  };
  map.on("dataloading", () => { document.body.dataset.mapReady = "0"; });
  map.on("idle", () => view._checkReady());
}

// The grids' three colours come with their tiles, so a page that computes no figures (the
// wall screen) still shows them when its preset says so; the map page's chooser overrides.
// Set in the style the map starts from, not after its first render: a data-driven paint
// changed later makes MapLibre lay out every loaded tile again (≈0.5 s at district zoom).
const THREE_COLOURS = ["match", ["get", "colour"], "red", "#e06666", "yellow", "#f1c232", "blue", "#6fa8dc"];
function withPresetFigure(style) {
  const meta = style.metadata.gridline;
  const preset = (meta.presets || []).find((p) => p.name === meta.preset);
  if (!preset || preset.figure !== "colour") return style;
  const layers = style.layers.map((layer) => {
    if (layer.id !== "grids-fill") return layer;
    const base = (layer.paint || {})["fill-color"];
    const fallback = Array.isArray(base) && base[0] === "coalesce" ? base[2] : "#dfe5eb";
    return { ...layer, paint: { ...layer.paint, "fill-color": [...THREE_COLOURS, fallback] } };
  });
  return { ...style, layers };
}

// Each layer's own module (popups, panels, controls), as the registry names it: imported as
// soon as the page knows its style (loadModules, memoized: a page may start it before the
// map), installed when the style has loaded (a module may add images, sources and layers).
const imported = new Map();
export function loadModules(meta) {
  return meta.layers.filter((l) => l.module).map((layer) => {
    if (!imported.has(layer.module)) imported.set(layer.module, import(layer.module));
    return [layer, imported.get(layer.module)];
  });
}
function installModules(view) {
  const { map } = view;
  const styled = map.isStyleLoaded() ? Promise.resolve() : new Promise((resolve) => map.once("style.load", resolve));
  loadModules(view.meta).forEach(([layer, module]) => {
    const installed = Promise.all([module, styled])
      .then(([m]) => m.default(view, layer))
      .catch((err) => console.error(`${layer.module}: ${err.message}`));
    if (view.isOn(layer.name)) view.waitFor(installed);
  });
}

// Live (contract D): an event naming layers refreshes their tiles (debounced: a burst of
// events costs one TileJSON); a new incident or alert flashes where it is.
function installLive(view) {
  const stale = new Set();
  let timer = null;
  const handle = (data) => {
    (data.layers || []).forEach((name) => stale.add(name));
    if (stale.size) {
      clearTimeout(timer);
      timer = setTimeout(() => { view.refresh([...stale]); stale.clear(); }, 300);
    }
    const o = data.object || {};
    if ((data.kind === "incident.created" || data.kind === "alert.opened") && o.lon != null) {
      view.flash([o.lon, o.lat], {
        colour: data.kind === "alert.opened" ? "#d7301f" : "#e8590c",
        label: o.title || o.sensor_name || o.message || _("New"),
      });
    }
  };
  import("../live.js")
    .then((live) => { view.unsubscribeLive = live.subscribe(handle); })
    .catch((err) => console.warn(`live: ${err.message}`));
}
