// The boundary editor and review map of one change set (#7). Every change goes through the
// JSON API (/api/boundaries/changesets/<id>/...): the geometry operations run on the server,
// and after each one the map is redrawn from the server's answer, so that what is shown is
// what is stored. Editing uses Leaflet-Geoman (from npm, served by the app: no CDN); grids
// of neighbouring communities are loaded as snap targets that cannot be edited. The side
// panel's HTML comes from editor-panel.js.
//
// It stays on Leaflet + Leaflet-Geoman while the command map moved to MapLibre (issue #16):
// editing polygons with snapping to neighbours, vertex dragging and drawing split lines is
// what Geoman does well, and MapLibre has no maintained editing plugin of that depth.
import { call as apiCall, esc } from "../gridline/api.js";
import { createEditorMap, gridStyleOf, PROBLEM_COLOURS } from "./editor-map.js";
import {
  actionOf, appliedHtml, fill, gridsHtml, impactHtml, lockText, m2, movedLabel, problemsHtml,
  problemsOf, stepsHtml, summaryBadge, summaryOf,
} from "./editor-panel.js";
import { T } from "./words.js";

const config = JSON.parse(document.getElementById("editor-config").textContent);
const body = document.body;

let pending = 0;
const busy = (delta) => {
  pending = Math.max(0, pending + delta);
  // The browser test waits for this before reading the page.
  body.dataset.editorReady = pending === 0 ? "1" : "0";
};
// The shared call, counted while under way; a POST always carries a JSON body.
async function call(url, { method = "GET", data } = {}) {
  busy(1);
  try {
    return await apiCall(url, { method, data: method === "GET" ? undefined : data ?? {} });
  } finally {
    busy(-1);
  }
}
// The API's errors, each prefixed with the grid it is about.
const errorText = (result) => {
  const errors = (result.body && result.body.errors) || [];
  if (!errors.length) return `HTTP ${result.status}`;
  return errors.map((e) => `${e.feature ? `${e.feature}: ` : ""}${e.message || e.code}`).join("\n");
};

// ---- page elements ----------------------------------------------------------------------
const $ = (id) => document.getElementById(id);
const flashBox = $("flash");
const flash = (text, kind = "info", html = false) => {
  flashBox.hidden = !text;
  flashBox.className = `flash ${kind}`;
  flashBox.dataset.kind = kind;
  if (html) flashBox.innerHTML = text; else flashBox.textContent = text || "";
};
const toolbar = $("toolbar");
const toolBar2 = $("tool-bar2");
const hint = $("tool-hint");

// ---- map and layers (editor-map.js) -------------------------------------------------------
const { map, neighbours, currentLayer, gridsLayer, problemsLayer, impactLayer } = createEditorMap(config);

const state = {
  detail: null, grids: [], current: [], validation: null, impact: null,
  selected: [], tool: null, editing: null, byCode: {},
};
const may = (what) => Boolean(state.detail && state.detail.permissions && state.detail.permissions[what]);

const gridStyle = (p) => gridStyleOf(p, state.selected.includes(p.code));

function drawGrids() {
  if (state.editing) stopEditing();
  gridsLayer.clearLayers();
  state.byCode = {};
  state.grids.forEach((f) => {
    if (!f.geometry) return;
    const group = L.geoJSON(f, { style: () => gridStyle(f.properties), pane: "grids", snapIgnore: false });
    group.eachLayer((layer) => {
      layer.feature = f;
      layer.on("click", (ev) => {
        // While a line or a new grid is drawn, the click belongs to the drawing.
        if (state.tool === "split" || state.tool === "add") return;
        L.DomEvent.stopPropagation(ev);
        onGridClick(f.properties.code);
      });
      const label = f.properties.code.slice(-3);
      layer.bindTooltip(`${esc(label)}`, { permanent: true, direction: "center", className: "grid-label" });
      gridsLayer.addLayer(layer);
      state.byCode[f.properties.code] = layer;
    });
  });
  currentLayer.clearLayers();
  state.current.forEach((f) => {
    if (!f.geometry) return;
    L.geoJSON(f, {
      pane: "current", pmIgnore: true, snapIgnore: true, interactive: false,
      style: { color: "#222", weight: 2, dashArray: "6 5", fill: false },
    }).eachLayer((l) => currentLayer.addLayer(l));
  });
}
const restyle = () => {
  Object.values(state.byCode).forEach((layer) => layer.setStyle(gridStyle(layer.feature.properties)));
};

