// Fire mode (火情模式) on the command-centre map: a click on the map (or coordinates typed in)
// asks the fire-response API for the nearest water tanks, the cameras that see the point and
// the voice poles around it, draws them and lists them in the side panel; the ticked poles
// get a broadcast (一键广播) whose per-pole deliveries are followed until none is queued.
(() => {
  "use strict";
  const G = window.gridlineMap;
  if (!G) return;
  const { map, config, T, esc } = G;
  const API = "/api/sensors/";
  const POLL_MS = 2000;
  const TANKS = 5;
  const POLES_WITHIN_M = 1000;
  const sensorsLayer = config.layers.find((l) => l.name === "sensors");
  const STATUS_COLOURS = sensorsLayer ? sensorsLayer.style.statuses : {};
  const STATUS_LABELS = sensorsLayer ? sensorsLayer.style.statusLabels : {};
  const STATE_COLOURS = { queued: "#8c959f", sent: "#1f6feb", acknowledged: "#2da44e", failed: "#d7301f" };
  const panel = document.getElementById("panel");
  const panelBody = document.getElementById("panel-body");
  const fire = { on: false, seq: 0, poll: null, point: null, broadcast: null };
  const drawn = L.layerGroup().addTo(map);
  // A device property rendered as a link: http(s) or rtsp with a host only, whatever the
  // server accepted (defence in depth against `javascript:` and its spellings).
  const SAFE_LINK = /^(https?|rtsp):\/\/[^\s/?#]+/i;
  const safeLink = (value) => (typeof value === "string" && SAFE_LINK.test(value) ? value : null);

  const csrfToken = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };
  // GET or POST JSON; resolves to {ok, status, body}, never throws on an HTTP error.
  async function call(url, data) {
    const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (data !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(data);
    }
    try {
      const response = await fetch(url, options);
      let body = null;
      try { body = await response.json(); } catch { body = null; }
      return { ok: response.ok, status: response.status, body };
    } catch (err) {
      return { ok: false, status: 0, body: { errors: [{ message: err.message }] } };
    }
  }
  const problems = (result) => {
    const errors = (result.body && result.body.errors) || [];
    if (!errors.length) return [`HTTP ${result.status}`];
    return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  };
  const metres = (d) => `${Math.round(d).toLocaleString()} m`;
  const percent = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)}%`);
  const statusText = (s) => `<span class="status" data-status="${esc(s)}"><i class="dot" style="background:${
    STATUS_COLOURS[s] || "#999"}"></i>${esc(STATUS_LABELS[s] || s)}</span>`;
  const latLng = (lonLat) => [lonLat[1], lonLat[0]];

  // ---- the toggle and the coordinates box ---------------------------------------------------
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    const div = L.DomUtil.create("div", "fire-control leaflet-bar");
    div.innerHTML = `<button type="button" id="fire-toggle" aria-pressed="false">${esc(T.fireMode)}</button>
      <form id="fire-form" hidden><div class="fire-hint">${esc(T.fireHint)}</div>
        <input id="fire-coords" placeholder="${esc(T.lonLat)}" aria-label="${esc(T.lonLat)}" autocomplete="off">
        <button type="submit" id="fire-go">${esc(T.locate)}</button></form>`;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  control.addTo(map);
  const toggle = document.getElementById("fire-toggle");
  const form = document.getElementById("fire-form");
  const setMode = (on) => {
    fire.on = on;
    G.clickMode = on ? "fire" : null;
    toggle.setAttribute("aria-pressed", String(on));
    toggle.classList.toggle("on", on);
    form.hidden = !on;
    document.body.dataset.fireMode = on ? "1" : "0";
    map.getContainer().classList.toggle("fire-cursor", on);
    if (!on) {
      stopPolling();
      drawn.clearLayers();
      if (panel.dataset.fire) { panel.hidden = true; delete panel.dataset.fire; }
    }
  };
  toggle.addEventListener("click", () => setMode(!fire.on));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const parts = document.getElementById("fire-coords").value.split(/[\s,，]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v))) {
      showPanel(`<p class="flash error" id="fire-error">${esc(T.badCoordinates)}</p>`);
      return;
    }
    respond(parts[0], parts[1], true);
  });
  map.on("click", (ev) => { if (fire.on) respond(ev.latlng.lng, ev.latlng.lat, false); });

  const showPanel = (html) => {
    panelBody.innerHTML = html;
    delete panel.dataset.gridId;
    delete panel.dataset.grid;
    panel.dataset.fire = "1";
    panel.hidden = false;
  };
  function stopPolling() {
    if (fire.poll) clearTimeout(fire.poll);
    fire.poll = null;
  }

  // ---- fire response ----------------------------------------------------------------------
  async function respond(lon, lat, fly) {
    const seq = ++fire.seq;
    stopPolling();
    fire.point = [lon, lat];
    drawn.clearLayers();
    L.marker([lat, lon], { icon: L.divIcon({ className: "fire-marker", html: "<span></span>", iconSize: [22, 22] }),
      interactive: false }).addTo(drawn);
    showPanel(`<section id="fire-response" data-state="loading"><h2>${esc(T.firePoint)}</h2><p>${esc(T.loading)}</p></section>`);
    const query = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6), tanks: TANKS, poles_within: POLES_WITHIN_M });
    const result = await call(`${API}fire-response/?${query}`);
    if (seq !== fire.seq) return;  // a newer click
    if (!result.ok) {
      showPanel(`<section id="fire-response" data-state="error"><h2>${esc(T.firePoint)}</h2><div class="flash error" id="fire-error">${
        problems(result).map((m) => `<div>${esc(m)}</div>`).join("")}</div></section>`);
      return;
    }
    draw(result.body, fly);
    list(result.body);
  }

  function draw(data, fly) {
    const point = L.latLng(data.point ? latLng(data.point) : latLng(fire.point));
    const bounds = L.latLngBounds([point]);
    data.poles.forEach((p) => {
      const at = latLng(p.location);
      L.circle(at, { radius: p.broadcast_radius, color: p.covers ? "#8250df" : "#9aa4ae", weight: p.covers ? 2 : 1,
        dashArray: p.covers ? null : "4 4", fillColor: "#8250df", fillOpacity: p.covers ? 0.1 : 0.02, interactive: false })
        .addTo(drawn);
      L.circleMarker(at, { radius: 6, color: "#fff", weight: 1.5, fillColor: STATUS_COLOURS[p.status] || "#8250df",
        fillOpacity: 1 }).bindTooltip(`${esc(p.name || p.code)} · ${metres(p.distance_m)}`).addTo(drawn);
      bounds.extend(at);
    });
    data.cameras.forEach((c) => {
      if (c.sector) {
        L.geoJSON(c.sector, { style: { color: "#1f6feb", weight: 1.5, fillColor: "#1f6feb", fillOpacity: 0.15 },
          interactive: false }).addTo(drawn);
      }
      const at = latLng(c.location);
      L.circleMarker(at, { radius: 5, color: "#fff", weight: 1.5, fillColor: STATUS_COLOURS[c.status] || "#1f6feb",
        fillOpacity: 1 }).bindTooltip(`${esc(c.name || c.code)} · ${metres(c.distance_m)}`).addTo(drawn);
      bounds.extend(at);
    });
    data.water_tanks.forEach((t) => {
      const at = latLng(t.location);
      L.polyline([point, at], { color: "#0a9396", weight: 2, dashArray: "6 4", interactive: false }).addTo(drawn);
      L.circleMarker(at, { radius: 7, color: "#fff", weight: 2, fillColor: "#0a9396", fillOpacity: 1 })
        .bindTooltip(`${metres(t.distance_m)} · ${percent(t.level_pct)}`, { permanent: true, direction: "right",
          className: "tank-label" }).addTo(drawn);
      bounds.extend(at);
    });
    if (fly && bounds.isValid()) map.fitBounds(bounds.pad(0.15), { maxZoom: 17 });
  }

  function list(data) {
    const g = data.grid;
    const where = g ? `${esc(g.name)} <small>${esc(g.code)}</small><br><small>${esc(g.street)} · ${esc(g.community)}</small>`
      : esc(T.outsideGrids);
    const p = data.point || fire.point;
    const tanks = data.water_tanks.map((t) => `<tr data-id="${t.id}" data-distance="${t.distance_m}" data-level="${
      t.level_pct ?? ""}"><td>${esc(t.name || t.code)}<br><small>${esc(t.code)}</small></td><td class="num">${
      metres(t.distance_m)}</td><td class="num">${percent(t.level_pct)}${t.volume_m3 != null ? `<br><small>${
      Math.round(t.volume_m3)} m³</small>` : ""}</td><td>${statusText(t.status)}</td></tr>`).join("");
    const cameras = data.cameras.map((c) => `<li data-id="${c.id}">${esc(c.name || c.code)} <small>${esc(c.code)}</small><br>${
      metres(c.distance_m)} · ${esc(T.fov)} ${Math.round(c.fov)}° · ${statusText(c.status)}${
      safeLink(c.stream) ? ` · <a href="${esc(c.stream)}" target="_blank" rel="noopener noreferrer">${
        esc(T.live)}</a>` : ""}</li>`).join("");
    const poles = data.poles.map((q) => `<li data-id="${q.id}" data-covers="${q.covers ? 1 : 0}"><label><input type="checkbox" name="pole" value="${
      q.id}"${q.covers ? " checked" : ""}> ${esc(q.name || q.code)}</label> <small>${esc(q.code)}</small><br>${
      metres(q.distance_m)} · ${esc(T.radius)} ${metres(q.broadcast_radius)}${q.covers ? ` · <b class="covers">${
      esc(T.covers)}</b>` : ""} · ${statusText(q.status)}<span class="delivery" data-pole="${q.id}"></span></li>`).join("");
    const none = `<p class="none">${esc(T.noneFound)}</p>`;
    showPanel(`<section id="fire-response" data-state="ready">
      <h2>${esc(T.firePoint)}</h2>
      <div class="code">${p[0].toFixed(5)}, ${p[1].toFixed(5)}</div><p>${where}</p>
      <h3>${esc(T.waterTanks)} (${data.water_tanks.length})</h3>
      ${tanks ? `<table id="fire-tanks"><thead><tr><th></th><th>${esc(T.distance)}</th><th>${esc(T.level)}</th><th></th></tr></thead><tbody>${tanks}</tbody></table>` : none}
      <h3>${esc(T.camerasSeeing)} (${data.cameras.length})</h3>
      ${cameras ? `<ul id="fire-cameras">${cameras}</ul>` : none}
      <h3>${esc(T.poles)} (${data.poles.length})</h3>
      ${poles ? `<ul id="fire-poles">${poles}</ul>` : none}
      <form id="broadcast-form">
        <label for="broadcast-message">${esc(T.broadcastMessage)}</label>
        <textarea id="broadcast-message" rows="4">${esc(T.fireWarning)}</textarea>
        <label>${esc(T.repeat)} <input type="number" id="broadcast-repeat" value="2" min="1" max="10"></label>
        <button type="submit" id="broadcast-send"${poles ? "" : " disabled"}>${esc(T.broadcastNow)}</button>
        <div id="broadcast-error" class="flash error" hidden></div>
        <div id="broadcast-status"></div>
      </form>
    </section>`);
    document.getElementById("broadcast-form").addEventListener("submit", (ev) => { ev.preventDefault(); send(); });
  }

  // ---- one-key broadcast --------------------------------------------------------------------
  async function send() {
    const error = document.getElementById("broadcast-error");
    const button = document.getElementById("broadcast-send");
    const poles = [...panelBody.querySelectorAll("input[name=pole]:checked")].map((i) => Number(i.value));
    const message = document.getElementById("broadcast-message").value.trim();
    error.hidden = true;
    if (!poles.length) { error.textContent = T.choosePoles; error.hidden = false; return; }
    button.disabled = true;
    const seq = fire.seq;
    const result = await call(`${API}broadcasts/`, {
      message, poles, repeat: Number(document.getElementById("broadcast-repeat").value) || 2, point: fire.point,
    });
    if (seq !== fire.seq) return;
    if (!result.ok) {
      error.innerHTML = problems(result).map((m) => `<div>${esc(m)}</div>`).join("");
      error.hidden = false;
      button.disabled = false;
      return;
    }
    follow(result.body, seq);
  }

  function follow(detail, seq) {
    fire.broadcast = detail;
    showDeliveries(detail);
    const queued = (detail.counts && detail.counts.queued) || 0;
    if (queued > 0) {
      fire.poll = setTimeout(async () => {
        const result = await call(`${API}broadcasts/${detail.id}/`);
        if (seq !== fire.seq) return;
        if (result.ok) follow(result.body, seq);
        else {
          const error = document.getElementById("broadcast-error");
          if (error) { error.innerHTML = problems(result).map((m) => `<div>${esc(m)}</div>`).join(""); error.hidden = false; }
        }
      }, POLL_MS);
    } else {
      const button = document.getElementById("broadcast-send");
      if (button) button.disabled = false;
    }
  }

  function showDeliveries(detail) {
    const box = document.getElementById("broadcast-status");
    if (!box) return;
    const c = detail.counts || {};
    box.dataset.broadcast = detail.id;
    box.dataset.done = c.queued ? "0" : "1";
    box.innerHTML = `<h3>${esc(T.deliveries)}</h3><div class="counts">${["queued", "sent", "acknowledged", "failed"].map((s) =>
      `<span data-count="${s}"><i class="dot" style="background:${STATE_COLOURS[s]}"></i>${esc(T[s])} ${c[s] || 0}</span>`)
      .join(" ")}</div><ul id="deliveries">${detail.deliveries.map((d) => `<li data-pole="${d.pole.id}" data-state="${
      esc(d.state)}"><i class="dot" style="background:${STATE_COLOURS[d.state] || "#999"}"></i>${esc(d.pole.name || d.pole.code)} · <b>${
      esc(T[d.state] || d.state)}</b>${d.attempts > 1 ? ` <small>×${d.attempts}</small>` : ""}${d.last_error ? `<br><small class="error">${
      esc(d.last_error)}</small>` : ""}</li>`).join("")}</ul>`;
    detail.deliveries.forEach((d) => {
      const mark = panelBody.querySelector(`.delivery[data-pole="${d.pole.id}"]`);
      if (mark) {
        mark.dataset.state = d.state;
        mark.innerHTML = ` · <b style="color:${STATE_COLOURS[d.state] || "#999"}">${esc(T[d.state] || d.state)}</b>`;
      }
    });
  }

  G.fire = { setMode, respond, state: fire };
})();
