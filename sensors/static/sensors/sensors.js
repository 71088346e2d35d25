// Sensor layers on the command-centre map: a symbol per role in its status colour, counts per
// grid at low zoom, filter boxes by type and status in the layer switcher, the camera
// coverage choropleth with its legend. Built on map.js's small API (window.gridlineMap).
(() => {
  "use strict";
  const G = window.gridlineMap;
  if (!G) return;
  const { map, layers, config, T, esc } = G;
  const meta = Object.fromEntries(config.layers.map((l) => [l.name, l]));
  const sensors = meta.sensors;
  const coverage = meta.camera_coverage;

  // ---- symbols: a shape per role, filled with the status colour ----------------------------
  const SHAPES = {
    camera: '<rect x="2.5" y="2.5" width="13" height="13" rx="2"/>',
    voice_pole: '<path d="M9 1.5 L16.5 15.5 H1.5 Z"/>',
    water_tank: '<path d="M9 1.5 C9 1.5 15 8.5 15 11.5 A6 6 0 0 1 3 11.5 C3 8.5 9 1.5 9 1.5 Z"/>',
    detector: '<path d="M9 1.5 L16.5 9 L9 16.5 L1.5 9 Z"/>',
    other: '<circle cx="9" cy="9" r="6.5"/>',
  };
  const shapeSvg = (role, fill, size = 18) => `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${
    size}" viewBox="0 0 18 18"><g fill="${fill}" stroke="#fff" stroke-width="1.5">${SHAPES[role] || SHAPES.other}</g></svg>`;
  const icons = {};
  const iconFor = (role, fill) => {
    const key = `${role}|${fill}`;
    if (!icons[key]) {
      icons[key] = L.icon({
        iconUrl: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(shapeSvg(role, fill))}`,
        iconSize: [18, 18],
      });
    }
    return icons[key];
  };

  const coverageFill = (share, style) => {
    let i = 0;
    while (i < style.breaks.length && share > style.breaks[i]) i += 1;
    return style.ramp[i];
  };
  const pct = (v) => `${Math.round(v * 100)}%`;

  window.gridlineLayerStyles = Object.assign(window.gridlineLayerStyles || {}, {
    sensors: (props, zoom, layer) => {
      const s = layer.style;
      if (props.code !== undefined && props.n !== undefined && props.status === undefined) {
        // A grid's devices: the circle grows with the log of the count, ringed red when
        // some of them are down.
        const down = props.down || 0;
        return { radius: Math.min(4 + 3 * Math.log10(props.n + 1), 16), fill: true, fillOpacity: 0.75,
          fillColor: s.color, color: down ? s.statuses.fault : "#fff", weight: down ? 2 : 1 };
      }
      if (props.status === undefined) {  // a cluster of dense points
        return { radius: Math.min(4 + 2.5 * Math.log10((props.n || 1) + 1), 14), fill: true,
          fillOpacity: 0.85, fillColor: s.color, color: "#fff", weight: 1 };
      }
      return { icon: iconFor(props.role, s.statuses[props.status] || s.color) };
    },
    camera_coverage: (props, zoom, layer) => {
      const s = layer.style;
      if (props.gap) {
        return { fill: true, fillColor: s.gap, fillOpacity: 0.45, color: s.gap, weight: 1.2, dashArray: "4 3" };
      }
      return { fill: true, fillColor: coverageFill(props.share, s), fillOpacity: 0.65, color: "#5b6875", weight: 0.6 };
    },
    camera_sectors: (props, zoom, layer) => ({
      fill: true, fillColor: layer.style.color, fillOpacity: layer.style.fillOpacity,
      color: layer.style.color, weight: layer.style.weight,
    }),
  });

  // ---- filters in the layer switcher --------------------------------------------------------
  // One box per value, all ticked at first; only the filters that leave something out go into
  // the tile URL, so the common view shares its cached tiles. Nothing ticked: the layer hides.
  const chosen = {};
  const filterUrl = (layer) => {
    const params = new URLSearchParams();
    Object.entries(layer.filters).forEach(([name, f]) => {
      const ticked = chosen[layer.name][name];
      if (ticked.size < f.choices.length) [...ticked].sort().forEach((v) => params.append(name, v));
    });
    const query = params.toString();
    return query ? `${layer.url}?${query}` : layer.url;
  };
  const applyFilters = (layer) => {
    const vg = layers[layer.name];
    const empty = Object.values(chosen[layer.name]).some((ticked) => ticked.size === 0);
    vg._filteredOut = empty;
    if (empty) { if (map.hasLayer(vg)) map.removeLayer(vg); return; }
    vg.setUrl(filterUrl(layer), !map.hasLayer(vg));
    if (!map.hasLayer(vg) && vg._wanted !== false) map.addLayer(vg);
  };
  const control = G.layerControl.getContainer();
  config.layers.filter((l) => Object.keys(l.filters || {}).length).forEach((layer) => {
    chosen[layer.name] = {};
    const box = document.createElement("div");
    box.className = "layer-filters";
    box.dataset.layer = layer.name;
    // The symbols of the roles head the layer's filters (the status colours are in the legend).
    const roles = layer.style.roles ? `<div class="role-symbols">${Object.entries(layer.style.roles).map(([role, label]) =>
      `<span data-role="${esc(role)}"><span class="symbol">${shapeSvg(role, "#5b6875", 13)}</span>${esc(label)}</span>`).join("")}</div>` : "";
    box.innerHTML = `<b>${esc(layer.title)}</b>${roles}${Object.entries(layer.filters).map(([name, f]) => {
      chosen[layer.name][name] = new Set(f.choices.map(([v]) => v));
      return `<fieldset data-filter="${esc(name)}"><legend>${esc(f.title)}</legend>${f.choices.map(([v, label]) => {
        const swatch = name === "status" && layer.style.statuses && layer.style.statuses[v]
          ? `<i class="dot" style="background:${layer.style.statuses[v]}"></i>` : "";
        return `<label><input type="checkbox" name="${esc(name)}" value="${esc(v)}" checked>${swatch}${esc(label)}</label>`;
      }).join("")}</fieldset>`;
    }).join("")}`;
    box.addEventListener("change", (ev) => {
      const input = ev.target;
      const set = chosen[layer.name][input.name];
      if (input.checked) set.add(input.value); else set.delete(input.value);
      applyFilters(layer);
    });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    control.querySelector(".leaflet-control-layers-list").appendChild(box);
  });
  // A layer the user switched off stays off when a filter changes.
  map.on("overlayadd", (ev) => { ev.layer._wanted = true; drawKey(); });
  map.on("overlayremove", (ev) => { if (!ev.layer._filteredOut) ev.layer._wanted = false; drawKey(); });

  // ---- legend: the symbols of the roles, the coverage classes ----------------------------
  const key = L.control({ position: "bottomright" });
  key.onAdd = () => {
    const div = L.DomUtil.create("div", "sensor-legend");
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  key.addTo(map);
  function drawKey() {
    const div = key.getContainer();
    let html = "";
    if (coverage && map.hasLayer(layers.camera_coverage)) {
      const s = coverage.style;
      const edges = [0, ...s.breaks];
      html += `<div class="legend-layer" data-legend="camera_coverage"><b>${esc(coverage.title)}</b>${s.ramp.map((c, i) =>
        `<div><i style="background:${c}"></i>${i < s.breaks.length ? `${pct(edges[i])}–${pct(s.breaks[i])}`
          : `> ${pct(edges[i])}`}</div>`).join("")}<div data-gap="1"><i class="gap" style="border-color:${
        s.gap};background:repeating-linear-gradient(45deg, ${s.gap} 0 2px, #fff 2px 5px)"></i>${esc(s.gapLabel)}</div></div>`;
    }
    div.innerHTML = html;
    div.hidden = !html;
  }
  drawKey();

  // ---- a device's popup --------------------------------------------------------------------
  if (layers.sensors) {
    layers.sensors.on("click", (ev) => {
      if (G.clickMode) return;
      const p = ev.layer.properties;
      if (p.status === undefined) { map.flyTo(ev.latlng, Math.max(map.getZoom() + 2, 14), { duration: 0.5 }); return; }
      L.popup().setLatLng(ev.latlng).setContent(`<b>${esc(p.name || p.code)}</b><br><small>${esc(p.code)}</small><br>${
        esc((sensors.style.statusLabels || {})[p.status] || p.status)}`).openOn(map);
    });
  }
  if (layers.camera_coverage) {
    layers.camera_coverage.on("click", (ev) => {
      if (G.clickMode) return;
      const p = ev.layer.properties;
      L.popup().setLatLng(ev.latlng).setContent(`<b>${esc(p.name)}</b> ${esc(p.code)}<br>${esc(T.coverageShare)}: ${
        pct(p.share)} · ${esc(T.cameras)}: ${p.cameras}`).openOn(map);
    });
  }
  G.sensorFilters = chosen;
})();
