// 巡查: start, see time and distance grow, report what is found on the way (it attaches to
// the patrol), stop → one outbox item `patrol.save`. The recording itself lives in
// ../patrol-track.js so it goes on while the worker is on other views.
import { toastSaved } from "./saved.js";
import { distanceText, clockText, durationText, timeText } from "../measure.js";
import {
  MAX_ACCURACY_M,
  currentPatrol,
  liveFigures,
  patrolEvents,
  resumePatrol,
  startPatrol,
  stopPatrol,
} from "../patrol-track.js";

export { resumePatrol };

const T = {
  title: gettext("Patrol"),
  start: gettext("Start patrol"),
  startHint: gettext("The track is recorded while you walk, also with the screen on other pages. Fixes less accurate than %(m)s m are left out."),
  stop: gettext("Stop and save"),
  stopAsk: gettext("Stop the patrol and save its track?"),
  running: gettext("Patrol running"),
  time: gettext("Time"),
  distance: gettext("Distance"),
  points: gettext("Points"),
  accuracy: gettext("Accuracy now"),
  dropped: gettext("%(n)s fixes left out (less accurate than %(m)s m)"),
  waitingFix: gettext("Waiting for the first position…"),
  report: gettext("Report an incident found here"),
  found: gettext("Incidents reported on this patrol"),
  none: gettext("None yet."),
  note: gettext("Note (optional)"),
  past: gettext("My recent patrols"),
  noPast: gettext("No patrols yet."),
  saved: gettext("Patrol saved on the phone. It is sent as soon as there is a signal."),
  incidents: gettext("%(n)s incidents"),
};

const SVG = "http://www.w3.org/2000/svg";

// A sketch of the track (no map tiles needed, works offline): the points on an
// equirectangular frame scaled to the box, north up, with start and end marked.
function sketch(points) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 320 160");
  svg.setAttribute("class", "work-sketch");
  svg.setAttribute("aria-hidden", "true");
  if (points.length < 2) return svg;
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const kx = Math.cos((midLat * Math.PI) / 180);
  const w = Math.max((Math.max(...lons) - Math.min(...lons)) * kx, 1e-6);
  const hgt = Math.max(Math.max(...lats) - Math.min(...lats), 1e-6);
  const scale = Math.min(300 / w, 140 / hgt);
  // Centred in the box: a straight street east-west is a line across the middle.
  const dx = (320 - w * scale) / 2;
  const dy = (160 - hgt * scale) / 2;
  const x = (lon) => dx + (lon - Math.min(...lons)) * kx * scale;
  const y = (lat) => 160 - dy - (lat - Math.min(...lats)) * scale;
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" "));
  line.setAttribute("class", "work-sketch-line");
  svg.append(line);
  for (const [p, cls] of [
    [points[0], "work-sketch-start"],
    [points[points.length - 1], "work-sketch-end"],
  ]) {
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", x(p[0]).toFixed(1));
    dot.setAttribute("cy", y(p[1]).toFixed(1));
    dot.setAttribute("r", "6");
    dot.setAttribute("class", cls);
    svg.append(dot);
  }
  return svg;
}

// The reports of this patrol, from the outbox (it keeps sent items with the server's record):
// a report sent at once still shows here after its local copy became the server's.
function foundOnPatrol(app, key) {
  return app.outbox
    .items({ kind: "incident.report" })
    .filter((item) => item.data && item.data.patrol_client_key === key)
    .map((item) => ({
      id: item.record ? item.record.id : `new:${item.client_key}`,
      text: item.data.description || (item.record && item.record.title) || "",
      state: item.state === "sending" ? "saved" : item.state,
    }));
}

function figure(h, label, value) {
  return h("div", { class: "work-figure" }, h("span", { class: "work-figure-value" }, value), h("span", { class: "work-figure-label" }, label));
}

