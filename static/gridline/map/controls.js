// The map's controls: the collapsible layer panel (presets remembered per user, layers in
// two groups, the filters each layer declares) and the legend, which shows only what is on
// screen: the entries of the layers that are on, at the current zoom (aggregates below a
// layer's aggregation zoom, symbols above), plus the blocks the page and modules add.
import { esc } from "../api.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const PRESET_KEY = "gridline.map.preset";

export function presetKey(meta) {
  return `${PRESET_KEY}.${(meta.user && meta.user.name) || ""}`;
}

// A control: a box MapLibre places in a corner; `collapsed` starts it folded on a phone.
function box(className, title) {
  const el = document.createElement("details");
  el.className = `maplibregl-ctrl map-box ${className}`;
  el.open = window.innerWidth > 700;
  el.innerHTML = `<summary>${esc(title)}</summary><div class="map-box-body"></div>`;
  return { el, body: el.querySelector(".map-box-body"), onAdd: () => el, onRemove: () => el.remove() };
}

function swatch(entry) {
  const shape = entry.shape || "fill";
  return `<i class="key key-${esc(shape)}" style="--key:${esc(entry.colour)}">${
    shape === "count" ? "9" : ""}</i>`;
}

function installLayerPanel(view) {
  const { map, meta } = view;
  const panel = box("map-layers", _("Layers"));
  const presets = meta.presets || [];
  const groups = [
    [_("Areas and base"), meta.layers.filter((l) => l.kind !== "point")],
    [_("On the map"), meta.layers.filter((l) => l.kind === "point")],
  ];
  const filterRows = (layer) => Object.entries(layer.filters || {}).map(([param, f]) => {
    const chosen = ((view.tiles.filters[layer.name] || {})[param]) || [];
    return `<details class="layer-filter" data-layer="${esc(layer.name)}" data-param="${esc(param)}">
      <summary>${esc(f.title)}</summary>${f.choices.map(([v, label]) => `<label><input type="checkbox"
        value="${esc(v)}"${!chosen.length || chosen.includes(v) ? " checked" : ""}> ${esc(label)}</label>`).join("")}
    </details>`;
  }).join("");
  const draw = () => {
    panel.body.innerHTML = `${presets.length > 1 ? `<label class="preset">${esc(_("View"))}
      <select id="map-preset">${presets.map((p) => `<option value="${esc(p.name)}"${
        p.name === view.preset ? " selected" : ""}>${esc(p.title)}</option>`).join("")}</select></label>` : ""}
      ${groups.filter(([, ls]) => ls.length).map(([title, ls]) => `<fieldset><legend>${esc(title)}</legend>${
        ls.map((l) => `<div class="layer-row"><label><input type="checkbox" name="layer" value="${esc(l.name)}"${
          view.isOn(l.name) ? " checked" : ""}> ${esc(l.title)}</label>${view.isOn(l.name) ? filterRows(l) : ""}</div>`).join("")
      }</fieldset>`).join("")}`;
  };
  view.preset = meta.preset;
  draw();
  panel.el.addEventListener("change", async (ev) => {
    const t = ev.target;
    if (t.id === "map-preset") {
      await view.applyPreset(t.value);
    } else if (t.name === "layer") {
      await view.setLayers({ [t.value]: t.checked });
      draw();
    } else if (t.closest(".layer-filter")) {
      const d = t.closest(".layer-filter");
      const all = [...d.querySelectorAll("input")];
      const on = all.filter((i) => i.checked).map((i) => i.value);
      await view.setFilter(d.dataset.layer, d.dataset.param, on.length === all.length ? [] : on);
    }
  });
  // A preset: its layers on (the rest off), its filters, its figure (the page listens to
  // "gridline:preset"); remembered for this user on this browser.
  view.applyPreset = async (name) => {
    const preset = presets.find((p) => p.name === name);
    if (!preset) return;
    view.preset = name;
    try {
      localStorage.setItem(presetKey(meta), name);
    } catch {
      // private mode: not remembered
    }
    view.tiles.filters = JSON.parse(JSON.stringify(preset.filters || {}));
    const changes = Object.fromEntries(meta.layers.map((l) => [l.name, preset.layers.includes(l.name)]));
    window.dispatchEvent(new CustomEvent("gridline:preset", { detail: preset }));
    await view.setLayers(changes);
    draw();
  };
  map.addControl(panel, "top-right");
  view.layerPanel = { redraw: draw, el: panel.el };
}

function installLegend(view) {
  const { map, meta } = view;
  const legend = box("map-legend", _("Legend"));
  const blocks = new Map();
  const inRange = (e, z) => (e.min_zoom == null || z >= e.min_zoom) && (e.max_zoom == null || z < e.max_zoom);
  const draw = () => {
    const z = map.getZoom();
    const parts = [];
    blocks.forEach((render, key) => {
      const out = render(view);
      if (out) parts.push(`<div class="legend-block" data-key="${esc(key)}">${out}</div>`);
    });
    // A layer below its own minimum zoom has nothing on screen: no entry.
    meta.layers.filter((l) => view.isOn(l.name) && (l.legend || []).length && z >= (l.minZoom || 0)).forEach((l) => {
      const entries = l.legend.filter((e) => inRange(e, z));
      if (!entries.length) return;
      // A layer with one entry saying its own name: one row, not a title and its echo.
      if (entries.length === 1 && entries[0].label === l.title) {
        parts.push(`<div class="legend-layer" data-layer="${esc(l.name)}">${swatch(entries[0])}${esc(l.title)}</div>`);
        return;
      }
      parts.push(`<div class="legend-layer" data-layer="${esc(l.name)}"><b>${esc(l.title)}</b>${
        entries.map((e) => `<div class="legend-entry">${swatch(e)}${esc(e.label)}</div>`).join("")}</div>`);
    });
    legend.body.innerHTML = parts.join("") || `<div class="muted">${esc(_("Nothing shown"))}</div>`;
  };
  let timer = null;
  map.on("zoomend", () => { clearTimeout(timer); timer = setTimeout(draw, 100); });
  view.legend = {
    add(key, render) { blocks.set(key, render); draw(); },
    refresh: draw,
    el: legend.el,
  };
  map.addControl(legend, "bottom-right");
  draw();
}

// The side panel (a grid's figures, a sensor's details): one at a time, over the right edge.
function installPanel(view) {
  const el = document.createElement("aside");
  el.className = "map-panel";
  el.id = "panel";
  el.hidden = true;
  el.innerHTML = `<button type="button" class="map-panel-close" aria-label="${esc(_("Close"))}">×</button>
    <div class="map-panel-body"></div>`;
  view.element.append(el);
  const body = el.querySelector(".map-panel-body");
  let onClose = null;
  view.panel = {
    el,
    body,
    key: null,
    open(content, { key = null, closed = null } = {}) {
      if (onClose) onClose();
      onClose = closed;
      if (typeof content === "string") body.innerHTML = content;
      else body.replaceChildren(content);
      view.panel.key = key;
      el.dataset.key = key || "";
      el.hidden = false;
      view.element.classList.add("has-panel");
    },
    close() {
      el.hidden = true;
      view.panel.key = null;
      delete el.dataset.key;
      view.element.classList.remove("has-panel");
      if (onClose) onClose();
      onClose = null;
    },
  };
  el.querySelector(".map-panel-close").addEventListener("click", () => view.panel.close());
}

export function installControls(view) {
  const { map, maplibregl } = view;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  installLayerPanel(view);
  installLegend(view);
  installPanel(view);
}
