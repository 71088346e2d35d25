// A small map on the OGC pages: one feature (the item page) or the page's features (the items
// page), in CRS84, over the site's base map. Page data sits in application/json blocks (no
// inline scripts: grids/csp.py); a feature of a page opens its own page when clicked.
import { addBasemap } from "../gridline/leaflet-base.js";

function draw(element) {
  const data = JSON.parse(document.getElementById("ogc-map-data").textContent);
  const basemap = JSON.parse(document.getElementById("ogc-basemap").textContent);
  const itemBase = element.dataset.itemBase;
  const map = L.map(element, { minZoom: 3, maxZoom: 20 });
  addBasemap(map, basemap);
  const layer = L.geoJSON(data, {
    // Points as filled dots (over a grid's outline); `style` applies to them too, hence the test.
    pointToLayer: (feature, latlng) => L.circleMarker(latlng),
    style: (feature) =>
      feature.geometry.type.endsWith("Point")
        ? { radius: 6, color: "#fff", weight: 2, fillColor: "#2b5d8a", fillOpacity: 0.9 }
        : { color: "#2b5d8a", weight: 2, fillOpacity: 0.15 },
    onEachFeature: (feature, l) => {
      if (!itemBase || feature.id === undefined) return;
      l.bindTooltip(String(feature.id));
      l.on("click", () => {
        window.location.href = `${itemBase}${encodeURIComponent(feature.id)}?f=html`;
      });
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
  else map.setView([29.35, 105.93], 12);

  // One feature on a closed network (no base map) is a dot on grey: draw the grid it belongs
  // to underneath, as the incident page does, from the same server. Only the grid: whoever
  // sees a feature sees its grid, not always its community (a grid worker's is a 404).
  const outline = document.querySelector("#feature-properties a[data-outline]");
  if (!outline) return;
  const url = `${new URL(outline.href).pathname}?f=json`;
  fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then((feature) => {
      if (!feature || !feature.geometry) return;
      const around = L.geoJSON(feature, {
        style: () => ({ color: "#5b6875", weight: 2, dashArray: "6 4", fillOpacity: 0.04 }),
        interactive: false,
      }).addTo(map);
      around.bringToBack();
      const both = around.getBounds().extend(bounds);
      if (both.isValid()) map.fitBounds(both, { padding: [20, 20], maxZoom: 17 });
    });
}

const element = document.getElementById("ogc-map");
if (element) draw(element);
