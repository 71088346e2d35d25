// The field app's service worker, served by a view at /field/sw.js which puts
// `self.FIELD_CONFIG = {version, precache: [...], shell, offline, catalog}` above this text (the
// hashed names of this deploy). It keeps the shell for offline starts; the app's data lives in
// IndexedDB (its own store), so /api/ answers are never cached here. Map tiles and photos are
// cached by the page (tilecache.js, app.media), which the service worker does not need to see.
const CONFIG = self.FIELD_CONFIG;
const SHELL = `field-shell-${CONFIG.version}`;
const DB_NAME = "gridline-field";

// Each file on its own: one missing file must not keep the rest from the phone. Static files
// may come from the HTTP cache (hashed names never change: the page has just loaded most of
// them); the pages and the catalogue are asked afresh.
async function keep(urls) {
  const cache = await caches.open(SHELL);
  await Promise.all(urls.map(async (url) => {
    try {
      if (await cache.match(url)) return;
      const mode = url.startsWith(CONFIG.static) ? "default" : "no-cache";
      const response = await fetch(url, { credentials: "same-origin", cache: mode });
      if (response.ok) await cache.put(url, response);
    } catch (err) {
      console.warn(`keep ${url}: ${err.message}`);
    }
  }));
}

self.addEventListener("install", (event) => {
  event.waitUntil(keep(CONFIG.precache).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("field-shell-") && n !== SHELL).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

let token = null; // the device token, as the page said or the store holds
self.addEventListener("message", (event) => {
  if (!event.data) return;
  if (event.data.type === "token") token = event.data.token || null;
  // The map pack (MapLibre, the map core, glyphs), after the first sync: offline maps later.
  if (event.data.type === "map-pack") event.waitUntil(keep(CONFIG.mapPack));
});

function readToken() {
  if (token) return Promise.resolve(token); // "none" is asked again: a login may have happened
  return new Promise((resolve) => {
    const open = indexedDB.open(DB_NAME);
    open.onerror = () => resolve(null);
    open.onupgradeneeded = () => { open.transaction.abort(); resolve(null); }; // no database yet
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains("meta")) { db.close(); resolve(null); return; }
      const get = db.transaction("meta").objectStore("meta").get("token");
      get.onsuccess = () => { token = get.result ? get.result.value : null; db.close(); resolve(token); };
      get.onerror = () => { db.close(); resolve(null); };
    };
  });
}

async function shellFirst(request) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  try {
    const response = await fetch(request);
    if (response.ok && request.method === "GET") cache.put(request, response.clone());
    return response;
  } catch (err) {
    const offline = await cache.match(CONFIG.offline);
    if (offline) return offline;
    throw err;
  }
}

// The map core fetches its TileJSON with the page's cookies; the phone has a token instead.
async function withToken(request) {
  const secret = await readToken();
  if (!secret || request.headers.has("Authorization")) return fetch(request);
  const headers = new Headers(request.headers);
  headers.set("Authorization", `Token ${secret}`);
  return fetch(new Request(request, { headers, credentials: "omit" }));
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === CONFIG.shell) {
    event.respondWith(shellFirst(new Request(CONFIG.shell)));
    return;
  }
  if (url.pathname.startsWith("/api/map/")) {
    event.respondWith(withToken(request));
    return;
  }
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/media/") || url.pathname.startsWith("/tiles/")) return;
  // Our files and the map's: kept on first use too (a glyph range a label needed).
  if (url.pathname.startsWith(CONFIG.static) || CONFIG.precache.includes(url.pathname)) {
    event.respondWith(shellFirst(request));
  }
});

// Background Sync: an open page does the sync (it shows the results); with none open the
// worker sends the waiting items itself, in order, as the page would.
self.addEventListener("sync", (event) => {
  if (event.tag !== "field-sync") return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window" });
    if (pages.length) {
      pages.forEach((page) => page.postMessage({ type: "sync" }));
      return;
    }
    await pushAlone();
  })());
});

function idb(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function pushAlone() {
  const secret = await readToken();
  if (!secret) return;
  const db = await idb(indexedDB.open(DB_NAME));
  try {
    const items = (await idb(db.transaction("outbox").objectStore("outbox").getAll())).sort((a, b) => a.seq - b.seq);
    for (const item of items.filter((i) => i.state === "saved")) {
      const json = { client_key: item.client_key, kind: item.kind, target: item.target, base_version: item.base_version, client_time: item.client_time, data: item.data };
      let body = JSON.stringify(json);
      const headers = { Authorization: `Token ${secret}`, Accept: "application/json" };
      if (item.photos && item.photos.length) {
        body = new FormData();
        body.append("item", JSON.stringify(json));
        item.photos.forEach((p) => body.append("photos", new Blob([p.data], { type: p.type }), p.name));
      }
      else headers["Content-Type"] = "application/json";
      const response = await fetch(CONFIG.outbox || "/api/field/outbox/", { method: "POST", headers, body, credentials: "omit" });
      // Anything but an answer about the item itself: stop; the page sorts it out when opened
      // (it also applies the records the server returned).
      if (response.status >= 500 || response.status === 401 || response.status === 429) throw new Error(`outbox ${response.status}`);
      const answer = await response.json().catch(() => null);
      const outcome = response.ok ? { state: "sent", record: answer && answer.record, photos: [], sent_at: new Date().toISOString() }
        : response.status === 409 ? { state: "conflict", current: answer && answer.current, current_version: answer && answer.current_version }
          : { state: "refused", errors: (answer && answer.errors) || [], error: ((answer && answer.errors) || []).map((e) => e.message).join("\n") };
      await idb(db.transaction("outbox", "readwrite").objectStore("outbox").put({ ...item, ...outcome }));
    }
  } finally {
    db.close();
  }
}
