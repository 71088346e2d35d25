// The wall screen (/screen/, issue #16): KPI cards, charts, the live map in the centre and a
// live feed, for a street or district centre, readable across a room and needing no mouse.
// Figures come from /api/screen/figures/ every refreshSeconds and shortly after any live
// event; the map is the map core (createMap) with the "screen" preset, without controls.
// document.body.dataset.screenReady is "1" once figures, charts and map have first drawn;
// window.screenReadyAt is that moment in ms since navigation (tests and the bench).
import { call, fmt } from "../gridline/api.js";
import * as feed from "./feed.js";

// The charts (ECharts, ~370 KB) load beside the figures' request, not before it: the figures
// are the long pole of the first render (a cold district count takes seconds).
const chartsModule = import("./charts.js");

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const config = JSON.parse(document.getElementById("screen-config").textContent);
const zone = document.documentElement.dataset.timeZone || undefined;
// After a burst of live events, one refresh.
const EVENT_DEBOUNCE_MS = 3000;

function notice(text) {
  const box = document.getElementById("screen-notice");
  box.textContent = text;
  box.hidden = !text;
}

// ---- clock ------------------------------------------------------------------------------
const dateFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: zone, year: "numeric", month: "long", day: "numeric", weekday: "long" });
const timeFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
function tick() {
  const now = new Date();
  document.getElementById("clock").textContent = timeFormat.format(now);
  document.getElementById("clock-date").textContent = dateFormat.format(now);
}

// ---- KPI cards --------------------------------------------------------------------------
// The ledgers of last month, falling due now: "11月台账".
function ledgerLabel(l) {
  const month = (l.period_label || "").replace(/^\d+年/, "");
  return month ? _("%(month)s ledgers").replace("%(month)s", month) : _("Ledgers submitted");
}

function cards(d) {
  const i = d.incidents; const s = d.sensors; const p = d.people; const l = d.ledger;
  const n = (v) => fmt.number(v);
  return [
    ["today", _("Incidents today"), n(i.incidents_today), "accent"],
    ["open", _("Open incidents"), n(i.incidents_open), ""],
    ["overdue", _("Overdue"), n(i.incidents_overdue), i.incidents_overdue ? "alarm" : "ok"],
    ["closure", _("Closure rate"), fmt.percent(i.closure_rate), ""],
    ["ontime", _("On-time rate"), fmt.percent(i.on_time_rate), i.on_time_rate != null && i.on_time_rate < 0.85 ? "warn" : "ok"],
    ["whistled", _("Whistled, open"), n(i.whistled_open), i.whistled_open ? "warn" : ""],
    ["cases", _("Cases (30 days)"), n(i.cases_30d), ""],
    ["online", _("Devices online"), n(s.online), "ok"],
    ["offline", _("Offline"), n(s.offline), s.offline ? "warn" : ""],
    ["fault", _("Faulty"), n(s.fault), s.fault ? "alarm" : ""],
    ["alerts", _("Open alerts"), n(d.alerts.open), d.alerts.open ? "alarm" : "ok"],
    ["ledger", ledgerLabel(l), fmt.percent(l.reporting_rate), l.reporting_rate != null && l.reporting_rate < 0.9 ? "warn" : ""],
    ["households", _("Households"), n(p.households), ""],
    ["residents", _("Residents"), n(p.residents), ""],
  ];
}

function renderCards(d) {
  const box = document.getElementById("kpis");
  cards(d).forEach(([key, label, value, tone]) => {
    let card = box.querySelector(`[data-key="${key}"]`);
    if (!card) {
      card = document.createElement("div");
      card.className = "kpi";
      card.dataset.key = key;
      card.innerHTML = '<div class="label"></div><div class="value"></div>';
      box.append(card);
    }
    card.querySelector(".label").textContent = label;
    const el = card.querySelector(".value");
    if (card.dataset.value !== undefined && card.dataset.value !== value) {
      card.classList.remove("changed");
      void card.offsetWidth; // restart the highlight
      card.classList.add("changed");
    }
    card.dataset.value = value;
    el.textContent = value;
    // Long figures (a district's households) step down so they stay inside the card.
    el.dataset.size = value.length > 7 ? "s" : value.length > 5 ? "m" : "";
    card.dataset.tone = tone;
  });
}

