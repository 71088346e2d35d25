// "Mark all read" on the notification inbox.
import { call, errorMessages } from "../gridline/api.js";
import { flash } from "../gridline/flash.js";

document.getElementById("mark-read").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const { ok, body, status } = await call("/api/notifications/read/", { method: "POST", data: {} });
  if (ok) window.location.reload();
  else flash(document.getElementById("flash"), errorMessages(body, `HTTP ${status}`));
});
