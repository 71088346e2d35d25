// One incident: a small map of its point and grid, and a form per step the user may take,
// each POSTed as JSON to /api/incidents/{id}/steps/ with the version the page was drawn at.
import { call, errorMessages as messages, esc } from "../gridline/api.js";
import { flash, keepFlash, showKeptFlash } from "../gridline/flash.js";
import { addBasemap } from "../gridline/leaflet-base.js";

const config = JSON.parse(document.getElementById("incident-config").textContent);
const T = {
  stale: gettext("Someone else changed this incident first; here is its current state. Please check and decide again."),
  done: gettext("Done."),
  uploaded: gettext("Photos added."),
  failed: gettext("The request failed"),
};
const box = document.getElementById("flash");
const page = document.querySelector(".incident-page");
showKeptFlash(box);

// ---- the map ------------------------------------------------------------------------
const map = L.map("incident-map", { minZoom: 3, maxZoom: 19 });
addBasemap(map, config.basemap);
const [lon, lat] = config.point;
if (config.grid) {
  const outline = L.geoJSON(config.grid, { style: { color: "#2b5d8a", weight: 2, fillOpacity: 0.08 } }).addTo(map);
  map.fitBounds(outline.getBounds(), { padding: [10, 10] });
} else {
  map.setView([lat, lon], 16);
}
// The map's colour of an incident (alarm red is for alarms only).
L.circleMarker([lat, lon], {
  radius: 7, color: "#fff", weight: 2, fillColor: "#e8590c", fillOpacity: 1,
}).addTo(map);

// ---- lists for the selects ------------------------------------------------------------
const fill = async (selector, url, label) => {
  const selects = document.querySelectorAll(selector);
  if (!selects.length) return;
  const { ok, body } = await call(url);
  if (!ok) return;
  const options = body.map((row) => `<option value="${esc(row.code)}">${esc(label(row))}</option>`).join("");
  selects.forEach((s) => s.insertAdjacentHTML("beforeend", options));
};
fill("select[data-departments]", config.urls.departments, (d) => d.name);
fill("select[data-whistle-classes]", config.urls.whistleClasses, (w) => w.name);

// ---- the steps ------------------------------------------------------------------------
const forms = document.querySelectorAll("form.step-form");
document.querySelectorAll(".step-button").forEach((button) => {
  button.addEventListener("click", () => {
    forms.forEach((f) => { f.hidden = f.dataset.step !== button.dataset.action; });
    const shown = document.querySelector(`form.step-form[data-step="${button.dataset.action}"]`);
    const first = shown && shown.querySelector("select, textarea, input");
    if (first) first.focus();
  });
});
forms.forEach((form) => {
  form.querySelector(".cancel").addEventListener("click", () => { form.hidden = true; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const step = { action: form.dataset.step, version: config.version };
    new FormData(form).forEach((value, key) => {
      if (value === "") return;
      step[key] = key === "score" || key === "target" ? Number(value) : value;
    });
    const { ok, status, body } = await call(config.urls.steps, { method: "POST", data: step });
    if (ok) {
      keepFlash(`${T.done} ${form.querySelector("h3").textContent}`, "ok");
      window.location.reload();
      return;
    }
    submit.disabled = false;
    const stale = status === 409 && body && body.errors && body.errors[0].code === "stale_version";
    if (stale) {
      // Show why, then the current state: the steps offered may have changed.
      keepFlash([T.stale, ...messages(body, T.failed)], "error");
      window.location.reload();
      return;
    }
    flash(box, messages(body, `${T.failed} (HTTP ${status})`));
    box.scrollIntoView({ block: "nearest" });
  });
});

// ---- photos -----------------------------------------------------------------------------
const photoForm = document.getElementById("photo-form");
photoForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData();
  [...photoForm.querySelector("input[type=file]").files].forEach((f) => data.append("photos", f));
  const { ok, status, body } = await call(config.urls.photos, { method: "POST", data });
  if (ok) {
    keepFlash(T.uploaded, "ok");
    window.location.reload();
  } else {
    flash(box, messages(body, `${T.failed} (HTTP ${status})`));
  }
});

page.dataset.ready = "1";
window.gridlineIncident = { map, config };
