// The 一标三实 layers' styles (issue #17): buildings as quiet grey context under everything
// else, units as small points coloured by the group of their type. Below their aggregation
// zoom both are one point per grid (`code` + `n`), growing with the log of the count.
(function () {
  "use strict";
  const perGrid = (props, colour) => ({
    radius: Math.min(3 + 2.5 * Math.log10((props.n || 1) + 1), 12), fill: true,
    fillOpacity: 0.6, fillColor: colour, color: "#fff", weight: 1,
  });
  window.gridlineLayerStyles = Object.assign(window.gridlineLayerStyles || {}, {
    buildings: (props, zoom, layer) => {
      const s = layer.style;
      if (props.n !== undefined) return perGrid(props, s.color);
      return { fill: true, fillColor: s.fillColor, fillOpacity: s.fillOpacity, color: s.color,
        weight: s.weight, radius: 2 };
    },
    units: (props, zoom, layer) => {
      const s = layer.style;
      if (props.n !== undefined) return perGrid(props, s.color);
      return { radius: s.radius, fill: true, fillOpacity: 0.9,
        fillColor: (s.groups || {})[props.group] || s.color, color: "#fff", weight: 1 };
    },
  });
})();
