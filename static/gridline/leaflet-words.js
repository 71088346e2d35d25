// Leaflet's own control words (the zoom buttons, the layer switcher's toggle, the title of
// its attribution link) are English in its source: here through gettext() (the page's
// /jsi18n/, domain djangojs), and django-leaflet gives the draw toolbar's as one JSON block per
// word (#draw-…, #edit-…). A classic script, not a module: it must run right after leaflet.js
// and before django-leaflet's classic widget code builds the admin's map. Applied again once
// the page is parsed: an admin page that shows a second map loads Leaflet again, which puts
// back its English defaults. Maps start after either.
(function () {
  "use strict";
  if (typeof gettext !== "function") return;
  const words = {
    zoomIn: gettext("Zoom in"),
    zoomOut: gettext("Zoom out"),
    layers: gettext("Layers"),
    leaflet: gettext("A JavaScript library for interactive maps"),
  };

  function drawWords(L) {
    // "draw-toolbar-buttons-marker" is L.drawLocal.draw.toolbar.buttons.marker.
    const blocks = document.querySelectorAll(
      "script[type='application/json'][id^='draw-'], script[type='application/json'][id^='edit-']",
    );
    for (const block of blocks) {
      const path = block.id.split("-");
      let node = L.drawLocal;
      for (const key of path.slice(0, -1)) node = node && node[key];
      if (node && typeof node[path[path.length - 1]] === "string") {
        node[path[path.length - 1]] = JSON.parse(block.textContent);
      }
    }
  }

  function apply() {
    const L = window.L;
    if (!L) return;
    L.Control.Zoom.prototype.options.zoomInTitle = words.zoomIn;
    L.Control.Zoom.prototype.options.zoomOutTitle = words.zoomOut;
    const link = document.createElement("a");
    link.href = "https://leafletjs.com";
    link.title = words.leaflet;
    link.textContent = "Leaflet";
    L.Control.Attribution.prototype.options.prefix = link.outerHTML;
    // The toggle's title is written in _initLayout with no option to change it.
    const initLayout = L.Control.Layers.prototype._initLayout;
    if (!initLayout.gridlineWords) {
      const withWords = function () {
        initLayout.call(this);
        if (this._layersLink) this._layersLink.title = words.layers;
      };
      withWords.gridlineWords = true;
      L.Control.Layers.prototype._initLayout = withWords;
    }
    if (L.drawLocal) drawWords(L);
  }

  apply();
  document.addEventListener("DOMContentLoaded", apply);
})();
