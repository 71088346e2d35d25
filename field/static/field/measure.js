// Distances, durations and times as the WORK views show them. Distances are computed on the
// phone in metres on the sphere (haversine): good to well under 1 % over a grid, which is all
// a "how far is the household" check or a patrol's running total needs; the server computes
// the stored figures on the geography itself.

const R = 6371008.8; // mean Earth radius, metres
const rad = (deg) => (deg * Math.PI) / 180;

/** Metres between two {lon, lat} points (or [lon, lat] pairs). */
export function metres(a, b) {
  const [lon1, lat1] = Array.isArray(a) ? a : [a.lon, a.lat];
  const [lon2, lat2] = Array.isArray(b) ? b : [b.lon, b.lat];
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const s =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** Total metres along [[lon, lat, …], …]. */
export function trackLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i += 1) total += metres(points[i - 1], points[i]);
  return total;
}

const number = (value, digits = 0) =>
  new Intl.NumberFormat("zh-CN", { maximumFractionDigits: digits }).format(value);

/** "35 米" / "1.2 公里" (whole phrases: the bare "m" msgid is the map scale's, in context). */
export function distanceText(m) {
  if (m == null || Number.isNaN(m)) return "";
  if (m < 1000) return interpolate(gettext("%(n)s m"), { n: number(Math.round(m)) }, true);
  return interpolate(gettext("%(n)s km"), { n: number(m / 1000, m < 10000 ? 2 : 1) }, true);
}

/** "1:05:09" for a running clock; "25 分钟" style for a stored duration. */
export function clockText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export function durationText(seconds) {
  const s = Math.max(0, Math.round(seconds || 0));
  if (s < 60) return interpolate(gettext("%(n)s s"), { n: s }, true);
  if (s < 3600) return interpolate(gettext("%(n)s min"), { n: Math.round(s / 60) }, true);
  const h = Math.floor(s / 3600);
  const min = Math.round((s % 3600) / 60);
  const hours = interpolate(gettext("%(n)s h"), { n: h }, true);
  return min ? `${hours} ${interpolate(gettext("%(n)s min"), { n: min }, true)}` : hours;
}

// Times in the platform's zone (Asia/Shanghai), whatever zone the phone is set to: the
// server's time wins and "due 17:00" must mean the same to the worker and the centre.
const ZONE = document.documentElement.dataset.timeZone || "Asia/Shanghai";
const dateTime = new Intl.DateTimeFormat("zh-CN", {
  timeZone: ZONE,
  month: "numeric",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});
const dateOnly = new Intl.DateTimeFormat("zh-CN", {
  timeZone: ZONE,
  year: "numeric",
  month: "numeric",
  day: "numeric",
});

export function timeText(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : dateTime.format(d);
}

/** A date-only value ("2026-12-07") is a calendar day: never shifted by a zone. */
export function dayText(isoDate) {
  if (!isoDate) return "";
  const [y, m, d] = isoDate.slice(0, 10).split("-").map(Number);
  return dateOnly.format(new Date(Date.UTC(y, m - 1, d, 4)));
}

/** Today in the platform's zone as YYYY-MM-DD (for due_on comparisons). */
export function today() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
  return parts.slice(0, 10);
}

/** Sort records with lon/lat by distance from a point; adds `_metres`. */
export function byDistance(records, from) {
  if (!from) return records.map((r) => ({ ...r, _metres: null }));
  return records
    .filter((r) => r.lon != null && r.lat != null)
    .map((r) => ({ ...r, _metres: metres(from, r) }))
    .sort((a, b) => a._metres - b._metres);
}
