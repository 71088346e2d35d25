// Search: grids by code or name, households by address (the server scopes both); the picked
// place gets a pin and the map flies there. Listeners of "gridline:search" (the map page
// opens a grid's panel) get the result.
import { esc, json } from "../api.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

export function installSearch(view) {
  const { map, meta } = view;
  const el = document.createElement("div");
  el.className = "maplibregl-ctrl map-search";
  el.innerHTML = `<input id="search" type="search" autocomplete="off" placeholder="${
    esc(_("Grid code, grid name or address"))}" aria-label="${esc(_("Search"))}">
    <ul id="search-results" hidden></ul>`;
  const input = el.querySelector("input");
  const list = el.querySelector("ul");

  view.go = (r) => {
    list.hidden = true;
    let centre = null;
    if (r.extent) {
      const [x0, y0, x1, y1] = r.extent;
      map.fitBounds([[x0, y0], [x1, y1]], { padding: 60, duration: 600, maxZoom: 17 });
      centre = [(x0 + x1) / 2, (y0 + y1) / 2];
    } else if (r.point) {
      map.flyTo({ center: r.point, zoom: 17, duration: 600 });
      centre = r.point;
    }
    if (centre) view.marker(centre, r.label);
    window.dispatchEvent(new CustomEvent("gridline:search", { detail: r }));
  };
  view.search = async (q, go = false) => {
    if (q.trim().length < 2) { list.hidden = true; return; }
    const data = await json(`${meta.urls.search}?q=${encodeURIComponent(q.trim())}`);
    if (go && data.results.length) { view.go(data.results[0]); return; }
    list.innerHTML = data.results.length
      ? data.results.map((r, i) => `<li tabindex="0" data-i="${i}">${esc(r.label)}${
        r.grid ? `<small>${esc(r.grid)}</small>` : ""}</li>`).join("")
      : `<li>${esc(_("Nothing found"))}</li>`;
    list.hidden = false;
    list.querySelectorAll("li[data-i]").forEach((li) => {
      const pick = () => view.go(data.results[Number(li.dataset.i)]);
      li.addEventListener("click", pick);
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(); });
    });
  };
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => view.search(input.value).catch((err) => console.error(err.message)), 250);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") view.search(input.value, true).catch((err) => console.error(err.message));
  });
  map.addControl({ onAdd: () => el, onRemove: () => el.remove() }, "top-left");
}