// ---- problems and impact on the map -----------------------------------------------------
function drawProblems() {
  problemsLayer.clearLayers();
  const problems = problemsOf(state.validation);
  problems.forEach((p, i) => {
    p.index = i;
    if (!p.geometry) return;
    const colour = PROBLEM_COLOURS[p.code] || "#9c27b0";
    // Not clickable on the map (the list zooms to them): they never hide a grid's click.
    const layer = L.geoJSON(p.geometry, {
      pane: "problems", pmIgnore: true, snapIgnore: true, interactive: false,
      style: { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.55 },
      pointToLayer: (_, latlng) => L.circleMarker(latlng, {
        radius: 7, color: colour, pmIgnore: true, snapIgnore: true, interactive: false, pane: "problems",
      }),
    });
    layer.eachLayer((l) => {
      l.options.snapIgnore = true;
      l.problem = p;
    });
    if (p.area_m2 !== undefined && p.area_m2 !== null) {
      const where = p.location ? L.latLng(p.location[1], p.location[0]) : layer.getBounds().getCenter();
      layer.addLayer(L.tooltip({ permanent: true, direction: "center", className: `problem-label ${esc(p.code)}` })
        .setLatLng(where).setContent(`${esc(m2(p.area_m2))}`));
    }
    p.layer = layer;
    problemsLayer.addLayer(layer);
  });
  if (!state.validation) {  // an applied or withdrawn change set is not validated
    $("problem-count").textContent = "";
    $("summary-badge").innerHTML = "";
    drawValidationTab(problems);
    return;
  }
  const s = summaryOf(state.validation, problems);
  $("problem-count").textContent = s.errors || s.warnings ? `(${s.errors}/${s.warnings})` : "";
  $("problem-count").dataset.errors = s.errors;
  $("summary-badge").innerHTML = summaryBadge(s);
  drawValidationTab(problems);
}
function zoomToProblem(p) {
  if (p.layer && p.layer.getBounds && p.layer.getBounds().isValid()) {
    map.fitBounds(p.layer.getBounds(), { maxZoom: 18, padding: [40, 40] });
  } else if (p.location) {
    map.setView([p.location[1], p.location[0]], Math.max(map.getZoom(), 16));
  } else if (p.feature && state.byCode[p.feature]) {
    map.fitBounds(state.byCode[p.feature].getBounds(), { padding: [40, 40] });
  }
  document.querySelectorAll("#problems li").forEach((li) => li.classList.toggle("active", Number(li.dataset.index) === p.index));
}
function drawValidationTab(problems) {
  const box = $("tab-validation");
  box.innerHTML = problemsHtml(problems);
  box.querySelectorAll("li").forEach((li) => {
    const go = () => zoomToProblem(problems[Number(li.dataset.index)]);
    li.addEventListener("click", go);
    li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") go(); });
  });
}

function drawImpact() {
  const box = $("tab-impact");
  impactLayer.clearLayers();
  const impact = state.impact;
  box.innerHTML = impactHtml(impact);
  if (impact && impact.areas) {
    L.geoJSON(impact.areas, {
      pane: "impact", pmIgnore: true, snapIgnore: true,
      style: { color: "#0b6e99", weight: 1.5, dashArray: "4 3", fillColor: "#29a3d6", fillOpacity: 0.3 },
      onEachFeature: (f, l) => {
        l.options.snapIgnore = true;
        l.bindTooltip(movedLabel(f.properties || {}));
      },
    }).eachLayer((l) => impactLayer.addLayer(l));
  }
}

