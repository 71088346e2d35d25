// Wall screen logins (/screen/kiosks/): a street or district centre creates a kiosk link for
// a browser left on a wall (shown once), sees its active ones and revokes them, through
// /api/screen/kiosks/.
import { call, errorText, esc, fmt } from "../gridline/api.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const config = JSON.parse(document.getElementById("kiosk-config").textContent);

function showError(text) {
  const box = document.getElementById("kiosk-error");
  box.textContent = text || "";
  box.hidden = !text;
}

async function load() {
  const { ok, body } = await call(config.api);
  if (!ok) { showError(errorText(body)); return; }
  const tbody = document.querySelector("#kiosk-table tbody");
  tbody.innerHTML = body.map((k) => `<tr data-kiosk="${k.id}"><td>${esc(k.name)}</td>`
    + `<td>${esc(k.region_name)}</td><td><code>${esc(k.prefix)}…</code></td>`
    + `<td>${esc(fmt.datetime(k.created_at))}</td><td>${esc(fmt.datetime(k.last_seen_at))}</td>`
    + `<td><button type="button" data-revoke="${k.id}">${esc(_("Revoke"))}</button></td></tr>`).join("");
  document.getElementById("kiosk-none").hidden = body.length > 0;
}

document.getElementById("kiosk-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const data = { name: form.name.value, region: form.region.value };
  const { ok, body } = await call(config.api, { method: "POST", data });
  if (!ok) { showError(errorText(body)); return; }
  showError("");
  document.getElementById("kiosk-link").textContent = body.link;
  document.getElementById("kiosk-issued").hidden = false;
  form.reset();
  load();
});

document.getElementById("kiosk-table").addEventListener("click", async (event) => {
  const id = event.target.dataset && event.target.dataset.revoke;
  if (!id || !window.confirm(_("Revoke this wall screen login? The screen is logged out at once."))) return;
  const { ok, body } = await call(`${config.api}${id}/`, { method: "DELETE" });
  if (!ok) { showError(errorText(body)); return; }
  load();
});

load();
