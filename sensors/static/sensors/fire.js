// Fire mode (火情模式) on the command-centre map. While it is on, the map core hands every click
// to it (view.setClickMode: a click on a device symbol or a grid takes the fire point too); the
// fire-response API gives the nearest water tanks, the cameras that see the point and the voice
// poles around it. They are drawn on one GeoJSON source: reach circles, sectors, routes to the
// tanks, numbered points, and labels that MapLibre places without overlap (each tries several
// anchors, the nearest first; one that fits nowhere is dropped, the list in the panel has all).
import { call, esc } from "../gridline/api.js";
import { COLOURS, FirePanel, metres, tag } from "./fire-panel.js";

const _ = (s) => globalThis.gettext(s);
const API = "/api/sensors/";
const TANKS = 5;
const POLES_WITHIN_M = 1000;
const SOURCE = "fire";
const EARTH_RADIUS_M = 6371008.8;

// A circle of `radius` metres around [lon, lat] on the sphere (close enough to the spheroid
// for a drawing; the API's distances are the spheroid's).
function circle([lon, lat], radius, steps = 64) {
  const d = radius / EARTH_RADIUS_M;
  const φ1 = (lat * Math.PI) / 180;
  const λ1 = (lon * Math.PI) / 180;
  const ring = [];
  for (let i = 0; i <= steps; i += 1) {
    const θ = (2 * Math.PI * i) / steps;
    const φ2 = Math.asin(Math.sin(φ1) * Math.cos(d) + Math.cos(φ1) * Math.sin(d) * Math.cos(θ));
    const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(d) * Math.cos(φ1), Math.cos(d) - Math.sin(φ1) * Math.sin(φ2));
    ring.push([(λ2 * 180) / Math.PI, (φ2 * 180) / Math.PI]);
  }
  return { type: "Polygon", coordinates: [ring] };
}