// ---- side panel: status, lock, actions, grids, steps ------------------------------------
function drawDetail() {
  const d = state.detail;
  if (!d) return;
  const status = $("status");
  status.dataset.status = d.status;
  status.textContent = config.statuses[d.status] || d.status;
  const author = d.author_name || (d.author && (d.author.name || d.author.username)) || d.author || "";
  const lock = $("lock");
  const editable = ["draft", "returned"].includes(d.status);
  if (editable && d.lock_expires_at) {
    lock.textContent = lockText(d, author);
    lock.dataset.expires = d.lock_expires_at;
  } else {
    lock.textContent = "";
  }
  const buttons = [];
  const add = (id, label, cls = "") => buttons.push(`<button type="button" id="${id}" class="${cls}">${esc(label)}</button>`);
  if (may("extend")) add("extend", T.extend);
  if (may("take_over")) add("take-over", T.takeOver);
  if (may("submit")) add("submit", T.submit, "primary");
  let review = "";
  if (may("review")) add("approve", T.approve, "primary");
  if (may("return")) {
    review = `<div class="review"><label>${esc(T.comment)}<textarea id="comment" rows="2"></textarea></label>
      <button type="button" id="return">${esc(T.return)}</button></div>`;
  }
  if (may("apply")) add("apply", T.apply, "primary");
  if (may("withdraw")) add("withdraw", T.withdraw, "danger");
  const comment = d.comment ? `<p class="reviewer-comment"><b>${esc(T.reviewerComment)}:</b> ${esc(d.comment)}</p>` : "";
  let applied = "";
  if (d.status === "applied" && d.applied_summary) {
    applied = appliedHtml(d.applied_summary, config);
  }
  $("actions").innerHTML = comment + applied + buttons.join(" ") + review;
  const on = (id, fn) => { const el = $(id); if (el) el.addEventListener("click", fn); };
  on("extend", () => lifecycle("extend"));
  on("take-over", () => lifecycle("takeOver"));
  on("submit", () => lifecycle("submit"));
  on("approve", () => lifecycle("approve", { comment: $("comment") ? $("comment").value : "" }));
  on("return", () => {
    const text = $("comment").value.trim();
    if (!text) { flash(T.commentRequired, "error"); $("comment").focus(); return; }
    lifecycle("return", { comment: text });
  });
  on("apply", () => { if (window.confirm(T.confirmApply)) lifecycle("apply"); });
  on("withdraw", () => { if (window.confirm(T.confirmWithdraw)) lifecycle("withdraw"); });

  const editing = may("edit");
  toolbar.hidden = !editing;
  if (!editing && state.tool) cancelTool();
  // Reviewers compare the old outlines (dashed) with the new ones.
  if (!editing && d.status !== "applied") currentLayer.addTo(map);
  $("undo").disabled = !editing || !d.can_undo;
  $("redo").disabled = !editing || !d.can_redo;
  drawSteps();
  updateTools();
}
function drawSteps() {
  $("tab-steps").innerHTML = stepsHtml(state.detail);
}
function drawGridsTab() {
  const box = $("tab-grids");
  const { sel, html } = gridsHtml({
    grids: state.grids, selected: state.selected, editable: may("edit"), historyUrl: config.urls.history,
  });
  box.innerHTML = html;
  box.querySelectorAll("tr[data-code]").forEach((tr) => tr.addEventListener("click", () => {
    onGridClick(tr.dataset.code);
    const layer = state.byCode[tr.dataset.code];
    if (layer) map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [30, 30] });
  }));
  const rename = $("rename");
  if (rename) {
    rename.addEventListener("click", () => {
      const name = $("rename-input").value.trim();
      if (name) operate({ op: "rename", code: sel.properties.code, name });
    });
  }
}

