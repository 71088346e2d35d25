// Where the worker is (Geolocation API): app.position = {lon, lat, accuracy, at} or null, a
// `position` event on every fix. Watching only while the app is visible (the battery).
const R = 6371008.8; // mean Earth radius, metres

export function metres(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
}

export function createGeo(app) {
  let watch = null;
  const geo = {
    available: Boolean(navigator.geolocation),
    error: null,
    start() {
      if (!navigator.geolocation || watch !== null) return;
      watch = navigator.geolocation.watchPosition(
        (p) => {
          app.position = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, at: p.timestamp };
          geo.error = null;
          app.emit("position", app.position);
        },
        (err) => {
          geo.error = err.code === 1 ? app.t("Location is not allowed for this app.") : app.t("No location fix yet.");
          app.emit("position", null);
        },
        { enableHighAccuracy: true, maximumAge: 15000, timeout: 30000 },
      );
    },
    stop() {
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      watch = null;
    },
    // One fix now (the report's "my position"): the last one if fresh, else wait for one.
    once(maxAgeMs = 30000) {
      if (app.position && Date.now() - app.position.at < maxAgeMs) return Promise.resolve(app.position);
      if (!navigator.geolocation) return Promise.resolve(null);
      return new Promise((resolve) => {
        navigator.geolocation.getCurrentPosition(
          (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, at: p.timestamp }),
          () => resolve(null),
          { enableHighAccuracy: true, maximumAge: maxAgeMs, timeout: 20000 },
        );
      });
    },
  };
  document.addEventListener("visibilitychange", () => {
    // Logged out or wiped: no position until the next login.
    if (document.hidden || !app.token) geo.stop();
    else geo.start();
  });
  return geo;
}
