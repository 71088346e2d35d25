// The outbox: everything the worker does is an item here first (saved on the phone), sent one
// per request in the order made, each with its client_key so a resend never duplicates.
// States: saved → sending → sent | conflict (the server's record kept beside mine) |
// refused (with the reason; fix and resend with the same key, or discard).

const SETS = {
  household: "households", resident: "residents", building: "buildings", unit: "units",
  incident: "incidents", task: "tasks", visit: "visits", ledger: "ledger", patrol: "patrols",
  notification: "notifications", need: "needs",
};
const PENDING = new Set(["saved", "sending", "conflict", "refused"]);
const KEEP_SENT = 200; // sent items kept to show "sent" on their records

export function setOfKind(kind) {
  return SETS[String(kind).split(".")[0]] || null;
}
const isCreate = (kind) => /\.(create|report|record|save|raise)$/.test(kind) && !/^ledger\./.test(kind);
const isUpdate = (kind) => /\.update$/.test(kind);

// crypto.randomUUID is missing in older webviews and on plain http: a v4 UUID from
// getRandomValues (or, last resort, Math.random: the server only needs it unique per item).
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    try {
      return crypto.randomUUID();
    } catch {
      // insecure context: below
    }
  }
  const bytes = new Uint8Array(16);
  if (globalThis.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function createOutbox(app) {
  const { store } = app;
  let list = [];

  // Which record an item is about: its target, the record the server returned, or the
  // "new:<key>" record made on the phone.
  const localId = (item) => (item.target !== null && item.target !== undefined ? item.target : `new:${item.client_key}`);
  const about = (item, set, id) => item.set === set && (String(localId(item)) === String(id)
    || (item.record && String(item.record.id) === String(id)));
  const changed = () => app.emit("outbox", { items: list });

  async function load() {
    list = (await store.outboxAll()).sort((a, b) => a.seq - b.seq);
    // A push cut off mid-request (the page closed) is sent again: the key makes it safe.
    for (const item of list.filter((i) => i.state === "sending")) {
      item.state = "saved";
      item.tried = true;
      await store.outboxPut(item);
    }
    // Items the service worker sent while no page was open: their records into the store.
    for (const item of list.filter((i) => i.state === "sent" && i.record && !i.applied)) {
      await applyRecord(item, item.set);
      await store.outboxPut(item);
    }
  }

  async function localEffect(item) {
    const { set, kind } = item;
    if (!set) return;
    if (kind === "notification.read") {
      for (const id of item.data.ids || []) {
        const rec = await store.get(set, id);
        if (rec) await store.put(set, { ...rec, read: true });
      }
      return;
    }
    if (item.target !== null && item.target !== undefined) {
      const rec = await store.get(set, item.target);
      if (!item.base) item.base = rec ? { ...rec } : null; // what the edit started from: the conflict view's "before"
      if (rec) await store.put(set, overlay(set, rec));
      return;
    }
    if (isCreate(kind)) {
      await store.put(set, { id: `new:${item.client_key}`, version: null, ...item.data, _client_key: item.client_key, _state: "saved", _made_at: item.client_time });
    }
  }

  async function enqueue({ client_key, kind, target = null, base_version = null, data = {}, photos = [], base = null }) {
    const kept = [];
    for (const photo of photos || []) {
      kept.push({ name: photo.name || `photo-${kept.length + 1}.jpg`, type: photo.type || "image/jpeg", data: await photo.arrayBuffer() });
    }
    const item = {
      client_key: client_key || uuid(), kind, target, base_version, data,
      client_time: new Date().toISOString(), photos: kept, set: setOfKind(kind),
      state: "saved", error: null, errors: [], record: null, current: null, base,
    };
    list.push(item); // before the local effect: overlay() reads the list
    await localEffect(item);
    const saved = await store.outboxAdd(item);
    item.seq = saved.seq;
    changed();
    app.sync.requestBackground();
    if (navigator.onLine !== false) setTimeout(() => app.sync.now(), 0);
    return item;
  }

  function body(item) {
    const json = { client_key: item.client_key, kind: item.kind, target: item.target, base_version: item.base_version, client_time: item.client_time, data: item.data };
    if (!item.photos || !item.photos.length) return json;
    const form = new FormData();
    form.append("item", JSON.stringify(json));
    item.photos.forEach((p) => form.append("photos", new Blob([p.data], { type: p.type }), p.name));
    return form;
  }

  async function applyRecord(item, set) {
    item.applied = true;
    if (!set || !item.record) return;
    if (item.target === null || item.target === undefined) await store.remove(item.set, `new:${item.client_key}`);
    await store.put(set, { ...item.record, _state: "sent" });
  }

  async function settle(item, r) {
    if (r.status === 200 || r.status === 201) {
      item.state = "sent";
      item.record = r.body.record || null;
      item.error = null;
      item.sent_at = new Date().toISOString();
      item.photo_count = (item.photos || []).length;
      item.photos = []; // the server has them; the phone's space is small
      await applyRecord(item, r.body.set || item.set);
    }
    else if (r.status === 409) {
      item.state = "conflict";
      item.current = r.body && r.body.current;
      item.current_version = r.body && r.body.current_version;
      item.error = errorText(r.body, app.t("Someone changed this record meanwhile."));
    }
    else {
      item.state = "refused";
      item.errors = (r.body && r.body.errors) || [];
      item.error = errorText(r.body, `HTTP ${r.status}`);
    }
    await store.outboxPut(item);
    changed();
  }

  // Send every waiting item in order. Stops at the first item the network or the server
  // could not take (offline, 5xx, 429): later items wait behind it, in order.
  async function push() {
    let sent = 0;
    for (const item of [...list]) {
      if (item.state !== "saved" || !app.token) continue;
      item.state = "sending";
      item.tried = true; // the server may have applied it even if no answer comes back
      await store.outboxPut(item);
      changed();
      const r = await app.api(app.config.api.outbox, { method: "POST", data: body(item) });
      if (r.status === 0 || r.status >= 500 || r.status === 429 || r.status === 401) {
        if (!app.token) return sent; // wiped: the list is gone with the database
        item.state = "saved";
        await store.outboxPut(item);
        changed();
        return sent;
      }
      await settle(item, r);
      sent += 1;
    }
    await trim();
    return sent;
  }

  async function trim() {
    const sent = list.filter((i) => i.state === "sent");
    for (const item of sent.slice(0, Math.max(0, sent.length - KEEP_SENT))) {
      await store.outboxDelete(item.seq);
      list = list.filter((i) => i !== item);
    }
  }

  function items(filter = {}) {
    return list.filter((i) => (!filter.state || i.state === filter.state)
      && (!filter.states || filter.states.includes(i.state))
      && (!filter.kind || i.kind === filter.kind)
      && (!filter.set || i.set === filter.set)
      && (filter.id === undefined || about(i, filter.set || i.set, filter.id)));
  }
  const latest = (set, id) => {
    for (let n = list.length - 1; n >= 0; n -= 1) if (about(list[n], set, id)) return list[n];
    return null;
  };
  function stateOf(set, id) {
    const item = latest(set, id);
    if (!item) return null;
    return item.state === "sending" ? "saved" : item.state;
  }
  function pending(set, id) {
    return list.some((i) => PENDING.has(i.state) && about(i, set, id));
  }
  // A pulled record with my unsent edits laid over it (until they are sent or discarded).
  function overlay(set, rec) {
    let out = { ...rec };
    delete out._state;
    let state = null;
    list.filter((i) => about(i, set, rec.id)).forEach((i) => {
      if (PENDING.has(i.state) && isUpdate(i.kind)) out = { ...out, ...i.data };
      state = i.state === "sending" ? "saved" : i.state;
    });
    if (state) out._state = state;
    return out;
  }

  const get = (clientKey) => list.find((i) => i.client_key === clientKey) || null;

  // May an item still be changed in place under its key? Refused (the server kept nothing)
  // or saved and never tried. One that went out may have been applied (the answer lost):
  // new content under its key is refused as key_conflict, so a change is a new item.
  const editable = (item) => Boolean(item) && (item.state === "refused" || (item.state === "saved" && !item.tried));

  // A refused item fixed by its view: new data (and base_version), same key, sent again.
  // Null when the item may no longer be changed (the caller makes a new item).
  async function update(clientKey, changes) {
    const item = get(clientKey);
    if (!editable(item)) return null;
    Object.assign(item, changes, { state: "saved", error: null, errors: [] });
    await store.outboxPut(item);
    await localEffect(item);
    changed();
    if (navigator.onLine !== false) setTimeout(() => app.sync.now(), 0);
    return item;
  }

  async function retry(clientKey) {
    return update(clientKey, {});
  }

  // Gone from the phone; the record goes back to the server's copy (or away, if made here).
  async function discard(clientKey) {
    const item = get(clientKey);
    if (!item) return;
    list = list.filter((i) => i !== item);
    await store.outboxDelete(item.seq);
    if (item.set && item.state !== "sent") {
      const id = localId(item);
      if (String(id).startsWith("new:")) await store.remove(item.set, id);
      else {
        const server = item.current || item.base;
        const rec = (await store.get(item.set, id)) || server;
        if (rec) await store.put(item.set, overlay(item.set, server ? { ...server } : rec));
      }
    }
    changed();
  }

  // A conflict settled by the worker: the old item goes, the record stays as it is now.
  async function resolve(clientKey) {
    const item = get(clientKey);
    if (!item) return;
    list = list.filter((i) => i !== item);
    await store.outboxDelete(item.seq);
    changed();
  }

  return { load, enqueue, push, resolve, items, stateOf, pending, overlay, get, update, retry, discard, localId, editable };
}

function errorText(body, fallback) {
  const errors = (body && body.errors) || [];
  if (!errors.length) return fallback;
  return errors.map((e) => (e.field && e.field !== "non_field_errors" ? `${e.field}: ${e.message}` : e.message)).join("\n");
}
