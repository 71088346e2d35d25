// Which registry layers are on, with which filters, and the one composite tile URL for them.
// The server signs the URL and embeds every layer's data version in it (long browser
// caching), so a toggle, a filter, a live event or the signature's expiry all come down to:
// ask /api/map/tiles.json again and hand MapLibre the new URL if it changed.
import { call } from "../api.js";

const REFRESH_MS = 20 * 60 * 1000; // when the URL says nothing about its expiry
const EARLY_MS = 5 * 60 * 1000; // renew this long before the signature expires

export function createTiles(view, sourceId, style) {
  const { map, meta } = view;
  const source = () => map.getSource(sourceId);
  const known = new Set(meta.layers.map((l) => l.name));
  const tiles = {
    started: false,
    on: new Set(meta.on || style.layers.filter((s) => s.source === sourceId && known.has(s["source-layer"])
      && (s.layout || {}).visibility !== "none").map((s) => s["source-layer"])),
    filters: {},
    url: ((style.sources[sourceId] || {}).tiles || [])[0] || null,
    expires: meta.expires || null, // the signature's end (s since the epoch)
    requests: 0,
  };
  const preset = (meta.presets || []).find((p) => p.name === meta.preset);
  Object.entries(meta.filters || (preset && preset.filters) || {}).forEach(([layer, params]) => {
    tiles.filters[layer] = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [...v]]));
  });
  let timer = null;

  const query = () => {
    const q = new URLSearchParams({ layers: [...tiles.on].filter((n) => known.has(n)).join(",") });
    Object.entries(tiles.filters).forEach(([layer, params]) => {
      if (!tiles.on.has(layer)) return;
      Object.entries(params).forEach(([param, values]) => {
        values.forEach((v) => q.append(`${layer}.${param}`, v));
      });
    });
    return q;
  };
  const showLayers = () => {
    map.getStyle().layers.forEach((s) => {
      if (s.source !== sourceId) return;
      const name = s["source-layer"];
      if (!known.has(name)) return;
      const want = tiles.on.has(name) ? "visible" : "none";
      // Only a change: MapLibre redraws after any set, and a frame is ~0.25 s in software.
      if ((map.getLayoutProperty(s.id, "visibility") || "visible") !== want) map.setLayoutProperty(s.id, "visibility", want);
    });
  };
  const schedule = () => {
    clearTimeout(timer);
    let wait = REFRESH_MS;
    try {
      const e = tiles.expires || Number(new URL(tiles.url, window.location.href).searchParams.get("e"));
      if (e) wait = Math.max(60 * 1000, e * 1000 - Date.now() - EARLY_MS);
    } catch {
      // no URL yet: the default
    }
    timer = setTimeout(() => tiles.fetch(), Math.min(wait, REFRESH_MS * 3));
  };
  // Ask for the URL of what is on now; set it when it changed. Resolves once set.
  tiles.fetch = async () => {
    if (!tiles.on.size) {
      showLayers();
      return;
    }
    const r = await call(`${meta.tilejson}?${query()}`);
    tiles.requests += 1;
    if (!r.ok) {
      console.error(`tiles.json: ${(r.body && r.body.errors || []).map((e) => e.message).join("; ") || r.status}`);
      return;
    }
    const url = r.body.tiles[0];
    tiles.expires = r.body.expires || null;
    if (url !== tiles.url) {
      tiles.url = url;
      source().setTiles([url]);
    }
    showLayers();
    schedule();
  };
  tiles.start = async () => {
    // The style came with the preset's URL; it is only asked again when filters differ.
    if (!tiles.url && tiles.on.size) await tiles.fetch();
    else { showLayers(); schedule(); }
    tiles.started = true;
    view._checkReady();
  };

  view.setLayers = (changes) => {
    Object.entries(changes).forEach(([name, on]) => {
      if (!known.has(name)) return;
      if (on) tiles.on.add(name);
      else tiles.on.delete(name);
    });
    document.body.dataset.mapReady = "0";
    const done = tiles.fetch();
    view.waitFor(done);
    if (view.legend) view.legend.refresh();
    return done;
  };
  view.setFilter = (layer, param, values) => {
    tiles.filters[layer] = { ...(tiles.filters[layer] || {}), [param]: [...values] };
    if (!values.length) delete tiles.filters[layer][param];
    if (!tiles.on.has(layer)) return Promise.resolve();
    return view.waitFor(tiles.fetch());
  };
  view.refresh = (names) => {
    if (!names || names.some((n) => tiles.on.has(n))) return tiles.fetch();
    return Promise.resolve();
  };
  return tiles;
}