// ---- selection and tools ----------------------------------------------------------------
function onGridClick(code) {
  if (state.tool === "split" || state.tool === "add" || state.tool === "reshape") return;
  if (state.tool === "merge") {
    state.selected = state.selected.includes(code)
      ? state.selected.filter((c) => c !== code) : [...state.selected, code];
  } else {
    state.selected = [code];
  }
  restyle();
  drawGridsTab();
  updateTools();
}
map.on("click", () => {
  if (!state.tool && state.selected.length) { state.selected = []; restyle(); drawGridsTab(); updateTools(); }
});
function updateTools() {
  const one = state.selected.length === 1;
  const sel = one ? state.grids.find((f) => f.properties.code === state.selected[0]) : null;
  const a = sel ? actionOf(sel.properties) : null;
  const idle = !state.tool;
  const enable = (tool, on) => { toolbar.querySelector(`[data-tool=${tool}]`).disabled = !on; };
  enable("reshape", idle && one && a !== "retire");
  enable("split", idle && one && a !== "retire");
  enable("merge", idle || state.tool === "merge");
  enable("add", idle);
  enable("retire", idle && one && a !== "retire" && a !== null);
  enable("revert", idle && one && a !== "unchanged" && a !== "new" && a !== null);
  toolbar.querySelectorAll("[data-tool]").forEach((b) => b.classList.toggle("active", b.dataset.tool === state.tool));
  $("tool-merge").disabled = state.selected.length < 2;
  if (state.tool === "merge") hint.textContent = `${T.selectMany} (${state.selected.length})`;
}
function showToolBar(text, { save = false, merge = false, adjust = false } = {}) {
  toolBar2.hidden = false;
  hint.textContent = text;
  $("tool-save").hidden = !save;
  $("tool-merge").hidden = !merge;
  $("adjust-wrap").hidden = !adjust;
}
function stopEditing() {
  if (state.editing) {
    state.editing.pm.disable();
    state.editing = null;
  }
}
function cancelTool() {
  stopEditing();
  if (map.pm.globalDrawModeEnabled()) map.pm.disableDraw();
  state.tool = null;
  toolBar2.hidden = true;
  body.dataset.tool = "";
  if (state.originalGeometry) { state.originalGeometry = null; drawGrids(); }
  restyle();
  updateTools();
}
function startTool(tool) {
  if (!may("edit")) return;
  cancelTool();
  state.tool = tool;
  body.dataset.tool = tool;
  if (tool === "reshape") {
    const layer = state.byCode[state.selected[0]];
    if (!layer) { cancelTool(); return; }
    state.originalGeometry = true;
    state.editing = layer;
    layer.pm.enable({ snappable: true, snapDistance: 15, allowSelfIntersection: false, draggable: false });
    showToolBar(T.editVertices, { save: true, adjust: true });
  } else if (tool === "split") {
    map.pm.enableDraw("Line", { snappable: true, snapDistance: 15 });
    showToolBar(T.drawLine);
  } else if (tool === "add") {
    state.selected = [];
    map.pm.enableDraw("Polygon", { snappable: true, snapDistance: 15, allowSelfIntersection: false });
    showToolBar(T.drawPolygon);
  } else if (tool === "merge") {
    state.selected = [];
    drawGridsTab();
    showToolBar(T.selectMany, { merge: true });
  }
  restyle();
  updateTools();
}
toolbar.querySelectorAll("[data-tool]").forEach((b) => b.addEventListener("click", () => {
  const tool = b.dataset.tool;
  if (tool === "retire") {
    const code = state.selected[0];
    if (window.confirm(fill(T.confirmRetire, { code }))) operate({ op: "retire", code });
  } else if (tool === "revert") {
    operate({ op: "revert", code: state.selected[0] });
  } else if (state.tool === tool) {
    cancelTool();
  } else {
    startTool(tool);
  }
}));
$("tool-cancel").addEventListener("click", cancelTool);
$("tool-save").addEventListener("click", () => {
  const layer = state.editing;
  if (!layer) return;
  const geom = layer.toGeoJSON().geometry;
  const code = layer.feature.properties.code;
  stopEditing();
  operate({ op: "reshape", code, geometry: geom, adjust_neighbours: $("adjust-neighbours").checked });
});
$("tool-merge").addEventListener("click", () => {
  if (state.selected.length < 2) return;
  operate({ op: "merge", codes: [...state.selected], keep: state.selected[0] });
});
map.on("pm:create", (ev) => {
  const geometry = ev.layer.toGeoJSON().geometry;
  map.removeLayer(ev.layer);
  if (state.tool === "split") {
    operate({ op: "split", code: state.selected[0], line: geometry });
  } else if (state.tool === "add") {
    operate({ op: "add", geometry });
  }
});

