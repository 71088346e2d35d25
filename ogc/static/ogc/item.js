// One feature on a small map (the item page of /ogc/): its geometry in CRS84, the site's
// base map. Page data sits in application/json blocks (no inline scripts: grids/csp.py).
(() => {
  "use strict";
  const element = document.getElementById("item-map");
  if (!element) return;
  const geometry = JSON.parse(document.getElementById("item-geometry").textContent);
  const basemap = JSON.parse(document.getElementById("item-basemap").textContent);
  const map = L.map(element, { minZoom: 3, maxZoom: 20 });
  window.gridline.addBasemap(map, basemap);
  const layer = L.geoJSON(geometry, {
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, color: "#2b5d8a" }),
    style: () => ({ color: "#2b5d8a", weight: 2, fillOpacity: 0.15 }),
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
  else map.setView([29.35, 105.93], 12);
})();
