// The map of my grid: the platform's map (worker preset), the grid's outline, my position with
// its accuracy, and what I changed on the phone.
import { centreOn, createGridMap } from "../map.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

function render(el, params, app) {
  const { h } = app.ui;
  const t = app.t;
  let view = null;
  let gone = false;
  const box = h("div", { class: "map-box", "data-testid": "grid-map" });
  const accuracy = h("span", { class: "accuracy" });
  const showAccuracy = () => {
    const p = app.position;
    accuracy.textContent = p ? `${t("Accuracy")} ±${Math.round(p.accuracy)} m` : (app.geo.error || t("No location fix yet."));
  };
  const mine = h("button", { type: "button", class: "button float", onclick: () => {
    if (app.position) centreOn(view, app.position);
    else app.ui.toast(app.geo.error || t("No location fix yet."));
  } }, t("My position"));
  el.classList.add("full");
  el.append(box, h("div", { class: "map-bar" }, accuracy, mine));
  showAccuracy();
  app.addEventListener("position", showAccuracy);
  createGridMap(box, app)
    .then((v) => {
      if (gone) v.map.remove();
      else view = v;
    })
    .catch((err) => box.replaceChildren(h("p", { class: "empty" }, err.message)));
  return () => {
    gone = true;
    app.removeEventListener("position", showAccuracy);
    if (view) view.map.remove();
  };
}

export const routes = [{ path: "/map", title: _("Map of my grid"), render }];
