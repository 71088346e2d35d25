// The sensor layers' module for the command-centre map (installed by the map core from the
// layer registry): the symbols of the roles in their status colours (drawn here as images, so
// no icon files and no fonts are needed), the coverage gaps' hatch, the popups of a device, a
// grid's coverage and a camera's sector, the legend block of the role shapes, and fire mode.
import { esc, fmt } from "../gridline/api.js";
import { installFire } from "./fire.js";

const _ = (s) => globalThis.gettext(s);

// One shape per role on an 18×18 box; Path2D takes SVG path data.
const SHAPES = {
  camera: "M4.5 2.5H13.5A2 2 0 0 1 15.5 4.5V13.5A2 2 0 0 1 13.5 15.5H4.5A2 2 0 0 1 2.5 13.5V4.5A2 2 0 0 1 4.5 2.5Z",
  voice_pole: "M9 1.5L16.5 15.5H1.5Z",
  water_tank: "M9 1.5C9 1.5 15 8.5 15 11.5A6 6 0 0 1 3 11.5C3 8.5 9 1.5 9 1.5Z",
  detector: "M9 1.5L16.5 9L9 16.5L1.5 9Z",
  other: "M9 2.5A6.5 6.5 0 1 1 8.99 2.5Z",
};
const RATIO = 2;
const SIZE = 18;
export const HATCH = "sensors-hatch";

function drawShape(role, fill, stroke, ratio = RATIO) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIZE * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  const path = new Path2D(SHAPES[role] || SHAPES.other);
  ctx.fillStyle = fill;
  ctx.fill(path);
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = stroke;
  ctx.stroke(path);
  return canvas;
}

// A small SVG of a role's shape for the legend and the popups (HTML, not the map canvas).
export function shapeSvg(role, fill, size = 14) {
  return `<svg class="sensor-shape" width="${size}" height="${size}" viewBox="0 0 18 18" aria-hidden="true"><path d="${
    SHAPES[role] || SHAPES.other}" fill="${esc(fill)}" stroke="#fff" stroke-width="1.5"/></svg>`;
}

function hatch() {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 8 * RATIO;
  const ctx = canvas.getContext("2d");
  ctx.scale(RATIO, RATIO);
  ctx.strokeStyle = "#57606a";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, 8);
  ctx.lineTo(8, 0);
  ctx.moveTo(-2, 2);
  ctx.lineTo(2, -2);
  ctx.moveTo(6, 10);
  ctx.lineTo(10, 6);
  ctx.stroke();
  return canvas;
}

function imageOf(id, statuses) {
  if (id === HATCH) return hatch();
  const m = /^sensor-([a-z_]+)-([a-z_]+)$/.exec(id);
  if (!m || !statuses[m[2]]) return null;
  return drawShape(m[1], statuses[m[2]], "#ffffff");
}

function addImage(map, id, statuses) {
  if (map.hasImage(id)) return;
  const canvas = imageOf(id, statuses);
  if (!canvas) return;
  const ctx = canvas.getContext("2d");
  map.addImage(id, ctx.getImageData(0, 0, canvas.width, canvas.height), { pixelRatio: RATIO });
}

function addImages(map, sensors) {
  const statuses = sensors.style.statuses;
  Object.keys(SHAPES).forEach((role) => Object.keys(statuses).forEach((status) => addImage(map, `sensor-${role}-${status}`, statuses)));
  addImage(map, HATCH, statuses);
  // A new style (the theme switched) starts without images: draw them again when asked.
  map.on("styleimagemissing", (ev) => addImage(map, ev.id, statuses));
}

const statusBadge = (sensors, status) => `<span class="sensor-status" data-status="${esc(status)}"><i class="dot" style="background:${
  esc(sensors.style.statuses[status] || "#8c959f")}"></i>${esc(sensors.style.statusLabels[status] || status)}</span>`;

const linkOf = (layer, id) => (layer.link ? layer.link.replace("{fid}", encodeURIComponent(id)) : null);

function devicePopup(sensors, p) {
  const types = Object.fromEntries(((sensors.filters.type || {}).choices || []).map(([v, label]) => [v, label]));
  const roleLabel = sensors.style.roles[p.role] || p.role;
  const href = linkOf(sensors, p.id);
  return `<div class="sensor-popup" data-sensor="${esc(p.id)}">
    <div class="sensor-popup-title">${shapeSvg(p.role, sensors.style.statuses[p.status] || "#8c959f", 16)}<b>${esc(p.name || p.code)}</b></div>
    <div class="muted">${esc(p.code)} · ${esc(types[p.type_code] || roleLabel)}</div>
    <div>${statusBadge(sensors, p.status)}</div>
    ${href ? `<a class="popup-link" href="${esc(href)}">${esc(_("Device page"))} ›</a>` : ""}</div>`;
}

// The layer's stylesheet, next to this module (the map page names no feature app).
function addStylesheet() {
  const href = new URL("./sensors.css", import.meta.url).href;
  if ([...document.styleSheets].some((sheet) => sheet.href === href)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.appendChild(link);
}

export default function install(view, layer) {
  const map = view.map;
  const meta = Object.fromEntries(view.meta.layers.map((l) => [l.name, l]));
  const sensors = meta.sensors || layer;
  if (view.sensorsInstalled) return;  // one module for the three sensor layers
  view.sensorsInstalled = true;
  addStylesheet();
  addImages(map, sensors);

  if (meta.sensors) {
    view.onFeatureClick("sensors", (feature) => {
      const p = feature.properties;
      // A grid's count or a cluster: the core zooms in to where the devices show, as it
      // does for every layer's aggregates.
      return p.n === undefined ? devicePopup(sensors, p) : null;
    });
  }
  if (meta.camera_coverage) {
    view.onFeatureClick("camera_coverage", (feature) => {
      const p = feature.properties;
      return `<div class="sensor-popup" data-grid="${esc(p.id)}"><b>${esc(p.name)}</b> <small class="muted">${esc(p.code)}</small>
        <div>${esc(_("share covered by cameras"))}: <b>${fmt.percent(p.share, 0)}</b></div>
        <div>${esc(_("cameras"))}: ${fmt.number(p.cameras)}</div></div>`;
    });
  }
  if (meta.camera_sectors && meta.sensors) {
    view.onFeatureClick("camera_sectors", (feature) => {
      const p = feature.properties;
      const href = linkOf(sensors, p.id);
      return `<div class="sensor-popup" data-sensor="${esc(p.id)}"><b>${esc(p.name || p.code)}</b> <small class="muted">${esc(p.code)}</small>
        <div>${esc(_("camera view sector"))} · ${statusBadge(sensors, p.status)}</div>
        ${href ? `<a class="popup-link" href="${esc(href)}">${esc(_("Device page"))} ›</a>` : ""}</div>`;
    });
  }
  if (meta.sensors && view.legend && view.legend.add) {
    // The role shapes, while single devices are on screen (the status colours are entries of
    // the layer's legend).
    view.legend.add("sensors-roles", () => {
      if (!view.isOn("sensors") || map.getZoom() < sensors.aggregatedBelow) return null;
      return `<div class="sensor-roles"><b>${esc(_("Device types"))}</b>${Object.entries(sensors.style.roles).map(([role, label]) =>
        `<div data-role="${esc(role)}">${shapeSvg(role, "#57606a")}${esc(label)}</div>`).join("")}</div>`;
    });
  }
  if (meta.sensors) installFire(view, sensors);
}
