// The incidents layer on the map (installed by the map core from the registry): a popup
// with the incident's title, status and a link to its page; overdue steps said in words.
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
import { esc } from "../gridline/api.js";

export default function install(view, layer) {
  const style = layer.style || {};
  view.onFeatureClick(layer.name, (feature) => {
    const p = feature.properties;
    if (p.n !== undefined) return null; // a grid's count: the core zooms in
    const url = (layer.link || "/incidents/{fid}/").replace("{fid}", encodeURIComponent(p.id ?? feature.id));
    const colour = (style.statuses || {})[p.status] || "#868e96";
    const status = (style.statusLabels || {})[p.status] || p.status;
    return `<div class="map-popup incident-popup" data-incident="${esc(p.id ?? feature.id)}">
      <a class="feature-link" href="${esc(url)}">${esc(p.title || `#${p.id}`)}</a>
      <div><i class="key key-circle" style="--key:${esc(colour)}"></i>${esc(status)}${
        p.step_overdue === true ? ` · <b class="alarm">${esc(_("step overdue"))}</b>` : ""}</div>
    </div>`;
  });
}
