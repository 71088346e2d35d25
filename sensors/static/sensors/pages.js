// The broadcast page's "retry failed" button: POST to the API with the CSRF token, then reload
// to show the deliveries queued again (the confirmation survives the reload).
import { call, errorMessages } from "../gridline/api.js";
import { flash, keepFlash, showKeptFlash } from "../gridline/flash.js";

const form = document.getElementById("retry-form");
const flashEl = document.getElementById("flash");
if (form && flashEl) {
  showKeptFlash(flashEl);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    const result = await call(form.dataset.url, { method: "POST" });
    if (result.ok) {
      keepFlash(gettext("The failed deliveries are queued again."), "ok");
      window.location.reload();
      return;
    }
    flash(flashEl, errorMessages(result.body, gettext("The retry was refused.")));
    button.disabled = false;
  });
}
