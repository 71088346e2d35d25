// Map tiles on the phone. MapLibre fetches tiles from its worker, which the /field/ service
// worker does not control and which cannot send the device token; so the app's map names its
// tiles `fieldtile://<url>` and this protocol handler (on the page) fetches them with the
// token, keeps them in Cache Storage under a key without the signature and versions (the
// newest tile of a position wins) and answers from there when offline.
const CACHE = "field-tiles";
export const SCHEME = "fieldtile://";
const MAX_PREFETCH = 1500; // tiles; a grid is a few km², z13–16 of it is a few hundred

export function tileKey(url) {
  const u = new URL(url, window.location.href);
  const keep = new URLSearchParams();
  ["l", "f"].forEach((name) => { if (u.searchParams.has(name)) keep.set(name, u.searchParams.get(name)); });
  return `${u.origin}${u.pathname}?${keep}`;
}

// Not through new URL(): it would percent-encode the template's {z}/{x}/{y}.
export function wrap(url) {
  const text = String(url);
  if (text.startsWith(SCHEME)) return text;
  return SCHEME + (text.startsWith("/") ? window.location.origin + text : text);
}

async function fromCache(url) {
  if (!globalThis.caches) return null;
  const hit = await (await caches.open(CACHE)).match(tileKey(url));
  return hit ? hit.arrayBuffer() : null;
}

async function fetchTile(app, url, signal) {
  const headers = app.token ? { Authorization: `Token ${app.token}` } : {};
  const response = await fetch(url, { headers, signal, credentials: "omit" });
  if (response.status === 204) return new ArrayBuffer(0);
  if (!response.ok) throw new Error(`tile ${response.status}`);
  const data = await response.arrayBuffer();
  if (globalThis.caches) {
    const copy = new Response(data.slice(0), { headers: { "Content-Type": "application/vnd.mapbox-vector-tile" } });
    (await caches.open(CACHE)).put(tileKey(url), copy);
  }
  return data;
}

export function registerProtocol(maplibregl, app) {
  if (registerProtocol.done) return;
  registerProtocol.done = true;
  maplibregl.addProtocol("fieldtile", async (params, abort) => {
    const url = params.url.slice(SCHEME.length);
    if (navigator.onLine === false) {
      const cached = await fromCache(url);
      return { data: cached || new ArrayBuffer(0) };
    }
    try {
      return { data: await fetchTile(app, url, abort && abort.signal) };
    } catch (err) {
      if (err.name === "AbortError") throw err;
      // Signal lost mid-way, or the signature expired while offline: the kept copy.
      const cached = await fromCache(url);
      return { data: cached || new ArrayBuffer(0) };
    }
  });
}

// Tiles (x, y) covering a bbox at zoom z (Web Mercator).
function range(bbox, z) {
  const n = 2 ** z;
  const x = (lon) => Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)));
  const y = (lat) => {
    const r = (Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180;
    return Math.min(n - 1, Math.max(0, Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)));
  };
  return { x0: x(bbox[0]), x1: x(bbox[2]), y0: y(bbox[3]), y1: y(bbox[1]) };
}

export function tileList(bbox, minzoom, maxzoom, limit = MAX_PREFETCH) {
  const out = [];
  for (let z = minzoom; z <= maxzoom; z += 1) {
    const { x0, x1, y0, y1 } = range(bbox, z);
    const count = (x1 - x0 + 1) * (y1 - y0 + 1);
    if (out.length + count > limit) break; // the closest zooms are dropped, never a partial zoom
    for (let x = x0; x <= x1; x += 1) for (let y = y0; y <= y1; y += 1) out.push([z, x, y]);
  }
  return out;
}

// After a sync: the grid's tiles at the zooms the server draws (z13 up to the tile source's
// own maxzoom; beyond it MapLibre enlarges), once per tile version, four at a time.
export async function prefetch(app) {
  const tiles = await app.store.meta("tiles");
  if (!tiles || !tiles.tilejson || !globalThis.caches || navigator.onLine === false) return null;
  const r = await app.api(tiles.tilejson);
  if (!r.ok || !r.body || !r.body.tiles) return null;
  const template = r.body.tiles[0];
  // What the tiles hold: layers, filters, scope and data versions — not the signature, whose
  // expiry moves every hour. Fetched again when the data changed.
  const params = new URL(template.replace(/[{}]/g, ""), window.location.href).searchParams;
  const holds = ["l", "f", "s", "v"].map((name) => params.get(name) || "").join("|");
  const done = await app.store.meta("tiles_prefetched");
  if (done && done.holds === holds) return done;
  const bbox = tiles.bbox || (app.me && app.me.grid && app.me.grid.bbox);
  if (!bbox) return null;
  const maxzoom = Math.min(tiles.maxzoom || 18, r.body.maxzoom || 16);
  const list = tileList(bbox, tiles.minzoom || 13, maxzoom);
  let fetched = 0;
  let failed = 0;
  const queue = [...list];
  const worker = async () => {
    while (queue.length) {
      const [z, x, y] = queue.shift();
      const url = new URL(template.replace("{z}", z).replace("{x}", x).replace("{y}", y), window.location.href).href;
      try {
        await fetchTile(app, url);
        fetched += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const result = { holds, count: list.length, fetched, failed, maxzoom, at: Date.now() };
  if (!failed) await app.store.meta("tiles_prefetched", result);
  app.emit("tiles", result);
  return result;
}
