// The report form: click the map to place the incident (the command map's renderer and tiles:
// grid outlines and the incidents already reported, in click mode so that a click on a symbol
// places the point too), see the same category's incidents nearby, send. The client key is made
// once per report and kept across resends, so a double click or a retry after a lost answer
// creates one incident.
import { createMap } from "../gridline/map/index.js";
import { call, errorMessages as messages, esc } from "../gridline/api.js";
import { flash } from "../gridline/flash.js";

const config = JSON.parse(document.getElementById("report-config").textContent);
const T = {
  chooseGrid: gettext("Choose the grid, then report again."),
  needPoint: gettext("Click the map to place the incident first."),
  needFields: gettext("Give a title and a category."),
  reported: gettext("Reported"),
  already: gettext("This report was already received"),
  metres: gettext("m away"),
  failed: gettext("The request failed"),
  positionRefused: gettext("The browser may not tell your position: allow it, or click the map."),
  positionUnknown: gettext("Your position could not be found: click the map instead."),
  accuracy: gettext("accurate to about %s m"),
};
const form = document.getElementById("report-form");
const box = document.getElementById("flash");
const submit = document.getElementById("report-submit");
const state = { point: null, clientKey: crypto.randomUUID(), grid: null, sending: false };

// ---- the map ------------------------------------------------------------------------
// Only what helps place a point: the grids and the incidents (a preset's households or
// sensors would hide the ground).
const SHOWN = new Set(["grids", "incidents"]);
const element = document.getElementById("report-map");
let marker = null;
function place(lngLat, view, accuracy = null) {
  state.point = [Number(lngLat.lng.toFixed(7)), Number(lngLat.lat.toFixed(7))];
  state.grid = null;  // a new point: the grid is found again
  document.getElementById("grid-choice").hidden = true;
  if (!marker) {
    const dot = document.createElement("div");
    dot.className = "report-point";
    marker = new view.maplibregl.Marker({ element: dot }).setLngLat(lngLat).addTo(view.map);
  } else {
    marker.setLngLat(lngLat);
  }
  document.getElementById("point-hint").hidden = true;
  document.getElementById("point-chosen").hidden = false;
  document.getElementById("point-text").textContent = `${state.point[0]}, ${state.point[1]}`;
  document.getElementById("point-accuracy").textContent =
    accuracy === null ? "" : interpolate(T.accuracy, [Math.round(accuracy)]);
  form.lon.value = state.point[0];
  form.lat.value = state.point[1];
  showNearby();
}
const mapReady = createMap(element, { style: element.dataset.style, controls: false, modules: false }).then((view) => {
  view.setLayers(Object.fromEntries(view.meta.layers.map((l) => [l.name, SHOWN.has(l.name)])));
  view.setClickMode(({ lngLat }) => place(lngLat, view));
  // No layer panel or search here, but zoom buttons: not everyone zooms with a wheel or pinch.
  view.map.addControl(new view.maplibregl.NavigationControl({ showCompass: false }), "top-left");
  window.gridlineReport.map = view.map;
  window.gridlineReport.view = view;
  return view;
});
mapReady.catch((err) => flash(box, `${T.failed}: ${err.message}`));

