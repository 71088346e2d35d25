// Marks on the map that are not data: a pulsing ring where something just happened (a new
// incident, an alert: ~10 s) and the pin of a searched place (one at a time).
import { esc } from "../api.js";

const FLASH_MS = 10000;

export function flash(view, lngLat, { colour = "#e8590c", label = "" } = {}) {
  const el = document.createElement("div");
  el.className = "map-flash";
  el.style.setProperty("--flash", colour);
  el.innerHTML = `<span class="ring"></span><span class="dot"></span>${
    label ? `<span class="flash-label">${esc(label)}</span>` : ""}`;
  const mark = new view.maplibregl.Marker({ element: el }).setLngLat(lngLat).addTo(view.map);
  document.body.dataset.flashes = String(Number(document.body.dataset.flashes || 0) + 1);
  setTimeout(() => mark.remove(), FLASH_MS);
  return mark;
}

export function marker(view, lngLat, label) {
  if (view._place) view._place.remove();
  const el = document.createElement("div");
  el.className = "map-place";
  el.innerHTML = `<span class="pin"></span>${label ? `<span class="place-label">${esc(label)}</span>` : ""}`;
  view._place = new view.maplibregl.Marker({ element: el, anchor: "bottom" }).setLngLat(lngLat).addTo(view.map);
  return view._place;
}
