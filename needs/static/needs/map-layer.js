// The needs and providers layers on the map (installed by the map core from the registry):
// a need's popup with its number, title and status and a link to its page, overdue said in
// words; a provider's with its kind (and a unit's name: a person's is not on the map).
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
import { esc } from "../gridline/api.js";

function needPopup(layer, p, id) {
  const style = layer.style || {};
  const url = (layer.link || "/needs/{fid}/").replace("{fid}", encodeURIComponent(id));
  const colour = (style.statuses || {})[p.status] || "#868e96";
  const status = (style.statusLabels || {})[p.status] || p.status;
  return `<div class="map-popup need-popup" data-need="${esc(id)}">
    <a class="feature-link" href="${esc(url)}">${esc(p.title || p.number || `#${id}`)}</a>
    <div class="muted">${esc(p.number || "")}</div>
    <div><i class="key key-circle" style="--key:${esc(colour)}"></i>${esc(status)}${
      p.overdue === true ? ` · <b class="alarm">${esc(_("need overdue"))}</b>` : ""}</div>
  </div>`;
}

function providerPopup(layer, p, id) {
  const style = layer.style || {};
  const colour = (style.statuses || {})[p.kind] || "#868e96";
  const kind = (style.statusLabels || {})[p.kind] || p.kind;
  return `<div class="map-popup provider-popup" data-provider="${esc(id)}">
    ${p.label ? `<b>${esc(p.label)}</b>` : ""}
    <div><i class="key key-circle" style="--key:${esc(colour)}"></i>${esc(kind)}</div>
  </div>`;
}

export default function install(view, layer) {
  view.onFeatureClick(layer.name, (feature) => {
    const p = feature.properties;
    if (p.n !== undefined) return null; // a grid's count: the core zooms in
    const id = p.id ?? feature.id;
    return layer.name === "needs" ? needPopup(layer, p, id) : providerPopup(layer, p, id);
  });
}
