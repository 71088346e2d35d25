// app.pickPoint({title, at}) → Promise<{lon, lat} | null>: a full-screen sheet with the grid's
// map; a tap places the point, "my position" takes the GPS fix, "use this point" confirms.
// Without a map (no WebGL, never loaded offline) "my position" still works.
import { centreOn, createGridMap } from "./map.js";

export function createPicker(app) {
  const { h } = app.ui;
  const t = app.t;
  return function pickPoint({ title = t("Choose the place"), at = null } = {}) {
    return new Promise((resolve) => {
      let point = at ? { lon: at.lon, lat: at.lat } : null;
      let view = null;
      let marker = null;
      const where = h("p", { class: "pick-where" });
      const ok = h("button", { type: "button", class: "button primary", disabled: !point }, t("Use this point"));
      const show = () => {
        where.textContent = point ? `${t("Chosen")}: ${point.lon.toFixed(6)}, ${point.lat.toFixed(6)}` : t("Tap the map where it is.");
        ok.disabled = !point;
        if (view && point) {
          if (!marker) marker = new view.maplibregl.Marker({ color: "#e8590c" });
          marker.setLngLat([point.lon, point.lat]).addTo(view.map);
        }
      };
      const close = (answer) => {
        sheet.remove();
        if (view) view.map.remove();
        resolve(answer);
      };
      const mine = h("button", { type: "button", class: "button", onclick: async () => {
        const p = await app.geo.once();
        if (!p) {
          app.ui.toast(app.geo.error || t("No location fix yet."), { kind: "error" });
          return;
        }
        point = { lon: p.lon, lat: p.lat, accuracy: p.accuracy };
        show();
        centreOn(view, p);
      } }, t("My position"));
      const mapBox = h("div", { class: "pick-map", "data-testid": "pick-map" });
      const sheet = h("div", { class: "picker", role: "dialog", "aria-modal": "true", "aria-label": title },
        h("header", { class: "top" },
          h("button", { type: "button", class: "icon back", "aria-label": t("Cancel"), onclick: () => close(null) }, "×"),
          h("h1", {}, title)),
        mapBox,
        h("div", { class: "pick-bar" }, where, h("div", { class: "buttons" }, mine, ok)));
      ok.addEventListener("click", () => close(point));
      document.body.append(sheet);
      show();
      createGridMap(mapBox, app, { onClick: (p) => { point = p; show(); } })
        .then((v) => {
          view = v;
          if (point) { show(); centreOn(view, point); }
        })
        .catch((err) => mapBox.replaceChildren(h("p", { class: "empty" }, err.message)));
    });
  };
}
