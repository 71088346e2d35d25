// The wall screen's charts (Apache ECharts from npm, dark, fonts in rem so they read across a
// room at 1080p and 2160p alike). Each chart is made once and given new data on refresh.
import * as echarts from "../vendor/echarts/echarts.esm.min.mjs";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const COLOURS = { red: "#ff4d4f", yellow: "#f7b924", blue: "#4e8cff" };
const STATUS_COLOURS = { online: "#3ddc84", offline: "#8ea3bf", fault: "#ff4d4f", maintenance: "#f7b924" };
const charts = {};

// One rem in pixels: every font and gap scales with the page.
const rem = () => parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;

function base() {
  const r = rem();
  return {
    backgroundColor: "transparent",
    textStyle: { fontSize: r * 0.95, color: "#c9d6e8" },
    animationDuration: 600,
    grid: { left: r * 0.5, right: r * 1.2, top: r * 0.8, bottom: r * 0.3, containLabel: true },
    tooltip: { show: false },
  };
}

function axisText() {
  return { fontSize: rem() * 0.9, color: "#c9d6e8" };
}

function chart(id) {
  if (!charts[id]) {
    const el = document.getElementById(id);
    charts[id] = echarts.init(el, "dark", { renderer: "canvas" });
  }
  return charts[id];
}

function bars(id, names, values, colour) {
  const r = rem();
  chart(id).setOption({
    ...base(),
    xAxis: { type: "value", minInterval: 1, axisLabel: axisText(), splitLine: { lineStyle: { color: "#1e3658" } } },
    yAxis: { type: "category", data: names, inverse: true, axisLabel: { ...axisText(), width: r * 7, overflow: "truncate" } },
    series: [{
      type: "bar", data: values, barMaxWidth: r * 1.1, itemStyle: { color: colour, borderRadius: [0, r * 0.2, r * 0.2, 0] },
      label: { show: true, position: "right", fontSize: r * 0.9, color: "#e6edf7" },
    }],
  }, true);
}

function donut(id, items) {
  const r = rem();
  const total = items.reduce((s, x) => s + x.value, 0);
  chart(id).setOption({
    ...base(),
    title: {
      text: String(total), left: "center", top: "36%",
      textStyle: { fontSize: r * 1.5, color: "#e6edf7", fontWeight: 700 },
    },
    legend: { bottom: 0, left: "center", itemWidth: r * 0.8, itemHeight: r * 0.8, textStyle: { fontSize: r * 0.85, color: "#c9d6e8" } },
    // All zero: one grey ring, not equal slices that would read as a split.
    series: [{
      type: "pie", radius: ["45%", "68%"], center: ["50%", "42%"], data: items,
      stillShowZeroSum: false, showEmptyCircle: true, emptyCircleStyle: { color: "#1e3658" },
      label: { show: false }, itemStyle: { borderColor: "#0e1a2e", borderWidth: r * 0.12 },
    }],
  }, true);
}

function trend(id, rows) {
  const r = rem();
  chart(id).setOption({
    ...base(),
    grid: { left: r * 0.5, right: r * 1, top: r * 2.2, bottom: r * 0.3, containLabel: true },
    legend: { top: 0, right: 0, textStyle: { fontSize: r * 0.9, color: "#c9d6e8" }, itemWidth: r * 1.2, itemHeight: r * 0.6 },
    xAxis: { type: "category", data: rows.map((x) => x.day.slice(5)), axisLabel: { ...axisText(), interval: 6 } },
    yAxis: { type: "value", minInterval: 1, axisLabel: axisText(), splitLine: { lineStyle: { color: "#1e3658" } } },
    series: [
      { name: _("reported"), type: "line", smooth: false, symbol: "none", data: rows.map((x) => x.reported),
        lineStyle: { width: r * 0.18, color: "#4cc9f0" }, itemStyle: { color: "#4cc9f0" },
        areaStyle: { color: "rgba(76, 201, 240, 0.15)" } },
      { name: _("closed"), type: "line", smooth: false, symbol: "none", data: rows.map((x) => x.closed),
        lineStyle: { width: r * 0.18, color: "#3ddc84" }, itemStyle: { color: "#3ddc84" } },
    ],
  }, true);
}

// A chart with nothing to show says so instead of drawing empty axes.
function empty(id, text) {
  const el = document.getElementById(id);
  el.classList.toggle("chart-empty", Boolean(text));
  if (text) {
    if (charts[id]) { charts[id].dispose(); delete charts[id]; }
    el.textContent = text;
    return true;
  }
  if (!charts[id]) el.textContent = "";
  return false;
}

function departments(id, rows) {
  const r = rem();
  if (empty(id, rows.length ? "" : _("No department has been rated yet."))) return;
  chart(id).setOption({
    ...base(),
    grid: { left: r * 0.5, right: r * 2.2, top: r * 2.2, bottom: r * 0.3, containLabel: true },
    legend: { top: 0, right: 0, textStyle: { fontSize: r * 0.9, color: "#c9d6e8" }, itemWidth: r * 1, itemHeight: r * 0.6 },
    xAxis: [
      { type: "value", min: 0, max: 5, axisLabel: axisText(), splitLine: { lineStyle: { color: "#1e3658" } } },
    ],
    yAxis: { type: "category", data: rows.map((x) => x.name), inverse: true, axisLabel: { ...axisText(), width: r * 6, overflow: "truncate" } },
    series: [
      { name: _("rating (1-5)"), type: "bar", barMaxWidth: r * 0.9, data: rows.map((x) => x.score),
        itemStyle: { color: "#4cc9f0" }, label: { show: true, position: "right", fontSize: r * 0.85, color: "#e6edf7" } },
    ],
  }, true);
}

export function render(data) {
  const cats = data.by_category || [];
  const none = _("No incidents in the last 30 days.");
  if (!empty("chart-category", cats.length ? "" : none)) {
    bars("chart-category", cats.map((x) => x.name), cats.map((x) => x.n), "#4cc9f0");
  }
  // The busiest areas only: thirty communities in one panel could not be read.
  const area = ((data.by_area && data.by_area.rows) || []).filter((x) => x.n)
    .sort((a, b) => b.n - a.n).slice(0, 8);
  if (!empty("chart-area", area.length ? "" : none)) {
    bars("chart-area", area.map((x) => x.name), area.map((x) => x.n), "#7b8cff");
  }
  trend("chart-trend", data.trend || []);
  const c = data.colours || {};
  donut("chart-colours", ["red", "yellow", "blue"].map((k) => ({
    name: _(k), value: c[k] || 0, itemStyle: { color: COLOURS[k] },
  })));
  const s = data.sensors || {};
  donut("chart-sensors", ["online", "offline", "fault", "maintenance"].map((k) => ({
    name: _(k), value: s[k] || 0, itemStyle: { color: STATUS_COLOURS[k] },
  })));
  departments("chart-departments", (data.departments || []).filter((x) => x.score != null));
}

// ECharts draws on its own canvas: it must be told when the page is resized.
export function resize() {
  Object.values(charts).forEach((c) => c.resize());
}

// setOption paints a chart's first frame at once (the entry animation follows): the charts
// are drawn by the next frame.
export function drawn() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}
