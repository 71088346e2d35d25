// The field app's entry: the `app` object every view gets (contract), the router on
// location.hash, the service worker, and the start: the token from the phone's store → home,
// else the login page.
import { createGeo } from "./geo.js";
import { createOutbox } from "./outbox.js";
import { createPicker } from "./pick.js";
import { openDb, store, wipeAll } from "./store.js";
import { createSync } from "./sync.js";
import { prefetch } from "./tilecache.js";
import { ui } from "./ui.js";
import { routes } from "./views/index.js";
import { resumePatrol } from "./views/patrol.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const PUBLIC = new Set(["/login"]);
const TABS = ["/home", "/map", "/report", "/tasks", "/more"];

class App extends EventTarget {
  constructor(config) {
    super();
    this.config = config;
    this.t = _;
    this.ui = ui;
    this.store = store;
    this.me = null;
    this.token = null;
    this.position = null;
    this.lastSync = null;
    this.online = navigator.onLine !== false;
    this.sync = createSync(this);
    this.api = this.sync.api;
    this.outbox = createOutbox(this);
    this.geo = createGeo(this);
    this.pickPoint = createPicker(this);
    this.cleanup = null;
  }
  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
  go(path) {
    const target = `#${path.startsWith("/") ? path : `/${path}`}`;
    if (window.location.hash === target) render();
    else window.location.hash = target;
  }
  back() {
    if (window.history.length > 1) window.history.back();
    else this.go("/home");
  }
  // A photo the API names (url): fetched with the token, kept in Cache Storage for offline.
  async media(url) {
    const cache = globalThis.caches ? await caches.open("field-media") : null;
    const key = new URL(url, window.location.href).href;
    let response = cache ? await cache.match(key) : null;
    if (!response && navigator.onLine !== false) {
      try {
        const fetched = await fetch(key, { headers: { Authorization: `Token ${this.token}` }, credentials: "omit" });
        if (fetched.ok) {
          response = fetched;
          if (cache) await cache.put(key, fetched.clone());
        }
      } catch (err) {
        console.info(`media: ${err.message}`);
      }
    }
    if (!response) throw new Error(_("The photo is not on this phone yet."));
    return URL.createObjectURL(await response.blob());
  }
  // Signed in on this phone: the device token and who I am.
  async signedIn({ token, me, device }) {
    // Signed out by a 401 that kept the phone's data (the outbox waits for the same worker):
    // another worker on this phone must not get the previous one's records or unsent items.
    const before = await store.meta("me").catch(() => null);
    if (before && me && before.username !== me.username) {
      this.emit("wiped", { reason: "" });
      await wipeAll();
    }
    await store.meta("token", token);
    await store.meta("me", me);
    await store.meta("device", device);
    this.token = token;
    this.me = me;
    tellWorker({ type: "token", token });
    await this.outbox.load();
    this.sync.start();
    this.geo.start();
    const first = this.sync.now();
    this.go("/home");
    await afterSync(this, await first);
  }
  // Revoked, expired or logged out: every record of the worker leaves the phone, then the
  // server is told (wiped) with the old token, and the login page shows why.
  async wipe(reason = "") {
    const token = this.token;
    if (!token) return;
    await this.clearPhone(reason);
    try {
      await fetch(this.config.api.wiped, { method: "POST", headers: { Authorization: `Token ${token}`, Accept: "application/json" }, credentials: "omit" });
    } catch (err) {
      console.info(`wiped: ${err.message}`);
    }
  }
  // Logged out: the server revokes the token; the phone is cleared as on a wipe, so a running
  // patrol and the GPS stop too (patrol-track.js listens for `wiped`).
  async logout() {
    const token = this.token;
    if (!token) return;
    try {
      await fetch(this.config.api.logout, { method: "POST", headers: { Authorization: `Token ${token}` }, credentials: "omit" });
    } catch (err) {
      console.info(`logout: ${err.message}`);
    }
    await this.clearPhone("");
  }
  async clearPhone(reason) {
    this.token = null;
    this.me = null;
    this.sync.stop();
    this.geo.stop();
    tellWorker({ type: "token", token: null });
    this.emit("wiped", { reason });
    await wipeAll();
    this.wipeReason = reason;
    this.go("/login");
  }
  // A 401 without `wipe` (no credentials arrived, a proxy stripped them): the data and the
  // outbox stay for the same worker's next login; recording stops until then.
  async signedOut() {
    if (!this.token) return;
    this.token = null;
    this.sync.stop();
    this.geo.stop();
    tellWorker({ type: "token", token: null });
    this.emit("signedout", {});
    try {
      await store.meta("token", null);
    } catch (err) {
      console.info(`signed out: ${err.message}`);
    }
    this.go("/login");
  }
}