// ---- my position: a worker in the street usually stands where the incident is ----------------
const here = document.getElementById("my-position");
here.hidden = !navigator.geolocation;
here.addEventListener("click", () => {
  here.disabled = true;
  navigator.geolocation.getCurrentPosition(async ({ coords }) => {
    here.disabled = false;
    const view = await mapReady;
    place({ lng: coords.longitude, lat: coords.latitude }, view, coords.accuracy);
    view.map.easeTo({ center: [coords.longitude, coords.latitude], zoom: Math.max(view.map.getZoom(), 17) });
  }, (error) => {
    here.disabled = false;
    // The browser's own message is English; ours says what to do instead.
    flash(box, error.code === error.PERMISSION_DENIED ? T.positionRefused : T.positionUnknown);
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
});

// ---- categories and duplicates nearby ----------------------------------------------------
call(config.urls.categories).then(({ ok, body }) => {
  if (!ok) return;
  form.category.insertAdjacentHTML("beforeend", body.map((c) =>
    `<option value="${esc(c.code)}">${esc(c.code)} ${esc(c.name)}</option>`).join(""));
  form.dataset.ready = "1";
});
form.category.addEventListener("change", () => showNearby());
const link = (incident) => config.urls.incident.replace("{id}", incident.id);
const duplicateItems = (rows) => rows.map((d) => `<li><a href="${esc(link(d.incident))}">#${
  d.incident.id} ${esc(d.incident.title)}</a> <small>${esc(d.incident.status)} · ${
  Math.round(d.metres)} ${esc(T.metres)}</small></li>`).join("");
async function showNearby() {
  const nearby = document.getElementById("nearby");
  if (!state.point || !form.category.value) { nearby.hidden = true; return; }
  const q = new URLSearchParams({ category: form.category.value, lon: state.point[0], lat: state.point[1] });
  const { ok, body } = await call(`${config.urls.nearby}?${q}`);
  if (!ok || !body.length) { nearby.hidden = true; return; }
  document.getElementById("nearby-list").innerHTML = duplicateItems(body);
  nearby.hidden = false;
}

// ---- near a grid edge: let the reporter choose ---------------------------------------------
async function offerGrids(message) {
  const [lon, lat] = state.point;
  const d = 0.0006;  // about 60 m: the grids within the edge distance, and a few more
  const { ok, body } = await call(`${config.urls.grids}?bbox=${[lon - d, lat - d, lon + d, lat + d].join(",")}`);
  let grids = [];
  if (ok && body) {
    const features = body.features || (body.results && body.results.features) || [];
    grids = features.map((f) => ({ code: f.properties.code, name: f.properties.name }));
  }
  // Only those the refusal names, when it names them.
  const named = grids.filter((g) => message.includes(g.code));
  if (named.length) grids = named;
  if (!grids.length) grids = [...new Set(message.match(/\d{9,}/g) || [])].map((code) => ({ code, name: "" }));
  document.getElementById("grid-options").innerHTML = grids.map((g) =>
    `<label class="choice"><input type="radio" name="grid" value="${esc(g.code)}"> ${esc(g.name)} <small>${esc(g.code)}</small></label>`).join("");
  document.getElementById("grid-choice").hidden = false;
  document.querySelectorAll("#grid-options input").forEach((input) =>
    input.addEventListener("change", () => { state.grid = input.value; }));
}

// ---- sending ---------------------------------------------------------------------------------
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (state.sending) return;  // a double click: the first send is under way
  if (!state.point) { flash(box, T.needPoint); return; }
  if (!form.title.value.trim() || !form.category.value) { flash(box, T.needFields); return; }
  const data = new FormData();
  ["title", "description", "category", "priority", "source"].forEach((k) => data.append(k, form[k].value));
  data.append("location", JSON.stringify({ type: "Point", coordinates: state.point }));
  data.append("client_key", state.clientKey);
  if (state.grid) data.append("grid", state.grid);
  [...form.photos.files].forEach((f) => data.append("photos", f));
  state.sending = true;
  submit.disabled = true;
  const { ok, status, body } = await call(config.urls.report, { method: "POST", data });
  state.sending = false;
  submit.disabled = false;
  if (ok) {
    box.hidden = true;
    form.hidden = true;
    const a = document.getElementById("reported-link");
    a.href = link(body);
    a.textContent = `${status === 201 ? T.reported : T.already}: #${body.id} ${body.title}`;
    const dups = body.possible_duplicates || [];
    document.getElementById("duplicates-list").innerHTML = duplicateItems(dups);
    document.getElementById("duplicates").hidden = !dups.length;
    document.getElementById("reported").hidden = false;
    document.body.dataset.reported = String(body.id);
    return;
  }
  const errors = (body && body.errors) || [];
  const edge = errors.find((x) => x.code === "near_grid_edge");
  flash(box, [...messages(body, `${T.failed} (HTTP ${status})`), ...(edge ? [T.chooseGrid] : [])]);
  if (edge) await offerGrids(edge.message);
});

window.gridlineReport = { map: null, view: null, state, mapReady };