async function renderRunning(app, body, rec, refresh) {
  const { h } = app.ui;
  const figures = h("div", { class: "work-figures" });
  const status = h("p", { class: "work-hint", "aria-live": "polite" });
  const sketchBox = h("div", { class: "work-sketch-box" });
  const found = h("div", { class: "work-list" });
  const note = h("textarea", { id: "work-patrol-note", rows: "2", maxlength: "1000" });
  const report = h("button", { type: "button", class: "work-button" }, `＋ ${T.report}`);
  const stop = h("button", { type: "button", class: "work-button is-danger" }, `■ ${T.stop}`);
  report.addEventListener("click", () => app.go("/report"));
  stop.addEventListener("click", async () => {
    if (!(await app.ui.confirm(T.stopAsk))) return;
    stop.disabled = true;
    await stopPatrol(app, note.value.trim());
    toastSaved(app, T.saved);
    refresh();
  });

  let lastPoints = -1;
  const draw = () => {
    const live = liveFigures();
    if (!live) return;
    figures.replaceChildren(
      figure(h, T.time, clockText(live.seconds)),
      figure(h, T.distance, distanceText(live.distance_m)),
      figure(h, T.points, String(live.points.length)),
      figure(h, T.accuracy, live.last ? `±${distanceText(live.last.accuracy)}` : "–"),
    );
    const lines = [];
    if (live.error) lines.push(live.error);
    else if (!live.last) lines.push(T.waitingFix);
    if (live.dropped) lines.push(interpolate(T.dropped, { n: live.dropped, m: MAX_ACCURACY_M }, true));
    status.textContent = lines.join(" · ");
    status.classList.toggle("is-warning", Boolean(live.error));
    if (live.points.length !== lastPoints) {
      lastPoints = live.points.length;
      sketchBox.replaceChildren(sketch(live.points));
    }
  };
  const list = foundOnPatrol(app, rec.client_key);
  found.replaceChildren(
    ...(list.length
      ? list.map((i) =>
          h(
            "a",
            { class: "work-row", href: `#/incidents/${encodeURIComponent(i.id)}` },
            h("span", { class: "work-row-main" }, h("strong", {}, i.text)),
            app.ui.stateBadge(i.state),
          ),
        )
      : [h("p", { class: "work-hint" }, T.none)]),
  );
  body.replaceChildren(
    h("p", { class: "work-banner is-live" }, `● ${T.running} · ${timeText(rec.started_at)}`),
    figures,
    status,
    sketchBox,
    report,
    h("h3", {}, T.found),
    found,
    h("label", { class: "work-field", for: "work-patrol-note" }, T.note),
    note,
    stop,
  );
  draw();
  const timer = setInterval(draw, 1000);
  patrolEvents.addEventListener("change", draw);
  return () => {
    clearInterval(timer);
    patrolEvents.removeEventListener("change", draw);
  };
}

async function renderIdle(app, body, refresh) {
  const { h } = app.ui;
  const start = h("button", { type: "button", class: "work-button is-primary work-big" }, `▶ ${T.start}`);
  start.addEventListener("click", async () => {
    start.disabled = true;
    await startPatrol(app);
    refresh();
  });
  const patrols = (await app.store.all("patrols")).sort((a, b) =>
    String(b.started_at).localeCompare(String(a.started_at)),
  );
  const rows = patrols.slice(0, 20).map((p) => {
    const seconds = p.duration_s ?? (Date.parse(p.ended_at) - Date.parse(p.started_at)) / 1000;
    const count = (p.incident_ids || []).length;
    const bits = [durationText(seconds)];
    if (p.distance_m != null) bits.push(distanceText(p.distance_m));
    if (count) bits.push(interpolate(T.incidents, { n: count }, true));
    return h(
      "div",
      { class: "work-row" },
      h("strong", {}, timeText(p.started_at)),
      h("span", { class: "work-meta" }, bits.join(" · ")),
      app.ui.stateBadge(p._state || app.outbox.stateOf("patrols", p.id)),
    );
  });
  body.replaceChildren(
    start,
    h("p", { class: "work-hint" }, interpolate(T.startHint, { m: MAX_ACCURACY_M }, true)),
    h("h3", {}, T.past),
    rows.length ? h("div", { class: "work-list" }, ...rows) : app.ui.empty(T.noPast),
  );
  return null;
}

function render(el, params, app) {
  const { h } = app.ui;
  const body = h("div", { class: "work-page work-patrol" });
  el.replaceChildren(body);
  let cleanup = null;
  let gone = false;
  // Start and stop redraw in place: the route stays /patrol.
  const refresh = () => {
    if (cleanup) cleanup();
    cleanup = null;
    resumePatrol(app)
      .then(() => currentPatrol(app))
      .then((rec) => (rec ? renderRunning(app, body, rec, refresh) : renderIdle(app, body, refresh)))
      .then((stop) => {
        cleanup = stop;
        if (gone && cleanup) cleanup();
      });
  };
  refresh();
  return () => {
    gone = true;
    if (cleanup) cleanup();
  };
}

export const routes = [{ path: "/patrol", title: T.title, render }];