// After the first sync: the map pack into the worker's cache, the grid's tiles into the
// page's, a running patrol picked up again (WORK's views/patrol.js).
async function afterSync(app, result) {
  tellWorker({ type: "map-pack" });
  // Nothing changed (the pull was a 304) and the grid's tiles were fetched before: no TileJSON
  // request either, so opening the app with nothing new costs one small request.
  const unchanged = result && result.changed === false && (await app.store.meta("tiles_prefetched"));
  if (!unchanged) {
    app.prefetching = true;
    prefetch(app).catch((err) => console.info(`tiles: ${err.message}`)).finally(() => { app.prefetching = false; });
  }
  Promise.resolve().then(() => resumePatrol(app)).catch((err) => console.error(err));
}

// To the active worker, once there is one (on a first visit it activates after the page).
function tellWorker(message) {
  if (!navigator.serviceWorker) return;
  navigator.serviceWorker.ready.then((registration) => {
    if (registration.active) registration.active.postMessage(message);
  });
}

// Routes: literal segments beat `:param` ones whatever the order the modules list them in.
function match(path) {
  const parts = path.split("/").filter(Boolean);
  let best = null;
  for (const route of routes) {
    const want = route.path.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let literal = 0;
    const ok = want.every((w, i) => {
      if (w.startsWith(":")) {
        params[w.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      literal += 1;
      return w === parts[i];
    });
    if (ok && (!best || literal > best.literal)) best = { route, params, literal };
  }
  return best;
}

let app = null;
let renderCount = 0;

async function render() {
  const hash = window.location.hash.replace(/^#/, "") || "/home";
  const [path, query = ""] = hash.split("?");
  if (!app.token && !PUBLIC.has(path)) {
    window.location.replace("#/login");
    return;
  }
  const found = match(path) || match("/home");
  const params = { ...Object.fromEntries(new URLSearchParams(query)), ...found.params };
  if (typeof app.cleanup === "function") {
    try { app.cleanup(); } catch (err) { console.error(err); }
  }
  app.cleanup = null;
  const view = document.getElementById("view");
  const fresh = view.cloneNode(false);
  fresh.className = "view"; // a view's own classes (the map's "full") do not carry over
  view.replaceWith(fresh);
  const tabs = document.getElementById("tabs");
  tabs.hidden = !app.token;
  tabs.querySelectorAll("a").forEach((a) => {
    const on = path === a.dataset.tab || (a.dataset.tab !== "/home" && path.startsWith(a.dataset.tab));
    a.classList.toggle("on", on);
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  document.body.dataset.route = found.route.path;
  ui.header(found.route.title, { back: !TABS.includes(path) && path !== "/login" });
  const mine = ++renderCount;
  try {
    const cleanup = await found.route.render(fresh, params, app);
    if (mine === renderCount) app.cleanup = cleanup || null;
    else if (typeof cleanup === "function") cleanup();
  } catch (err) {
    console.error(err);
    fresh.replaceChildren(ui.h("p", { class: "empty error" }, `${_("This page could not be shown.")} ${err.message}`));
  }
  document.body.dataset.ready = "1";
}

async function registerWorker(config) {
  if (!("serviceWorker" in navigator)) return null; // a webview without it: online only
  try {
    return await navigator.serviceWorker.register(config.sw, { scope: config.scope });
  } catch (err) {
    console.info(`service worker: ${err.message}`);
    return null;
  }
}

async function start() {
  const config = JSON.parse(document.getElementById("field-config").textContent);
  app = new App(config);
  window.fieldApp = app; // a test hook, as the map's gridlineMap
  window.addEventListener("online", () => { app.online = true; app.emit("online", {}); });
  window.addEventListener("offline", () => { app.online = false; app.emit("offline", {}); });
  window.addEventListener("hashchange", render);
  const worker = registerWorker(config);
  try {
    await openDb();
    app.token = await store.meta("token");
    app.me = await store.meta("me");
    app.lastSync = await store.meta("last_sync");
    await app.outbox.load();
  } catch (err) {
    // Private mode in some webviews has no IndexedDB: the app cannot keep anything.
    console.error(err);
    ui.toast(_("This browser cannot keep data on the phone; the app works only online."), { kind: "error", ms: 8000 });
  }
  app.sync.start();
  await render();
  if (app.token) {
    app.geo.start();
    tellWorker({ type: "token", token: app.token });
    app.sync.now().then((result) => afterSync(app, result)).catch((err) => console.info(`sync: ${err.message}`));
  }
  // Persistent storage: the browser then does not evict the outbox under pressure.
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then((yes) => (yes ? true : navigator.storage.persist()))
      .then((yes) => { app.persisted = yes; })
      .catch(() => { app.persisted = false; });
  }
  const registration = await worker;
  document.body.dataset.worker = registration ? "1" : "0";
}

start();
