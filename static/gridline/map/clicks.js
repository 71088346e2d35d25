// Clicks, popups, hover and selection. A click goes, in this order, to the click mode (fire
// mode takes every click, symbols included), else to the top-most feature under the pointer
// that something answers for: the layer's handler (a module's or the page's), an aggregate
// (zoom in to where its features show), or a layer with a page of its own (a popup linking
// to it). Lines and labels nobody answers for let the click through to what is below.
import { esc } from "../api.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const SLOP = 5; // px around the pointer: a finger or a small dot is easy to miss

export function installClicks(view) {
  const { map, maplibregl } = view;
  const popup = new maplibregl.Popup({ closeButton: true, maxWidth: "20rem", offset: 8 });
  view.popup = (lngLat, content) => {
    popup.setLngLat(lngLat);
    if (typeof content === "string") popup.setHTML(content);
    else popup.setDOMContent(content);
    popup.addTo(map);
    return popup;
  };
  view.closePopup = () => popup.remove();

  const sourceOf = (f) => ({ source: f.source, sourceLayer: f.sourceLayer, id: f.id });
  const featuresAt = (point) => {
    const box = [[point.x - SLOP, point.y - SLOP], [point.x + SLOP, point.y + SLOP]];
    return map.queryRenderedFeatures(box).filter((f) => f.source === "gridline");
  };
  const answers = (f) => {
    const layer = view.layerMeta[f.sourceLayer];
    if (!layer) return false;
    if (view._handlers[f.sourceLayer]) return true;
    if (f.properties.n !== undefined) return Boolean(layer.aggregatedBelow);
    return Boolean(layer.link);
  };

  // A popup naming the feature and linking to its page: the default for layers with a link.
  const linkPopup = (f, layer) => {
    const p = f.properties;
    const url = layer.link.replace("{fid}", encodeURIComponent(p.id ?? f.id));
    const title = (layer.label && p[layer.label]) || p.name || p.title || p.code || `#${p.id ?? f.id}`;
    return `<div class="map-popup"><a class="feature-link" href="${esc(url)}">${esc(title)}</a>`
      + `<div class="muted">${esc(layer.title)}</div></div>`;
  };

  map.on("click", (e) => {
    if (view.clickMode) {
      view.clickMode({ lngLat: e.lngLat, point: e.point });
      return;
    }
    for (const f of featuresAt(e.point)) {
      if (!answers(f)) continue;
      const layer = view.layerMeta[f.sourceLayer];
      const handler = view._handlers[f.sourceLayer];
      const result = handler ? handler(f, e.lngLat) : null;
      if (result === true) return;
      if (result) {
        view.popup(e.lngLat, result);
        return;
      }
      if (f.properties.n !== undefined && layer.aggregatedBelow) {
        map.flyTo({ center: e.lngLat, zoom: Math.max(map.getZoom() + 1, layer.aggregatedBelow + 0.2) });
        return;
      }
      if (layer.link) {
        view.popup(e.lngLat, linkPopup(f, layer));
        return;
      }
    }
    view.closePopup();
  });

  // Hover: the pointer over what answers a click, and the feature-state "hover" on it.
  let hovered = null;
  let frame = null;
  const setHover = (f) => {
    if (hovered && (!f || hovered.id !== f.id || hovered.sourceLayer !== f.sourceLayer)) {
      map.setFeatureState(sourceOf(hovered), { hover: false });
      hovered = null;
    }
    if (f && f.id !== undefined && !hovered) {
      hovered = f;
      map.setFeatureState(sourceOf(f), { hover: true });
    }
  };
  map.on("mousemove", (e) => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = null;
      if (view.clickMode) return;
      const top = featuresAt(e.point).find(answers);
      map.getCanvas().style.cursor = top ? "pointer" : "";
      setHover(top || null);
    });
  });
  map.getCanvas().addEventListener("mouseleave", () => setHover(null));

  // The selected feature (a grid whose panel is open): outlined through feature-state.
  let selected = null;
  view.select = (layer, id) => {
    if (selected) map.setFeatureState(selected, { selected: false });
    selected = id == null ? null : { source: "gridline", sourceLayer: layer, id: Number(id) };
    if (selected) map.setFeatureState(selected, { selected: true });
  };
  view.describe = (f) => linkPopup(f, view.layerMeta[f.sourceLayer]);
  view.words = { close: _("Close") };
}
