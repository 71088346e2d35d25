// The /field/patrols/ page (issue #18): the month's patrol tracks on the map core, one colour
// per grid worker (a GeoJSON source over the platform's grids), the latest patrols listed; a
// worker's row or a listed patrol shows its tracks on the map, a click on a track says whose.
import { createMap } from "../gridline/map/index.js";
import { esc, fmt, json } from "../gridline/api.js";

const config = JSON.parse(document.getElementById("patrols-config").textContent);
const T = {
  none: gettext("No patrols in this month."),
  failed: gettext("The patrols could not be loaded"),
  minutes: gettext("%s min"),
  km: gettext("%s km"),
  found: gettext("%s incidents found"),
};
// Distinct on the light base map and from the grids' own outlines.
const COLOURS = ["#d9480f", "#1971c2", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599", "#c2255c", "#5c940d"];
const SHOWN = new Set(["grids", "grid_names"]);
const list = document.getElementById("patrol-list");
const params = new URLSearchParams({ date_from: config.date_from, date_to: config.date_to, limit: "1000" });
const loaded = json(`${config.api}?${params}`);

function colourOf(rows) {
  const workers = [...new Set(rows.map((r) => r.worker))].sort();
  return Object.fromEntries(workers.map((w, i) => [w, COLOURS[i % COLOURS.length]]));
}

function features(rows, colours) {
  return {
    type: "FeatureCollection",
    features: rows.filter((r) => r.track).map((r) => ({
      type: "Feature",
      id: r.id,
      geometry: r.track,
      properties: { id: r.id, worker: r.worker, name: r.worker_name, colour: colours[r.worker] },
    })),
  };
}

function describe(r) {
  const minutes = Math.round(r.duration_s / 60);
  const found = r.incident_ids.length ? ` · ${interpolate(T.found, [r.incident_ids.length])}` : "";
  return `${fmt.datetime(r.started_at)} · ${interpolate(T.minutes, [minutes])} · `
    + `${interpolate(T.km, [fmt.number(r.distance_m / 1000, 2)])}${found}`;
}

function renderList(rows, colours) {
  if (!rows.length) {
    list.innerHTML = `<li class="muted">${esc(T.none)}</li>`;
    return;
  }
  list.innerHTML = rows.slice(0, 30).map((r) => `
    <li><a href="#" data-show-patrol="${r.id}"><span class="swatch" style="background:${colours[r.worker]}"></span>
      <b>${esc(r.worker_name)}</b> <span class="muted">${esc(r.grid_name)}</span></a>
      <div class="muted">${esc(describe(r))}</div></li>`).join("");
}

function boundsOf(collection) {
  let box = null;
  collection.features.forEach((f) => f.geometry.coordinates.forEach(([x, y]) => {
    box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)] : [x, y, x, y];
  }));
  return box && [[box[0], box[1]], [box[2], box[3]]];
}

async function drawTracks(rows, colours) {
  const element = document.getElementById("patrols-map");
  const view = await createMap(element, { style: config.style, controls: false, modules: false, live: false });
  view.setLayers(Object.fromEntries(view.meta.layers.map((l) => [l.name, SHOWN.has(l.name)])));
  view.map.addControl(new view.maplibregl.NavigationControl({ showCompass: false }), "top-left");
  const all = features(rows, colours);
  view.map.addSource("patrols", { type: "geojson", data: all });
  view.map.addLayer({
    id: "patrol-tracks",
    type: "line",
    source: "patrols",
    layout: { "line-cap": "round", "line-join": "round" },
    paint: { "line-color": ["get", "colour"], "line-width": ["interpolate", ["linear"], ["zoom"], 12, 2, 17, 5], "line-opacity": 0.85 },
  });
  const fit = (collection) => {
    const bounds = boundsOf(collection);
    if (bounds) view.map.fitBounds(bounds, { padding: 40, maxZoom: 17, duration: 0 });
  };
  fit(all);
  const show = (predicate) => {
    const some = { ...all, features: all.features.filter((f) => predicate(f.properties)) };
    view.map.getSource("patrols").setData(some.features.length ? some : all);
    fit(some.features.length ? some : all);
  };
  document.addEventListener("click", (event) => {
    const worker = event.target.closest("[data-show-worker]");
    const patrol = event.target.closest("[data-show-patrol]");
    if (!worker && !patrol) return;
    event.preventDefault();
    if (worker) show((p) => p.worker === worker.dataset.showWorker);
    else show((p) => String(p.id) === patrol.dataset.showPatrol);
  });
  view.map.on("click", "patrol-tracks", (event) => {
    const p = event.features[0].properties;
    const row = rows.find((r) => String(r.id) === String(p.id));
    new view.maplibregl.Popup().setLngLat(event.lngLat)
      .setHTML(`<b>${esc(p.name)}</b><br>${esc(row ? describe(row) : "")}`).addTo(view.map);
  });
  view.map.on("mouseenter", "patrol-tracks", () => { view.map.getCanvas().style.cursor = "pointer"; });
  view.map.on("mouseleave", "patrol-tracks", () => { view.map.getCanvas().style.cursor = ""; });
  document.body.dataset.patrolsReady = "1";
}

loaded.then((rows) => {
  const colours = colourOf(rows);
  renderList(rows, colours);
  return drawTracks(rows, colours);
}).catch((err) => {
  list.innerHTML = `<li class="flash">${esc(T.failed)}: ${esc(err.message)}</li>`;
  document.body.dataset.patrolsReady = "error";
});
