// Shared browser helpers owned by no feature app: the JSON API with the CSRF token, HTML
// escaping, the API's error body as text, and Chinese number/date formatting. Every page
// imports these instead of keeping a copy (issue #16, contract F).

// gettext() comes from /jsi18n/, loaded first by base.html; a page without it (an error page,
// a test harness) still gets the English words rather than a ReferenceError.
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const fill = (template, values) =>
  template.replace(/%\((\w+)\)s/g, (whole, key) => (key in values ? String(values[key]) : whole));

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// GET, or POST/PATCH/DELETE with JSON or FormData; resolves to {ok, status, body} and never
// throws on an HTTP or network error, so callers can show the API's own messages. A body that
// is not JSON (a proxy's HTML error page, 204) is null.
export async function call(url, { method = "GET", data } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET" && method !== "HEAD") options.headers["X-CSRFToken"] = csrfToken();
  if (data instanceof FormData) options.body = data;
  else if (data !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(data);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    return { ok: false, status: 0, body: { status: "error", errors: [{ code: "network", message: err.message, field: null }] } };
  }
  let body;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { ok: response.ok, status: response.status, body };
}

// GET a JSON document that must be there (config, figures): throws an Error whose message is
// the API's own text, for callers that let one failure stop the whole view.
export async function json(url) {
  const r = await call(url);
  if (!r.ok) {
    const err = new Error(errorText(r.body, `HTTP ${r.status}`));
    err.status = r.status;
    err.body = r.body;
    throw err;
  }
  return r.body;
}

// Each error of the API's body ({"status", "errors": [{code, message, field}]}) as one line,
// the field named unless it is the form as a whole.
export function errorMessages(body, fallback = _("Something went wrong.")) {
  const errors = (body && body.errors) || [];
  if (!errors.length) return [body && body.detail ? String(body.detail) : fallback];
  return errors.map((e) => (e.field && e.field !== "non_field_errors" ? `${e.field}: ${e.message}` : e.message));
}

export function errorText(body, fallback) {
  return errorMessages(body, fallback).join("\n");
}

// Times in the platform's zone (the page's <html data-time-zone>, Asia/Shanghai by default in
// settings) rather than the browser's: a wall screen and a desk in another zone show the same
// clock as the server's reports.
const zone = () => document.documentElement.dataset.timeZone || undefined;
const DASH = "–";
const missing = (v) => v === null || v === undefined || v === "" || Number.isNaN(Number(v));
const numberFormats = new Map();
const numberFormat = (digits) => {
  if (!numberFormats.has(digits)) {
    numberFormats.set(digits, new Intl.NumberFormat("zh-CN", { maximumFractionDigits: digits }));
  }
  return numberFormats.get(digits);
};
const parts = (iso, withTime) => {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const options = { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone() };
  if (withTime) Object.assign(options, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return Object.fromEntries(new Intl.DateTimeFormat("zh-CN", options).formatToParts(d).map((x) => [x.type, x.value]));
};

export const fmt = {
  // 1234567.891 → "1,234,567.89"; digits is the most shown after the point.
  number(v, digits = 0) {
    return missing(v) ? DASH : numberFormat(digits).format(Number(v));
  },
  // A ratio 0..1 → "85.3%".
  percent(r, digits = 1) {
    return missing(r) ? DASH : `${numberFormat(digits).format(Number(r) * 100)}%`;
  },
  // "2026-12-07" (a date-only value is shown as it is: parsing it as UTC midnight would move it
  // a day in zones west of Greenwich).
  date(iso) {
    if (!iso) return DASH;
    if (typeof iso === "string" && /^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
    const p = parts(iso, false);
    return p ? `${p.year}-${p.month}-${p.day}` : String(iso);
  },
  // "2026-12-07 14:05"
  datetime(iso) {
    if (!iso) return DASH;
    const p = parts(iso, true);
    return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : String(iso);
  },
  // "14:05" (a feed's or clock's time of day)
  time(iso) {
    if (!iso) return DASH;
    const p = parts(iso, true);
    return p ? `${p.hour}:${p.minute}` : String(iso);
  },
  // 93784 → "1天 2小时": the largest unit and the next if it is not zero; seconds only under
  // a minute.
  duration(seconds) {
    if (missing(seconds)) return DASH;
    let s = Math.max(0, Math.round(Number(seconds)));
    const counts = [];
    for (const size of [86400, 3600, 60]) {
      counts.push(Math.floor(s / size));
      s %= size;
    }
    const words = [_("%(n)s d"), _("%(n)s h"), _("%(n)s min")];
    const first = counts.findIndex((n) => n > 0);
    if (first < 0) return fill(_("%(n)s s"), { n: s });
    const out = [fill(words[first], { n: counts[first] })];
    if (first < 2 && counts[first + 1]) out.push(fill(words[first + 1], { n: counts[first + 1] }));
    return out.join(" ");
  },
};
