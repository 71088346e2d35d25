// The services list (服务清单): confirm a pending 双报到 registration with a point on the map
// (a provider needs a location before it can be dispatched to; matching measures from it) or
// refuse it; suspend a provider or confirm it again; pause, resume or add a line of its offers.
// Every change is a call to the needs API with the version the page was drawn at; done, the page
// reloads; a 409 says someone else was first and reloads the current state.
import { createMap } from "../gridline/map/index.js";
import { call, errorMessages as messages } from "../gridline/api.js";
import { flash, keepFlash, showKeptFlash } from "../gridline/flash.js";

const config = JSON.parse(document.getElementById("services-config").textContent);
const T = {
  stale: gettext("Someone else changed this first; here is the current state. Please check and decide again."),
  failed: gettext("The request failed"),
  confirmed: gettext("Registration confirmed."),
  refused: gettext("Registration refused; the person is told."),
  suspended: gettext("Provider suspended: no new dispatches."),
  saved: gettext("Saved."),
  added: gettext("Service added."),
  entered: gettext("Provider entered: set where it serves from on the map, then confirm."),
  picking: gettext("Click the map where %s serves from."),
  placed: gettext("Location set on the map: %s"),
  suspendAsk: gettext("Suspend this provider? No new needs are dispatched to it; those under way go on."),
};
const box = document.getElementById("flash");
showKeptFlash(box);

async function send(url, method, data, done) {
  const buttons = document.querySelectorAll(".ns-page button");
  buttons.forEach((b) => { b.disabled = true; });
  const { ok, status, body } = await call(url, { method, data });
  if (ok) {
    keepFlash(done, "ok");
    window.location.reload();
    return;
  }
  if (status === 409) {
    keepFlash([T.stale, ...messages(body, T.failed)], "error");
    window.location.reload();
    return;
  }
  buttons.forEach((b) => { b.disabled = b.hasAttribute("data-confirm") && !b.closest("li").dataset.lon; });
  flash(box, messages(body, `${T.failed} (HTTP ${status})`));
  box.scrollIntoView({ block: "nearest" });
}

const providerUrl = (row) => `${config.urls.providers}${row.dataset.provider}/`;
const version = (row) => Number(row.dataset.version);

// ---- pending registrations and the map ---------------------------------------------------
const mapElement = document.getElementById("services-map");
const hint = document.getElementById("map-hint");
let picked = null;
let view = null;
const markers = new Map();

function mark(row) {
  if (!view || !row.dataset.lon) return;
  const lngLat = [Number(row.dataset.lon), Number(row.dataset.lat)];
  let marker = markers.get(row);
  if (!marker) {
    const dot = document.createElement("div");
    dot.className = "ns-point";
    marker = new view.maplibregl.Marker({ element: dot }).setLngLat(lngLat).addTo(view.map);
    markers.set(row, marker);
  } else {
    marker.setLngLat(lngLat);
  }
  markers.forEach((m, r) => m.getElement().classList.toggle("is-picked", r === picked));
}

function pick(row) {
  picked = row;
  document.querySelectorAll(".ns-pending-list li").forEach((li) => li.classList.toggle("is-picked", li === row));
  hint.textContent = interpolate(T.picking, [row.querySelector(".ns-who b").textContent]);
  markers.forEach((m, r) => m.getElement().classList.toggle("is-picked", r === row));
  if (view && row.dataset.lon) view.map.easeTo({ center: [Number(row.dataset.lon), Number(row.dataset.lat)], zoom: Math.max(view.map.getZoom(), 15) });
}

if (mapElement) {
  createMap(mapElement, { style: config.urls.style, controls: false, modules: false }).then((made) => {
    view = made;
    // The grids and the buildings and units to find the place by (no preset of households).
    const shown = new Set(["communities", "grids", "buildings", "units"]);
    view.setLayers(Object.fromEntries(view.meta.layers.map((l) => [l.name, shown.has(l.name)])));
    view.map.addControl(new view.maplibregl.NavigationControl({ showCompass: false }), "top-left");
    view.setClickMode(({ lngLat }) => {
      if (!picked) {
        hint.textContent = gettext("Choose a registration, then click the map.");
        return;
      }
      picked.dataset.lon = lngLat.lng.toFixed(7);
      picked.dataset.lat = lngLat.lat.toFixed(7);
      picked.dataset.moved = "1";
      picked.querySelector("[data-where]").textContent = interpolate(T.placed, [`${picked.dataset.lon}, ${picked.dataset.lat}`]);
      picked.querySelector("[data-confirm]").disabled = false;
      mark(picked);
    });
    document.querySelectorAll(".ns-pending-list li").forEach(mark);
    window.gridlineServices = { view };
    document.body.dataset.servicesMap = "1";
  }).catch((err) => flash(box, `${T.failed}: ${err.message}`));
}

document.querySelectorAll(".ns-pending-list li").forEach((row) => {
  row.querySelector("[data-pick]").addEventListener("click", () => pick(row));
  row.querySelector("[data-confirm]").addEventListener("click", () => {
    const data = { version: version(row) };
    if (row.dataset.moved) {
      data.location = { type: "Point", coordinates: [Number(row.dataset.lon), Number(row.dataset.lat)] };
    }
    send(`${providerUrl(row)}confirm/`, "POST", data, T.confirmed);
  });
  row.querySelector("form[data-refuse]").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send(`${providerUrl(row)}refuse/`, "POST", { version: version(row), reason: ev.target.reason.value.trim() }, T.refused);
  });
});

// ---- the providers and their offers ------------------------------------------------------
document.querySelectorAll(".ns-providers tr[data-provider]").forEach((row) => {
  const suspend = row.querySelector("[data-suspend]");
  if (suspend) {
    suspend.addEventListener("click", () => {
      if (window.confirm(T.suspendAsk)) send(`${providerUrl(row)}suspend/`, "POST", { version: version(row) }, T.suspended);
    });
  }
  const resume = row.querySelector("[data-resume]");
  if (resume) resume.addEventListener("click", () => send(`${providerUrl(row)}confirm/`, "POST", { version: version(row) }, T.confirmed));
  row.querySelectorAll("li[data-offer] [data-toggle]").forEach((button) => {
    const line = button.closest("li");
    button.addEventListener("click", () => {
      send(`${config.urls.offers}${line.dataset.offer}/`, "PATCH", { version: Number(line.dataset.version), active: button.dataset.toggle === "on" }, T.saved);
    });
  });
  const add = row.querySelector("form[data-add-offer]");
  if (add) {
    add.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = {
        provider: Number(row.dataset.provider),
        kind: add.kind.value,
        capacity: Number(add.capacity.value),
        availability: add.availability.value.trim(),
      };
      if (add.radius_m.value) data.radius_m = Number(add.radius_m.value);
      send(config.urls.offers, "POST", data, T.added);
    });
  }
});

// ---- a provider the community enters: pending until placed on the map and confirmed ----------
const entry = document.querySelector("form[data-new-provider]");
if (entry) {
  entry.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = {
      kind: entry.kind.value,
      name: entry.name.value.trim(),
      organisation: entry.organisation.value.trim(),
      phone: entry.phone.value.trim(),
      offers: [{ kind: entry.offer_kind.value, capacity: Number(entry.capacity.value), availability: entry.availability.value.trim() }],
    };
    if (entry.community) data.community = Number(entry.community.value);
    send(config.urls.providers, "POST", data, T.entered);
  });
}

document.querySelector(".ns-page").dataset.ready = "1";
