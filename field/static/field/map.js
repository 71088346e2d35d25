// The map of my grid: the platform's map core (createMap, the worker preset, no controls, no
// live stream) loaded only when a map is shown (MapLibre is ~300 KB compressed, more than the
// rest of the app), with the grid's outline, my position and its accuracy circle, and the
// working set's records (local edits included) as points on top.
import { registerProtocol, wrap } from "./tilecache.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
let loading = null;

function loadCss(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href }));
}

export function loadMapCore(app) {
  if (!loading) {
    loadCss(app.config.maplibreCss);
    loading = Promise.all([import(app.config.maplibre), import(app.config.mapcore)]).then(([maplibregl, core]) => {
      registerProtocol(maplibregl, app);
      return { maplibregl, core };
    });
    loading.catch(() => { loading = null; });
  }
  return loading;
}

// The style of the worker preset: fetched with the token when online and kept for offline.
async function styleOf(app) {
  const tiles = await app.store.meta("tiles");
  const url = (tiles && tiles.style) || "/api/map/style.json?preset=worker";
  if (navigator.onLine !== false) {
    const r = await app.api(url);
    if (r.ok && r.body) {
      await app.store.meta("style", r.body);
      return r.body;
    }
  }
  const kept = await app.store.meta("style");
  if (kept) return kept;
  throw new Error(_("The map has not been loaded on this phone yet; open it once with signal."));
}

// Tile URLs go through the fieldtile protocol (token + offline cache), now and after every
// renewal the core makes (its setTiles on the composite source).
function routeTiles(style) {
  const copy = JSON.parse(JSON.stringify(style));
  Object.values(copy.sources || {}).forEach((source) => {
    if (source.tiles) source.tiles = source.tiles.map((t) => (t.startsWith("/") || t.startsWith(window.location.origin) ? wrap(t) : t));
  });
  return copy;
}
function keepRouting(view) {
  const source = view.map.getSource("gridline");
  if (!source || source._fieldWrapped) return;
  const setTiles = source.setTiles.bind(source);
  source.setTiles = (urls) => setTiles(urls.map(wrap));
  source._fieldWrapped = true;
}

function circle(lon, lat, radius, steps = 48) {
  const ring = [];
  const dLat = radius / 111320;
  const dLon = radius / (111320 * Math.cos((lat * Math.PI) / 180));
  for (let i = 0; i <= steps; i += 1) {
    const a = (i / steps) * 2 * Math.PI;
    ring.push([lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)]);
  }
  return { type: "Polygon", coordinates: [ring] };
}

const STATE_COLOURS = ["match", ["get", "state"], "saved", "#b35c00", "conflict", "#d7301f", "refused", "#d7301f", "#1c7ed6"];

async function recordFeatures(app) {
  const features = [];
  const add = (set, kind, rec) => {
    if (rec.lon === undefined || rec.lon === null || rec.lat === undefined || rec.lat === null) return;
    features.push({ type: "Feature", geometry: { type: "Point", coordinates: [Number(rec.lon), Number(rec.lat)] },
      properties: { set, kind, id: String(rec.id), state: rec._state || "", label: rec.address || rec.name || rec.category_name || "" } });
  };
  for (const rec of await app.store.all("incidents")) add("incidents", "incident", rec);
  // Households, buildings and units are in the tiles; only those edited on the phone are drawn.
  for (const set of ["households", "buildings", "units"]) {
    for (const rec of await app.store.all(set)) if (rec._state) add(set, "record", rec);
  }
  return { type: "FeatureCollection", features };
}

function addOverlays(view, app) {
  const { map } = view;
  const grid = app.me && app.me.grid;
  map.addSource("field-grid", { type: "geojson", data: grid && grid.boundary ? { type: "Feature", geometry: grid.boundary, properties: {} } : { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "field-grid-line", type: "line", source: "field-grid", paint: { "line-color": "#12324f", "line-width": 3, "line-dasharray": [2, 1] } });
  map.addSource("field-records", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "field-records", type: "circle", source: "field-records",
    paint: { "circle-radius": 7, "circle-color": ["case", ["==", ["get", "kind"], "incident"], "#e8590c", "#52606d"],
      "circle-stroke-width": 3, "circle-stroke-color": STATE_COLOURS } });
  map.addSource("field-me", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "field-me-accuracy", type: "fill", source: "field-me", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#1c7ed6", "fill-opacity": 0.15, "fill-outline-color": "#1c7ed6" } });
  map.addLayer({ id: "field-me-dot", type: "circle", source: "field-me", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 8, "circle-color": "#1c7ed6", "circle-stroke-width": 3, "circle-stroke-color": "#ffffff" } });

  const showMe = (p) => {
    const source = map.getSource("field-me");
    if (!source) return;
    source.setData(p ? { type: "FeatureCollection", features: [
      { type: "Feature", geometry: circle(p.lon, p.lat, Math.max(5, p.accuracy || 0)), properties: {} },
      { type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] }, properties: {} },
    ] } : { type: "FeatureCollection", features: [] });
  };
  const showRecords = async () => {
    const source = map.getSource("field-records");
    if (source) source.setData(await recordFeatures(app));
  };
  showMe(app.position);
  const reload = () => showRecords();
  view.fieldShowRecords = showRecords;
  app.addEventListener("position", (e) => showMe(e.detail));
  app.addEventListener("synced", reload);
  app.addEventListener("outbox", reload);
  return showRecords();
}

// createGridMap(el, app, {onClick}) → the view (map core) with the grid's overlays, fitted to
// the grid. onClick({lon, lat}, features) takes every tap when given (the point picker).
export async function createGridMap(element, app, { onClick = null } = {}) {
  const { core } = await loadMapCore(app);
  const style = routeTiles(await styleOf(app));
  const view = await core.createMap(element, { style, controls: false, modules: false, live: false });
  keepRouting(view);
  const bbox = app.me && app.me.grid && app.me.grid.bbox;
  if (bbox) view.map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 24, animate: false });
  await addOverlays(view, app);
  if (onClick) view.setClickMode(({ lngLat }) => onClick({ lon: lngLat.lng, lat: lngLat.lat }));
  else {
    view.map.on("click", "field-records", (e) => {
      const f = e.features && e.features[0];
      if (!f) return;
      const { set, id } = f.properties;
      app.go(set === "incidents" ? `/incidents/${id}` : `/${set}/${id}`);
    });
    view.onFeatureClick("incidents", (f) => { app.go(`/incidents/${f.properties.id ?? f.id}`); return true; });
    view.onFeatureClick("households", (f) => { app.go(`/households/${f.properties.id ?? f.id}`); return true; });
  }
  return view;
}

// Centre on me (the "my position" button).
export function centreOn(view, position) {
  if (!view || !position) return;
  view.map.easeTo({ center: [position.lon, position.lat], zoom: Math.max(view.map.getZoom(), 17), duration: 300 });
}
