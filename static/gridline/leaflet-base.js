// For the pages that stay on Leaflet (the boundary editor and history, the incident page's
// small map, the OGC pages): the site's base map layers from the page's config
// ([{url, options}], grids/basemap.py). Leaflet itself is a classic script (global L) loaded
// before the page's module, with its control words from leaflet-words.js.
export function addBasemap(map, basemap) {
  (basemap || []).forEach((b) => L.tileLayer(b.url, b.options).addTo(map));
}
