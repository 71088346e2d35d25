// The broadcast page's "retry failed" button: POST to the API with the CSRF token (the
// shared helpers of incidents/common.js), then reload to show the deliveries queued again.
(() => {
  "use strict";
  const form = document.getElementById("retry-form");
  const flashEl = document.getElementById("flash");
  if (!form || !window.gridline) return;
  const T = JSON.parse(document.getElementById("sensor-pages-i18n").textContent);
  const { call, messages, flash, keepFlash, showKeptFlash } = window.gridline;
  showKeptFlash(flashEl);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    const result = await call(form.dataset.url, { method: "POST" });
    if (result.ok) {
      keepFlash(T.retried, "ok");
      window.location.reload();
      return;
    }
    flash(flashEl, messages(result.body, T.refused));
    button.disabled = false;
  });
})();
