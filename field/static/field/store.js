// The phone's own store (IndexedDB): the working set by set name, the outbox in order, and
// meta (device token, sync token, me, last sync). The service worker reads the token from
// here too, so both open the same database with the same version.
//
// Photos are kept as {name, type, data: ArrayBuffer}: some webviews cannot store Blobs.

export const DB_NAME = "gridline-field";
const DB_VERSION = 1;

let opening = null;

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDb() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("records")) {
        const records = db.createObjectStore("records", { keyPath: ["set", "id"] });
        records.createIndex("set", "set");
      }
      if (!db.objectStoreNames.contains("outbox")) {
        const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        outbox.createIndex("client_key", "client_key", { unique: true });
      }
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta", { keyPath: "key" });
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab deleting the database (a wipe) must not wait for this connection.
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    request.onerror = () => { opening = null; reject(request.error); };
    request.onblocked = () => console.warn("store: upgrade blocked by another tab");
  });
  return opening;
}

async function tx(stores, mode, work) {
  const db = await openDb();
  const t = db.transaction(stores, mode);
  const done = new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error("transaction aborted"));
  });
  const result = await work(t);
  await done;
  return result;
}

// Ids from the server are numbers (or codes); a record made on the phone is "new:<client_key>".
const key = (id) => (typeof id === "string" && /^\d+$/.test(id) ? Number(id) : id);

export const store = {
  async all(set) {
    const rows = await tx(["records"], "readonly", (t) => promisify(t.objectStore("records").index("set").getAll(set)));
    return rows.map((r) => r.rec);
  },
  async get(set, id) {
    const row = await tx(["records"], "readonly", (t) => promisify(t.objectStore("records").get([set, key(id)])));
    return row ? row.rec : null;
  },
  async put(set, rec) {
    await tx(["records"], "readwrite", (t) => promisify(t.objectStore("records").put({ set, id: key(rec.id), rec })));
    return rec;
  },
  async remove(set, id) {
    await tx(["records"], "readwrite", (t) => promisify(t.objectStore("records").delete([set, key(id)])));
  },
  // One transaction for a pulled set: full replaces it, a delta upserts then drops what the
  // server no longer lists. `keep(rec)` says which local records survive (made or edited on
  // the phone and not sent yet); `overlay(rec)` lays pending edits over a pulled record.
  async applySet(set, { upsert = [], ids = null }, full, keep, overlay) {
    const current = await this.all(set);
    const byId = new Map(current.map((r) => [key(r.id), r]));
    const listed = ids ? new Set(ids.map(key)) : null;
    await tx(["records"], "readwrite", (t) => {
      const os = t.objectStore("records");
      const drop = [];
      byId.forEach((rec, id) => {
        if (keep(rec)) return;
        if (full || (listed && !listed.has(id))) drop.push(id);
      });
      drop.forEach((id) => os.delete([set, id]));
      upsert.forEach((rec) => os.put({ set, id: key(rec.id), rec: overlay(rec) }));
    });
  },
  async clearSet(set) {
    const ids = (await this.all(set)).map((r) => key(r.id));
    await tx(["records"], "readwrite", (t) => ids.forEach((id) => t.objectStore("records").delete([set, id])));
  },
  async count(set) {
    return tx(["records"], "readonly", (t) => promisify(t.objectStore("records").index("set").count(set)));
  },
  // meta(key) reads, meta(key, value) writes, meta(key, undefined) is a read too.
  async meta(name, ...value) {
    if (!value.length) {
      const row = await tx(["meta"], "readonly", (t) => promisify(t.objectStore("meta").get(name)));
      return row ? row.value : null;
    }
    await tx(["meta"], "readwrite", (t) => promisify(t.objectStore("meta").put({ key: name, value: value[0] })));
    return value[0];
  },

  // The outbox, in the order items were made (seq).
  async outboxAll() {
    return tx(["outbox"], "readonly", (t) => promisify(t.objectStore("outbox").getAll()));
  },
  async outboxAdd(item) {
    const seq = await tx(["outbox"], "readwrite", (t) => promisify(t.objectStore("outbox").add(item)));
    return { ...item, seq };
  },
  async outboxPut(item) {
    await tx(["outbox"], "readwrite", (t) => promisify(t.objectStore("outbox").put(item)));
    return item;
  },
  async outboxGet(clientKey) {
    return tx(["outbox"], "readonly", (t) => promisify(t.objectStore("outbox").index("client_key").get(clientKey)));
  },
  async outboxDelete(seq) {
    await tx(["outbox"], "readwrite", (t) => promisify(t.objectStore("outbox").delete(seq)));
  },
};

// Every record of the worker goes: the database and the caches that hold data (tiles,
// photos) — a lost phone, a revoked device, a logout. The shell's cache stays: it holds the
// same files for everyone and lets the login page open without signal.
export async function wipeAll() {
  if (opening) {
    try {
      (await opening).close();
    } catch {
      // never opened: nothing to close
    }
    opening = null;
  }
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = () => resolve();
    request.onerror = () => resolve();
    // Another tab holds it open: it closes on versionchange; resolve anyway after the wait.
    request.onblocked = () => setTimeout(resolve, 1000);
  });
  if (globalThis.caches) {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("field-") && !n.startsWith("field-shell-")).map((n) => caches.delete(n)));
  }
}
