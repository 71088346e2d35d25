// A small map on the OGC pages: one feature (the item page) or the page's features (the items
// page), in CRS84, over the site's base map. Page data sits in application/json blocks (no
// inline scripts: grids/csp.py); a feature of a page opens its own page when clicked.
(() => {
  "use strict";
  const element = document.getElementById("ogc-map");
  if (!element) return;
  const data = JSON.parse(document.getElementById("ogc-map-data").textContent);
  const basemap = JSON.parse(document.getElementById("ogc-basemap").textContent);
  const itemBase = element.dataset.itemBase;
  const map = L.map(element, { minZoom: 3, maxZoom: 20 });
  window.gridline.addBasemap(map, basemap);
  const layer = L.geoJSON(data, {
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 6, color: "#2b5d8a" }),
    style: () => ({ color: "#2b5d8a", weight: 2, fillOpacity: 0.15 }),
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
})();