// ---- figures ----------------------------------------------------------------------------
let first = true;
async function refresh() {
  const [{ ok, status, body }, charts] = await Promise.all([call(config.figures), chartsModule]);
  if (!ok) {
    if (status === 401 || status === 403) {
      notice(_("This screen is no longer logged in. Open the kiosk link again."));
      stop();
    }
    return false;
  }
  notice("");
  if (body.scope && body.scope.name) document.getElementById("scope-name").textContent = body.scope.name;
  const areaTitles = { street: _("Incidents by street (30 days)"), community: _("Incidents by community (30 days)"), grid: _("Incidents by grid (30 days)") };
  document.getElementById("area-title").textContent = areaTitles[body.by_area.level] || _("Incidents by area (30 days)");
  renderCards(body);
  charts.render(body);
  if (first) { feed.fill(body.feed || []); first = false; }
  document.getElementById("updated").textContent = `${_("Figures at")} ${fmt.time(body.computed_at)}`;
  return true;
}

let timer = null;
let pending = null;
function stop() {
  clearInterval(timer);
  clearTimeout(pending);
  unsubscribe();
}
function soon() {
  clearTimeout(pending);
  pending = setTimeout(refresh, EVENT_DEBOUNCE_MS);
}

// ---- live -------------------------------------------------------------------------------
let unsubscribe = () => {};
async function startLive() {
  const state = document.getElementById("live-state");
  const watch = new MutationObserver(() => { state.dataset.state = document.body.dataset.live || "closed"; });
  watch.observe(document.body, { attributes: true, attributeFilter: ["data-live"] });
  try {
    const live = await import("../gridline/live.js");
    unsubscribe = live.subscribe((data) => {
      const entry = feed.fromEvent(data);
      if (entry) feed.add(entry);
      soon();
    });
  } catch (err) {
    console.warn(`live: ${err.message}`);
  }
}

// ---- map --------------------------------------------------------------------------------
// MapLibre sizes labels and symbols in CSS pixels, which on a 2160p wall at a pixel ratio of 1
// are half as large as on 1080p: the map is laid out at 1080p size and scaled up, drawn at
// the full resolution, so both walls show the same map.
function scaleOf() {
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  return Math.max(1, rem / 16);
}

async function startMap() {
  const note = document.getElementById("map-note");
  const el = document.getElementById("screen-map");
  const scale = scaleOf();
  if (scale > 1.1) {
    Object.assign(el.style, {
      inset: "auto", left: "0", top: "0", width: `${100 / scale}%`, height: `${100 / scale}%`,
      transform: `scale(${scale})`, transformOrigin: "0 0",
    });
  }
  try {
    const { createMap } = await import("../gridline/map/index.js");
    const view = await createMap(el, { style: config.style, controls: false, interactive: false });
    if (scale > 1.1) view.map.setPixelRatio((window.devicePixelRatio || 1) * scale);
    await view.ready;
  } catch (err) {
    console.warn(`map: ${err && err.stack ? err.stack : err}`);
    note.textContent = _("The map is not available.");
    note.hidden = false;
  }
}

async function start() {
  tick();
  setInterval(tick, 1000);
  // When each part was in (ms since navigation), for the bench: figures, charts, map.
  const timings = {};
  const at = (name) => () => { timings[name] = Math.round(performance.now()); };
  const figures = refresh().then(at("figures")).then(() => chartsModule).then((charts) => charts.drawn()).then(at("charts"));
  const map = startMap().then(at("map"));
  startLive();
  feed.autoscroll();
  await figures;
  await map;
  window.screenTimings = timings;
  document.body.dataset.screenReady = "1";
  window.screenReadyAt = Math.round(performance.now());
  timer = setInterval(refresh, config.refreshSeconds * 1000);
  const charts = await chartsModule;
  window.addEventListener("resize", () => charts.resize());
}

start();
