// Talking to the server: every call carries the device token; a sync pushes the outbox in
// order, then pulls what changed since the last sync token (If-None-Match: a no-change sync is
// one 304). A 401 that says `wipe` (revoked device, expired or unknown token) clears the phone.
const FIVE_MINUTES = 5 * 60 * 1000;
// The sets of the working set the app keeps (the contract); patrol_track is the phone's own.
const SETS = ["households", "residents", "buildings", "units", "incidents", "tasks", "visits",
  "categories", "ledger", "notifications", "changesets", "patrols", "needs", "servicekinds"];

export function createSync(app) {
  const { store, config } = app;
  let running = null;
  let again = false;

  // fetch with the token; never throws: offline or a dropped connection is status 0.
  async function api(url, { method = "GET", data, headers = {}, token } = {}) {
    const options = { method, headers: { Accept: "application/json", ...headers }, credentials: "omit" };
    const secret = token === undefined ? app.token : token;
    if (secret) options.headers.Authorization = `Token ${secret}`;
    if (data instanceof FormData) options.body = data;
    else if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      return { ok: false, status: 0, body: { status: 0, errors: [{ code: "network", message: app.t("No connection to the server."), field: null }] }, error: err };
    }
    let body = null;
    if (response.status !== 304 && response.status !== 204) {
      try {
        body = await response.json();
      } catch {
        body = null;
      }
    }
    if (response.status === 401 && secret && token === undefined) {
      // Only a revoked device or an expired device token wipes; any other 401 keeps the
      // phone's data and outbox for the same worker's next login.
      if (body && body.wipe) await app.wipe(body.errors && body.errors[0] ? body.errors[0].message : "");
      else await app.signedOut();
    }
    return { ok: response.ok, status: response.status, body, headers: response.headers };
  }

  async function pull() {
    const since = await store.meta("sync_token");
    const url = since ? `${config.api.sync}?since=${encodeURIComponent(since)}` : config.api.sync;
    const headers = since ? { "If-None-Match": `"${since}"` } : {};
    const r = await api(url, { headers });
    if (r.status === 304) return { ok: true, changed: false };
    if (!r.ok) return { ok: false, status: r.status, body: r.body };
    await apply(r.body);
    return { ok: true, changed: true, full: r.body.full };
  }

  async function apply(body) {
    const keep = (set) => (rec) => String(rec.id).startsWith("new:") || app.outbox.pending(set, rec.id);
    const overlay = (set) => (rec) => app.outbox.overlay(set, rec);
    const sets = body.sets || {};
    for (const [name, data] of Object.entries(sets)) {
      await store.applySet(name, data || {}, Boolean(body.full), keep(name), overlay(name));
    }
    // A full pull is the whole working set: a set it leaves out (residents, once the user no
    // longer sees personal data) goes, except records with unsent items.
    if (body.full) {
      for (const name of SETS.filter((n) => !(n in sets))) {
        await store.applySet(name, { upsert: [], ids: [] }, true, keep(name), overlay(name));
      }
    }
    if (body.me) {
      app.me = body.me;
      await store.meta("me", body.me);
    }
    if (body.tiles) await store.meta("tiles", body.tiles);
    if (body.server_time) {
      // How far the phone's clock is off; shown beside "reported at (phone)" where useful.
      await store.meta("clock_offset_ms", Date.parse(body.server_time) - Date.now());
    }
    await store.meta("sync_token", body.token);
  }

  // Push then pull; one at a time (a second call while running runs once more afterwards).
  function now() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let result = { ok: false };
      try {
        if (!app.token) return result;
        app.syncing = true;
        app.emit("syncing", {});
        const pushed = await app.outbox.push();
        if (!app.token) return result; // wiped while pushing
        result = await pull();
        result.pushed = pushed;
        if (result.ok) {
          const at = Date.now();
          app.lastSync = at;
          await store.meta("last_sync", at);
        }
        if (!app.token) return result;
        app.syncing = false;
        app.emit("synced", result);
        return result;
      } finally {
        app.syncing = false;
        running = null;
        if (again) {
          again = false;
          setTimeout(now, 0);
        }
      }
    })();
    return running;
  }

  // Background Sync where the browser has it (the worker wakes the page or pushes itself);
  // everywhere: on open, when the connection returns and every five minutes.
  async function requestBackground() {
    try {
      const registration = navigator.serviceWorker && (await navigator.serviceWorker.getRegistration(config.scope));
      if (registration && registration.sync) await registration.sync.register("field-sync");
    } catch (err) {
      console.info(`background sync: ${err.message}`);
    }
  }

  let timer = null;
  let listening = false;
  // Called on open and again after each login (a wipe or logout stops the timer).
  function start() {
    clearInterval(timer);
    timer = setInterval(() => {
      if (navigator.onLine !== false) now();
    }, FIVE_MINUTES);
    if (listening) return;
    listening = true;
    window.addEventListener("online", () => now());
    if (navigator.serviceWorker) {
      navigator.serviceWorker.addEventListener("message", (event) => {
        if (event.data && event.data.type === "sync") now();
      });
    }
  }
  function stop() {
    clearInterval(timer);
  }

  return { api, now, pull, apply, start, stop, requestBackground, get running() { return Boolean(running); } };
}
