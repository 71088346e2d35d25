// Fire mode's side panel: the fire point's place, the water tanks, cameras and voice poles
// numbered as on the map, and the one-key broadcast (一键广播) to the ticked poles, whose
// per-pole deliveries are followed until none is queued. The same API calls as before the
// MapLibre map: POST /api/sensors/broadcasts/, GET /api/sensors/broadcasts/<id>/.
import { call, errorMessages, esc } from "../gridline/api.js";

const _ = (s) => globalThis.gettext(s);
export const COLOURS = { tank: "#0a9396", camera: "#0969da", pole: "#8250df", fire: "#d7301f", grey: "#8c959f" };
export const metres = (d) => `${Math.round(d).toLocaleString("zh-CN")} m`;
const TAGS = { tank: () => _("Tank %s"), camera: () => _("Camera %s"), pole: () => _("Pole %s") };
// The number a device has on the map and in the panel's list: "水池1", "摄像2", "广播3".
export const tag = (kind, i) => interpolate(TAGS[kind](), [i]);
const API = "/api/sensors/";
const POLL_MS = 2000;
const STATE_COLOURS = { queued: "#8c959f", sent: "#0969da", acknowledged: "#2da44e", failed: "#d7301f" };
const STATES = () => ({ queued: _("queued"), sent: _("sent"), acknowledged: _("acknowledged"), failed: _("failed") });
// A device property rendered as a link: http(s) or rtsp with a host only, whatever the server
// accepted (defence in depth against `javascript:` and its spellings).
const SAFE_LINK = /^(https?|rtsp):\/\/[^\s/?#]+/i;
const safeLink = (value) => (typeof value === "string" && SAFE_LINK.test(value) ? value : null);
const percent = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)}%`);
const problems = (body) => errorMessages(body).map((m) => `<div>${esc(m)}</div>`).join("");

export class FirePanel {
  constructor(view, sensors, fire) {
    this.view = view;
    this.sensors = sensors;
    this.fire = fire;
    this.poll = null;
    this.node = null;
  }

  show(html) {
    const node = document.createElement("section");
    node.id = "fire-response";
    node.innerHTML = html;
    this.node = node;
    this.view.panel.open(node, { key: "fire" });
    return node;
  }

  close() {
    if (this.node && this.node.isConnected) this.view.panel.close();
    this.node = null;
  }

  stop() {
    if (this.poll) clearTimeout(this.poll);
    this.poll = null;
  }

  statusText(s) {
    const { statuses, statusLabels } = this.sensors.style;
    return `<span class="sensor-status" data-status="${esc(s)}"><i class="dot" style="background:${
      esc(statuses[s] || "#8c959f")}"></i>${esc(statusLabels[s] || s)}</span>`;
  }

  loading() {
    this.show(`<h2>${esc(_("Fire point"))}</h2><p>${esc(_("Loading…"))}</p>`).dataset.state = "loading";
  }

  error(message) {
    this.show(`<h2>${esc(_("Fire point"))}</h2><p class="flash error" id="fire-error">${esc(message)}</p>`).dataset.state = "error";
  }

  failed(body) {
    this.show(`<h2>${esc(_("Fire point"))}</h2><div class="flash error" id="fire-error">${problems(body)}</div>`).dataset.state = "error";
  }

  list(data) {
    const g = data.grid;
    const p = data.point || this.fire.point;
    const where = g ? `${esc(g.name)} <small>${esc(g.code)}</small><br><small>${esc(g.street)} · ${esc(g.community)}</small>`
      : esc(_("outside every grid"));
    const number = (kind, i) => `<span class="fire-tag" style="color:${COLOURS[kind]}">${esc(tag(kind, i + 1))}</span>`;
    const tanks = data.water_tanks.map((t, i) => `<tr data-id="${t.id}" data-distance="${t.distance_m}" data-level="${
      t.level_pct ?? ""}"><td>${number("tank", i)} ${esc(t.name || t.code)}<br><small>${esc(t.code)}</small></td><td class="num">${
      metres(t.distance_m)}</td><td class="num">${percent(t.level_pct)}${t.volume_m3 != null ? `<br><small>${
      Math.round(t.volume_m3)} m³</small>` : ""}</td><td>${this.statusText(t.status)}</td></tr>`).join("");
    const cameras = data.cameras.map((c, i) => `<li data-id="${c.id}">${number("camera", i)} ${esc(c.name || c.code)} <small>${
      esc(c.code)}</small><br>${metres(c.distance_m)} · ${esc(_("field of view"))} ${Math.round(c.fov)}°${
      c.bearing != null ? ` · ${esc(_("turn to"))} ${Math.round(c.bearing)}°` : ""} · ${this.statusText(c.status)}${
      safeLink(c.stream) ? ` · <a href="${esc(c.stream)}" target="_blank" rel="noopener noreferrer">${esc(_("live view"))}</a>` : ""}</li>`).join("");
    const poles = data.poles.map((q, i) => `<li data-id="${q.id}" data-covers="${q.covers ? 1 : 0}"><label><input type="checkbox" name="pole" value="${
      q.id}"${q.covers ? " checked" : ""}> ${number("pole", i)} ${esc(q.name || q.code)}</label> <small>${esc(q.code)}</small><br>${
      metres(q.distance_m)} · ${esc(_("broadcast radius"))} ${metres(q.broadcast_radius)}${q.covers ? ` · <b class="covers">${
      esc(_("covers the point"))}</b>` : ""} · ${this.statusText(q.status)}<span class="delivery" data-pole="${q.id}"></span></li>`).join("");
    const none = `<p class="none">${esc(_("None found"))}</p>`;
    const node = this.show(`<h2>${esc(_("Fire point"))}</h2>
      <div class="code">${p[0].toFixed(5)}, ${p[1].toFixed(5)}</div><p>${where}</p>
      <h3>${esc(_("Nearest fire water tanks"))} (${data.water_tanks.length})</h3>
      ${tanks ? `<table id="fire-tanks"><thead><tr><th></th><th class="num">${esc(_("distance"))}</th><th class="num">${
        esc(_("water level"))}</th><th></th></tr></thead><tbody>${tanks}</tbody></table>` : none}
      <h3>${esc(_("Cameras that see the point"))} (${data.cameras.length})</h3>
      ${cameras ? `<ul id="fire-cameras">${cameras}</ul>` : none}
      <h3>${esc(_("Voice poles"))} (${data.poles.length})</h3>
      ${poles ? `<ul id="fire-poles">${poles}</ul>` : none}
      <form id="broadcast-form">
        <label for="broadcast-message">${esc(_("Broadcast message"))}</label>
        <textarea id="broadcast-message" rows="4">${esc(_("Fire warning: a fire has been reported near here. Leave the area at once, keep away from the forest, do not use open fire, and follow the instructions of the fire crews."))}</textarea>
        <label>${esc(_("Times to play"))} <input type="number" id="broadcast-repeat" value="2" min="1" max="10"></label>
        <button type="submit" id="broadcast-send"${poles ? "" : " disabled"}>${esc(_("Broadcast now"))}</button>
        <div id="broadcast-error" class="flash error" hidden></div>
        <div id="broadcast-status"></div>
      </form>`);
    node.dataset.state = "ready";
    node.querySelector("#broadcast-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.send(); });
  }

  async send() {
    const node = this.node;
    const error = node.querySelector("#broadcast-error");
    const button = node.querySelector("#broadcast-send");
    const poles = [...node.querySelectorAll("input[name=pole]:checked")].map((i) => Number(i.value));
    const message = node.querySelector("#broadcast-message").value.trim();
    error.hidden = true;
    if (!poles.length) {
      error.textContent = _("Tick at least one voice pole.");
      error.hidden = false;
      return;
    }
    button.disabled = true;
    const seq = this.fire.seq;
    const repeat = Number(node.querySelector("#broadcast-repeat").value) || 2;
    const result = await call(`${API}broadcasts/`, { method: "POST", data: { message, poles, repeat, point: this.fire.point } });
    if (seq !== this.fire.seq) return;
    if (!result.ok) {
      error.innerHTML = problems(result.body);
      error.hidden = false;
      button.disabled = false;
      return;
    }
    this.follow(result.body, seq, node);
  }

  follow(detail, seq, node) {
    this.showDeliveries(detail, node);
    if (((detail.counts && detail.counts.queued) || 0) > 0) {
      this.poll = setTimeout(async () => {
        const result = await call(`${API}broadcasts/${detail.id}/`);
        if (seq !== this.fire.seq) return;
        if (result.ok) this.follow(result.body, seq, node);
        else {
          const error = node.querySelector("#broadcast-error");
          error.innerHTML = problems(result.body);
          error.hidden = false;
        }
      }, POLL_MS);
    } else {
      node.querySelector("#broadcast-send").disabled = false;
    }
  }

  showDeliveries(detail, node) {
    const box = node.querySelector("#broadcast-status");
    const c = detail.counts || {};
    const words = STATES();
    box.dataset.broadcast = detail.id;
    box.dataset.done = c.queued ? "0" : "1";
    box.innerHTML = `<h3>${esc(_("Deliveries"))}</h3><div class="counts">${Object.keys(STATE_COLOURS).map((s) =>
      `<span data-count="${s}"><i class="dot" style="background:${STATE_COLOURS[s]}"></i>${esc(words[s])} ${c[s] || 0}</span>`)
      .join(" ")}</div><ul id="deliveries">${detail.deliveries.map((d) => `<li data-pole="${d.pole.id}" data-state="${
      esc(d.state)}"><i class="dot" style="background:${STATE_COLOURS[d.state] || "#999"}"></i>${esc(d.pole.name || d.pole.code)} · <b>${
      esc(words[d.state] || d.state)}</b>${d.attempts > 1 ? ` <small>×${d.attempts}</small>` : ""}${d.last_error ? `<br><small class="error">${
      esc(d.last_error)}</small>` : ""}</li>`).join("")}</ul>`;
    detail.deliveries.forEach((d) => {
      const mark = node.querySelector(`.delivery[data-pole="${d.pole.id}"]`);
      if (mark) {
        mark.dataset.state = d.state;
        mark.innerHTML = ` · <b style="color:${STATE_COLOURS[d.state] || "#999"}">${esc(words[d.state] || d.state)}</b>`;
      }
    });
  }
}