const SPACE = "fire-space";
const LABEL_ANCHORS = ["left", "right", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right"];

function fireLayers(theme) {
  const halo = theme === "dark" ? "#0d1117" : "#ffffff";
  const kind = (k) => ["==", ["get", "kind"], k];
  const colour = ["match", ["get", "kind"], "tank", COLOURS.tank, "camera", COLOURS.camera, "pole", COLOURS.pole, COLOURS.fire];
  return [
    { id: "fire-reach", type: "fill", filter: kind("reach"),
      paint: { "fill-color": COLOURS.pole, "fill-opacity": ["case", ["get", "covers"], 0.1, 0.02] } },
    { id: "fire-reach-line", type: "line", filter: ["all", kind("reach"), ["get", "covers"]],
      paint: { "line-color": COLOURS.pole, "line-width": 2 } },
    { id: "fire-reach-far", type: "line", filter: ["all", kind("reach"), ["!", ["get", "covers"]]],
      paint: { "line-color": COLOURS.grey, "line-width": 1, "line-dasharray": [3, 3] } },
    { id: "fire-sector", type: "fill", filter: kind("sector"), paint: { "fill-color": COLOURS.camera, "fill-opacity": 0.15 } },
    { id: "fire-sector-line", type: "line", filter: kind("sector"), paint: { "line-color": COLOURS.camera, "line-width": 1.5 } },
    { id: "fire-route", type: "line", filter: kind("route"),
      paint: { "line-color": COLOURS.tank, "line-width": 2, "line-dasharray": [3, 2] } },
    { id: "fire-points", type: "circle", filter: ["all", ["has", "rank"], ["!", kind("fire")]],
      paint: { "circle-color": colour, "circle-radius": ["case", kind("tank"), 7, 6],
        // A device that is not online keeps its kind's colour, ringed in its status colour.
        "circle-stroke-color": ["coalesce", ["get", "ring"], "#ffffff"], "circle-stroke-width": 2 } },
    // Each point (the fire point too) holds a blank icon the size of its dot, so that no label
    // covers a point; the labels try eight places around their point and give way to the
    // nearest first.
    { id: "fire-labels", type: "symbol", filter: ["has", "rank"],
      layout: {
        "icon-image": SPACE, "icon-size": ["case", kind("fire"), 1.6, 1], "icon-allow-overlap": true,
        "text-field": ["get", "label"], "text-font": ["Gridline Sans"], "text-size": 12, "text-max-width": 30,
        "text-variable-anchor": LABEL_ANCHORS, "text-radial-offset": ["case", kind("fire"), 1.5, 1], "text-justify": "auto",
        "text-padding": 2, "text-allow-overlap": false, "text-optional": true,
        "symbol-sort-key": ["get", "rank"],
      },
      paint: { "text-color": colour, "text-halo-color": halo, "text-halo-width": 1.6 } },
  ];
}

function features(data, point) {
  const out = [];
  const add = (geometry, properties) => out.push({ type: "Feature", geometry, properties });
  add({ type: "Point", coordinates: point }, { kind: "fire", rank: -1, label: _("Fire point") });
  const ring = (s) => (s && s !== "online" ? (s === "fault" ? COLOURS.fire : COLOURS.grey) : null);
  data.poles.forEach((p) => add(circle(p.location, p.broadcast_radius), { kind: "reach", covers: !!p.covers }));
  data.cameras.forEach((c) => { if (c.sector) add(c.sector, { kind: "sector" }); });
  data.water_tanks.forEach((t) => add({ type: "LineString", coordinates: [point, t.location] }, { kind: "route" }));
  const points = (list, kind, text) => list.forEach((x, i) => {
    const p = { kind, id: x.id, rank: i * 3 + { tank: 0, camera: 1, pole: 2 }[kind], label: `${tag(kind, i + 1)} · ${text(x)}` };
    const r = ring(x.status);
    if (r) p.ring = r;
    add({ type: "Point", coordinates: x.location }, p);
  });
  points(data.water_tanks, "tank", (t) => `${metres(t.distance_m)}${t.level_pct != null ? ` · ${Math.round(t.level_pct)}%` : ""}`);
  points(data.cameras, "camera", (c) => metres(c.distance_m));
  points(data.poles, "pole", (p) => metres(p.distance_m));
  return { type: "FeatureCollection", features: out };
}

function boundsOf(collection, point) {
  let [w, s, e, n] = [point[0], point[1], point[0], point[1]];
  const visit = (c) => {
    if (typeof c[0] === "number") {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else c.forEach(visit);
  };
  collection.features.filter((f) => f.properties.kind !== "reach").forEach((f) => visit(f.geometry.coordinates));
  return [[w, s], [e, n]];
}

export function installFire(view, sensors) {
  const map = view.map;
  const fire = { on: false, seq: 0, point: null, marker: null, data: null };
  const theme = (view.meta && view.meta.theme) || "light";
  const panel = new FirePanel(view, sensors, fire);

  // ---- the toggle and the coordinates box, a map control at the top left -------------------
  const box = document.createElement("div");
  box.className = "fire-control maplibregl-ctrl maplibregl-ctrl-group";
  box.innerHTML = `<button type="button" id="fire-toggle" aria-pressed="false">${esc(_("Fire mode"))}</button>
    <form id="fire-form" hidden><div class="fire-hint">${esc(_("Click the map where the fire is, or type its coordinates."))}</div>
      <input id="fire-coords" placeholder="${esc(_("longitude, latitude"))}" aria-label="${esc(_("longitude, latitude"))}" autocomplete="off">
      <button type="submit" id="fire-go">${esc(_("Show"))}</button></form>`;
  map.addControl({ onAdd: () => box, onRemove: () => box.remove() }, "top-left");
  const toggle = box.querySelector("#fire-toggle");
  const form = box.querySelector("#fire-form");

  function ensureLayers() {
    if (!map.hasImage(SPACE)) {
      map.addImage(SPACE, { width: 32, height: 32, data: new Uint8Array(32 * 32 * 4) }, { pixelRatio: 2 });
    }
    if (!map.getSource(SOURCE)) map.addSource(SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    fireLayers(theme).forEach((layer) => { if (!map.getLayer(layer.id)) map.addLayer({ ...layer, source: SOURCE }); });
  }
  function clear() {
    if (fire.marker) fire.marker.remove();
    fire.marker = null;
    const source = map.getSource(SOURCE);
    if (source) source.setData({ type: "FeatureCollection", features: [] });
  }

  function setMode(on) {
    fire.on = on;
    fire.seq += 1;
    toggle.setAttribute("aria-pressed", String(on));
    toggle.classList.toggle("on", on);
    form.hidden = !on;
    document.body.dataset.fireMode = on ? "1" : "0";
    map.getContainer().classList.toggle("fire-cursor", on);
    view.setClickMode(on ? ({ lngLat }) => respond(lngLat.lng, lngLat.lat, false) : null);
    if (!on) {
      panel.stop();
      clear();
      panel.close();
    }
  }
  toggle.addEventListener("click", () => setMode(!fire.on));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const parts = box.querySelector("#fire-coords").value.split(/[\s,，]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v))) {
      panel.error(_("Type the coordinates as: longitude, latitude"));
      return;
    }
    respond(parts[0], parts[1], true);
  });

  async function respond(lon, lat, fly) {
    const seq = ++fire.seq;
    panel.stop();
    fire.point = [lon, lat];
    clear();
    const el = document.createElement("div");
    el.className = "fire-marker";
    el.innerHTML = "<span></span>";
    fire.marker = new view.maplibregl.Marker({ element: el }).setLngLat([lon, lat]).addTo(map);
    panel.loading();
    const query = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6), tanks: TANKS, poles_within: POLES_WITHIN_M });
    const result = await call(`${API}fire-response/?${query}`);
    if (seq !== fire.seq) return;  // a newer click, or fire mode was left
    if (!result.ok) {
      panel.failed(result.body);
      return;
    }
    fire.data = result.body;
    const point = result.body.point || fire.point;
    const collection = features(result.body, point);
    ensureLayers();
    map.getSource(SOURCE).setData(collection);
    panel.list(result.body);
    show(boundsOf(collection, point), fly);
  }

  // The part of the map the side panel leaves free (right of a desk screen, the bottom of a
  // phone's), as padding for fitBounds.
  function freePadding() {
    const box = map.getContainer().getBoundingClientRect();
    const m = box.width < 600 ? 20 : 50;  // a phone has little map to spare
    const pad = { top: m, bottom: m, left: m, right: m };
    const el = view.panel && view.panel.el;
    if (!el || el.hidden) return pad;
    const p = el.getBoundingClientRect();
    if (p.left > box.left + box.width / 2) pad.right = Math.max(m, box.right - p.left + m);
    else if (p.top > box.top + box.height / 3) pad.bottom = Math.max(m, box.bottom - p.top + m);
    return pad;
  }

  // Brings the fire point and what it found into the free part of the map: always after typed
  // coordinates, after a click only when something is hidden (never zooming in on a click).
  function show(bounds, fly) {
    const pad = freePadding();
    const { clientWidth: w, clientHeight: h } = map.getContainer();
    const inside = [bounds[0], bounds[1], [bounds[0][0], bounds[1][1]], [bounds[1][0], bounds[0][1]]].every((c) => {
      const q = map.project(c);
      return q.x >= pad.left && q.x <= w - pad.right && q.y >= pad.top && q.y <= h - pad.bottom;
    });
    if (inside && !fly) return;
    if (w - pad.left - pad.right < 60 || h - pad.top - pad.bottom < 60) return;  // no room to show it in
    // A camera computed with the padding, then jumped to without it: padding given to the
    // camera itself would stay on the map's transform.
    const camera = map.cameraForBounds(bounds, { padding: pad, maxZoom: fly ? 17 : map.getZoom() });
    if (camera) map.easeTo({ center: camera.center, zoom: camera.zoom, duration: 300 });
  }

  const api = { setMode, respond, state: fire, labels: "fire-labels", source: SOURCE };
  view.fire = api;
  return api;
}
