// A grid's boundary history: every version on a small map, the current one solid, earlier
// ones dashed; "show" fits the map to a version and highlights it.
import { addBasemap } from "../gridline/leaflet-base.js";

const outlines = JSON.parse(document.getElementById("history-outlines").textContent);
const basemap = JSON.parse(document.getElementById("history-basemap").textContent);
const map = L.map("history-map", { minZoom: 3, maxZoom: 20 });
addBasemap(map, basemap);
const byId = {};
const style = (p, on) => ({
  color: p.current ? "#2b5d8a" : "#7b3fb5", weight: on ? 4 : 2,
  dashArray: p.current ? null : "6 5", fillOpacity: on ? 0.25 : 0.05,
});
const layer = L.geoJSON(outlines, {
  style: (f) => style(f.properties, false),
  onEachFeature: (f, l) => {
    byId[f.properties.id] = l;
    l.bindTooltip(`${f.properties.valid_from} – ${f.properties.valid_to || ""}`);
  },
}).addTo(map);
if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [20, 20] });
else map.setView([29.35, 105.93], 12);
document.querySelectorAll(".show-version").forEach((b) => b.addEventListener("click", () => {
  Object.values(byId).forEach((l) => l.setStyle(style(l.feature.properties, false)));
  const l = byId[b.dataset.version];
  if (!l) return;
  l.setStyle(style(l.feature.properties, true));
  l.bringToFront();
  map.fitBounds(l.getBounds(), { padding: [20, 20] });
}));
