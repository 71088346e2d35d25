// The boundary editor's Leaflet map: the base map, Geoman's options (snapping, no toolbar of
// its own: the editor's buttons call the API), the panes in drawing order, and the layers the
// editor fills: proposed grids, current outlines, neighbours (snap targets), problems and the
// ground that changes hands.
import { addBasemap } from "../gridline/leaflet-base.js";
import { actionOf } from "./editor-panel.js";
import { T } from "./words.js";

const ACTION_COLOURS = { unchanged: "#3b7dd8", reshape: "#7b3fb5", new: "#1a9850", retire: "#888" };
export const PROBLEM_COLOURS = { overlap: "#d7301f", gap: "#f28e1c" };

export const gridStyleOf = (p, selected) => {
  const colour = ACTION_COLOURS[actionOf(p)] || ACTION_COLOURS.unchanged;
  return {
    pane: "grids", color: selected ? "#111" : colour, weight: selected ? 3.5 : 1.8,
    fillColor: colour, fillOpacity: selected ? 0.35 : (actionOf(p) === "unchanged" ? 0.08 : 0.2),
  };
};

export function createEditorMap(config) {
  const map = L.map("map", { minZoom: 3, maxZoom: 20 });
  L.control.scale({ imperial: false }).addTo(map);
  addBasemap(map, config.basemap);
  if (config.extent) {
    const e = config.extent;
    map.fitBounds([[e[1], e[0]], [e[3], e[2]]], { padding: [10, 10] });
  } else {
    map.setView([29.35, 105.93], 12);
  }
  // Geoman: no toolbar of its own (ours calls the API); snapping on everything drawn.
  map.pm.setGlobalOptions({ snappable: true, snapDistance: 15, allowSelfIntersection: false });
  if (map.pm.setLang && document.documentElement.lang.startsWith("zh")) map.pm.setLang("zh");

  const panes = { current: 410, grids: 420, neighbours: 415, impact: 430, problems: 440 };
  Object.entries(panes).forEach(([name, z]) => { map.createPane(name).style.zIndex = z; });

  // Snap targets only: pmIgnore keeps Geoman from editing them, snapIgnore false keeps them
  // in the snap list.
  const neighbours = L.geoJSON(config.neighbours, {
    pane: "neighbours", pmIgnore: true, snapIgnore: false, interactive: false,
    style: { color: "#8a96a3", weight: 1.2, fillOpacity: 0.04, dashArray: "2 4" },
  }).addTo(map);
  const currentLayer = L.featureGroup([], { pmIgnore: true, snapIgnore: true });
  const gridsLayer = L.featureGroup().addTo(map);
  const problemsLayer = L.featureGroup().addTo(map);
  const impactLayer = L.featureGroup();
  L.control.layers(null, {
    [T.proposed]: gridsLayer, [T.current]: currentLayer, [T.neighbours]: neighbours,
    [T.problems]: problemsLayer, [T.changedGround]: impactLayer,
  }, { collapsed: true, position: "topright" }).addTo(map);
  return { map, neighbours, currentLayer, gridsLayer, problemsLayer, impactLayer };
}
