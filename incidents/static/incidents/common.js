// Shared by the incident pages: JSON calls to the API with the CSRF token, the API's error
// body ({"status", "errors": [{code, message, field}]}) as text, and a message that
// survives a reload (sessionStorage).
(() => {
  "use strict";
  const csrfToken = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  // POST (JSON or FormData) or GET; resolves to {ok, status, body} and never throws on an
  // HTTP error, so callers can show the API's own messages.
  async function call(url, { method = "GET", data } = {}) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
    if (data instanceof FormData) options.body = data;
    else if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      return { ok: false, status: 0, body: { errors: [{ code: "network", message: err.message }] } };
    }
    let body;
    // Not JSON (a proxy's HTML error page): no body.
    try { body = await response.json(); } catch { body = null; }
    return { ok: response.ok, status: response.status, body };
  }

  const messages = (body, fallback) => {
    const errors = (body && body.errors) || [];
    if (!errors.length) return [fallback];
    return errors.map((e) => (e.field && e.field !== "non_field_errors" ? `${e.field}: ${e.message}` : e.message));
  };

  const flash = (el, text, kind = "error") => {
    el.hidden = false;
    el.className = `flash ${kind}`;
    el.innerHTML = (Array.isArray(text) ? text : [text]).map((t) => `<div>${esc(t)}</div>`).join("");
  };
  const keepFlash = (text, kind) => sessionStorage.setItem("gridline.flash", JSON.stringify({ text, kind }));
  const showKeptFlash = (el) => {
    const kept = sessionStorage.getItem("gridline.flash");
    if (!kept) return;
    sessionStorage.removeItem("gridline.flash");
    const { text, kind } = JSON.parse(kept);
    flash(el, text, kind);
  };

  const addBasemap = (map, basemap) => basemap.forEach((b) => L.tileLayer(b.url, b.options).addTo(map));

  window.gridline = { call, messages, flash, keepFlash, showKeptFlash, esc, addBasemap };
})();
