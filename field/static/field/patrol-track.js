// The running patrol (巡查): one watchPosition for the whole app, points kept in IndexedDB
// (app.store set "patrol_track", id "current") after every kept fix so a reload, a crash or
// the phone killing the tab loses at most one fix. The patrol's client_key is made at start:
// incidents reported on the way carry it (data.patrol_client_key) long before the patrol
// itself is sent at stop as `patrol.save` with that same key, and the server attaches them
// in either order.
import { metres, trackLength } from "./measure.js";

export const SET = "patrol_track";
// Fixes worse than this are noise in a stairwell or under trees: a 120 m "jump" would add
// 240 m to the distance. 50 m is what the issue asks.
export const MAX_ACCURACY_M = 50;
// Standing still, GPS wanders a few metres a second; counting that would make a worker who
// waits at a gate walk a kilometre an hour.
const MIN_STEP_M = 5;

// The state lives in the module: one patrol runs at a time, whatever view is shown.
let running = null; // {rec, watch, dropped, lastFix}
let resuming = null;
export const patrolEvents = new EventTarget();

const emit = (type) => patrolEvents.dispatchEvent(new Event(type));

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Webviews without randomUUID (older Android System WebView): RFC 4122 v4 by hand.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export async function currentPatrol(app) {
  if (running) return running.rec;
  const rec = await app.store.get(SET, "current");
  return rec && !rec.ended_at ? rec : null;
}

/** The live figures of the running patrol, or null. */
export function liveFigures() {
  if (!running) return null;
  const { rec } = running;
  return {
    client_key: rec.client_key,
    started_at: rec.started_at,
    points: rec.points,
    distance_m: trackLength(rec.points),
    seconds: (Date.now() - Date.parse(rec.started_at)) / 1000,
    dropped: running.dropped,
    last: running.lastFix,
    error: running.error,
  };
}

// A wiped phone (revoked, logged out) stops recording: the track went with the store.
let wipeHooked = false;
function hookWipe(app) {
  if (wipeHooked) return;
  wipeHooked = true;
  const stop = () => {
    if (running && running.watch != null) navigator.geolocation.clearWatch(running.watch);
    running = null;
    emit("change");
  };
  app.addEventListener("wiped", stop);
  // Signed out with the data kept: the track stays stored, resumePatrol picks it up after
  // the same worker's login.
  app.addEventListener("signedout", stop);
}

function watch(app, rec) {
  hookWipe(app);
  running = { rec, watch: null, dropped: 0, lastFix: null, error: null };
  if (!navigator.geolocation) {
    running.error = gettext("This phone gives no position: the patrol records time only.");
    emit("change");
    return;
  }
  const onFix = (pos) => {
    if (!running) return;
    const { longitude, latitude, accuracy } = pos.coords;
    running.lastFix = { lon: longitude, lat: latitude, accuracy, at: pos.timestamp };
    running.error = null;
    if (accuracy > MAX_ACCURACY_M) {
      running.dropped += 1;
      emit("change");
      return;
    }
    const point = [
      Number(longitude.toFixed(7)),
      Number(latitude.toFixed(7)),
      new Date(pos.timestamp || Date.now()).toISOString(),
      Math.round(accuracy),
    ];
    const points = running.rec.points;
    const last = points[points.length - 1];
    if (last && metres(last, point) < MIN_STEP_M) {
      emit("change");
      return;
    }
    points.push(point);
    app.store.put(SET, running.rec);
    emit("change");
  };
  const onError = (error) => {
    if (!running) return;
    // Shown on the patrol view (denied, no fix yet); the watch keeps trying.
    running.error = error.message || gettext("Location not available");
    emit("change");
  };
  running.watch = navigator.geolocation.watchPosition(onFix, onError, {
    enableHighAccuracy: true,
    maximumAge: 5000,
    timeout: 60000,
  });
  emit("change");
}

/** Restart recording after a reload if a patrol was running (idempotent). */
export function resumePatrol(app) {
  if (running) return Promise.resolve(running.rec);
  if (!resuming) {
    resuming = app.store
      .get(SET, "current")
      .then((rec) => {
        if (rec && !rec.ended_at && !running) watch(app, rec);
        return running ? running.rec : null;
      })
      .finally(() => {
        resuming = null;
      });
  }
  return resuming;
}

export async function startPatrol(app) {
  const open = await resumePatrol(app);
  if (open) return open;
  const rec = {
    id: "current",
    client_key: newKey(),
    started_at: new Date().toISOString(),
    points: [],
  };
  // Where the worker stands now is where the patrol starts: the watch below may wait for the
  // GPS to move before its first fix.
  const here = app.position;
  if (here && Date.now() - here.at < 30000 && here.accuracy <= MAX_ACCURACY_M) {
    rec.points.push([
      Number(here.lon.toFixed(7)),
      Number(here.lat.toFixed(7)),
      new Date(here.at).toISOString(),
      Math.round(here.accuracy),
    ]);
  }
  await app.store.put(SET, rec);
  watch(app, rec);
  if (rec.points.length) running.lastFix = { ...here };
  return rec;
}

/** Stop: enqueue `patrol.save` under the key made at start and forget the local track. */
export async function stopPatrol(app, note = "") {
  const rec = running ? running.rec : await currentPatrol(app);
  if (!rec) return null;
  if (running && running.watch != null) navigator.geolocation.clearWatch(running.watch);
  running = null;
  const item = await app.outbox.enqueue({
    client_key: rec.client_key,
    kind: "patrol.save",
    target: null,
    base_version: null,
    data: {
      started_at: rec.started_at,
      ended_at: new Date().toISOString(),
      points: rec.points,
      note,
    },
    photos: [],
  });
  await app.store.remove(SET, "current");
  emit("change");
  return item;
}