// ---- talking to the API -----------------------------------------------------------------
// After any change: the detail and validation from the answer, then the grids and the
// impact again, and everything redrawn.
// An applied or withdrawn change set proposes nothing any more: it shows the grids as
// they are now and, once applied, the impact it was applied with.
const CLOSED = ["applied", "withdrawn"];
async function refresh(answer) {
  if (answer && answer.change_set) state.detail = answer.change_set;
  else {
    const d = await call(config.urls.detail);
    if (d.ok) state.detail = d.body;
    else { flash(errorText(d), "error"); return; }
  }
  const closed = CLOSED.includes(state.detail.status);
  const none = Promise.resolve({ ok: true, body: null });
  const [grids, current, validation, impact] = await Promise.all([
    call(closed ? `${config.urls.grids}?state=current` : config.urls.grids),
    closed ? none : call(`${config.urls.grids}?state=current`),
    closed ? none : (answer && answer.validation
      ? Promise.resolve({ ok: true, body: answer.validation }) : call(config.urls.validation)),
    closed ? none : call(config.urls.impact),
  ]);
  if (grids.ok) state.grids = grids.body.features || [];
  state.current = current.ok && current.body ? current.body.features || [] : [];
  state.validation = validation.ok ? validation.body : null;
  state.impact = impact.ok ? impact.body : null;
  if (closed) {
    state.grids.forEach((f) => { f.properties.action = "unchanged"; });
    state.impact = (state.detail.applied_summary || {}).impact || { rows: [], totals: {} };
  }
  const known = new Set(state.grids.filter((f) => f.geometry).map((f) => f.properties.code));
  state.selected = state.selected.filter((c) => known.has(c));
  cancelTool();
  drawGrids();
  drawProblems();
  drawImpact();
  drawDetail();
  drawGridsTab();
  if (!grids.ok) flash(errorText(grids), "error");
}
async function operate(params) {
  const result = await call(config.urls.operations, {
    method: "POST", data: { ...params, expected_version: state.detail.version },
  });
  if (result.ok) {
    flash("");
    await refresh(result.body);
  } else {
    const stale = (result.body && result.body.errors || []).some((e) => e.code === "changeset_version");
    await refresh(null);
    flash(stale ? T.conflictReload : errorText(result), "error");
  }
}
async function undoRedo(which) {
  if (!may("edit") || state.tool) return;
  if (which === "undo" && !state.detail.can_undo) return;
  if (which === "redo" && !state.detail.can_redo) return;
  const result = await call(config.urls[which], { method: "POST", data: { expected_version: state.detail.version } });
  if (!result.ok) flash(errorText(result), "error"); else flash("");
  await refresh(result.ok ? normalise(result.body) : null);
}
// Lifecycle answers are the change set's detail (or {change_set, ...}).
const normalise = (b) => (b && b.change_set ? b : { change_set: b && b.id !== undefined ? b : null, validation: b && b.validation });
async function lifecycle(action, data = {}) {
  const result = await call(config.urls[action], { method: "POST", data });
  if (!result.ok) {
    await refresh(null);
    flash(errorText(result), "error");
    return;
  }
  // The apply's answer is {change_set, summary}: its moved counts show in the panel.
  await refresh(normalise(result.body));
  flash("");
}
$("undo").addEventListener("click", () => undoRedo("undo"));
$("redo").addEventListener("click", () => undoRedo("redo"));
document.addEventListener("keydown", (ev) => {
  if (!(ev.ctrlKey || ev.metaKey)) return;
  if (ev.target.closest && ev.target.closest("input, textarea, select")) return;
  const key = ev.key.toLowerCase();
  if (key === "z" && !ev.shiftKey) { ev.preventDefault(); undoRedo("undo"); }
  else if (key === "y" || (key === "z" && ev.shiftKey)) { ev.preventDefault(); undoRedo("redo"); }
});

// ---- tabs -------------------------------------------------------------------------------
document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll("[data-tab]").forEach((x) => x.classList.toggle("active", x === b));
  document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== `tab-${b.dataset.tab}`; });
  // The changed ground is drawn while the impact is looked at.
  if (b.dataset.tab === "impact") impactLayer.addTo(map); else map.removeLayer(impactLayer);
}));

// For the browser test and for other scripts.
window.gridlineEditor = { map, state, layers: { gridsLayer, currentLayer, neighbours, problemsLayer, impactLayer }, refresh, operate };
busy(1);
refresh(null).finally(() => busy(-1));
