// Defining an indicator as data: the subject (GET /api/reports/subjects/), conditions on its
// fields, the measure and the time; every change is previewed (POST /api/reports/definitions/
// preview/: the region's figure and its grids, or the problems, each naming its place in the
// definition), then saved as a derived indicator (POST or PATCH /api/reports/indicators/).
// The JSON under "The definition as JSON" is the same definition; "any" groups are edited
// there.
import { call, errorMessages as messages, esc } from "../gridline/api.js";
import { flash } from "../gridline/flash.js";

const config = JSON.parse(document.getElementById("definition-config").textContent);
const T = {
  failed: gettext("The request failed"),
  remove: gettext("Remove"),
  count: gettext("Count"),
  sum: gettext("Total of"),
  distinct: gettext("Number of distinct"),
  stock: gettext("What exists at the period’s end"),
  within: gettext("Happened within the period, by"),
  anyLevel: gettext("any level"),
  total: gettext("Figure of the region"),
  grids: gettext("grids with a value"),
  of: gettext("of"),
  badJson: gettext("Not valid JSON"),
  anyGroup: gettext("either of several conditions (edit in the JSON)"),
  saved: gettext("Saved."),
  notSaved: gettext("Nothing was saved:"),
  running: gettext("this month so far"),
  field: gettext("Field"),
  condition: gettext("Condition"),
  value: gettext("Value"),
  parts: {subject: gettext("Subject"), where: gettext("Condition"), measure: gettext("Measure"), time: gettext("Time")},
  ops: {
    "=": gettext("is"), "!=": gettext("is not"), "<": "<", "<=": "≤", ">": ">", ">=": "≥",
    between: gettext("from … to"), in: gettext("is one of"), not_in: gettext("is none of"),
    has: gettext("has the tag"), has_any: gettext("has any of the tags"),
    is_null: gettext("is empty"), not_null: gettext("is filled in"),
  }
};
const form = document.getElementById("definition-form");
const box = document.getElementById("flash");
const rows = document.getElementById("conditions");
const json = document.getElementById("definition-json");
const problemsList = document.getElementById("problems");
const LISTS = new Set(["in", "not_in", "has_any"]);
const NULLS = new Set(["is_null", "not_null"]);
let subjects = {};
let definition = { subject: "residents", where: [], measure: "count", time: "stock" };
let timer = null;
let asked = 0;

const option = (value, label, selected) =>
  `<option value="${esc(value)}"${selected ? " selected" : ""}>${esc(label)}</option>`;
const subject = () => subjects[definition.subject];
const fieldOf = (name) => (subject() ? subject().fields.find((f) => f.name === name) : undefined);
const filterable = () => (subject() ? subject().fields.filter((f) => f.kind !== "ref") : []);

// ---- the form from the definition ---------------------------------------------------------
function valueWidget(f, c, i) {
  if (NULLS.has(c.op)) return "";
  const choices = f.choices || null;
  if (choices && !["number", "date", "datetime"].includes(f.kind)) {
    const chosen = new Set([].concat(c.value ?? []).map(String));
    const multiple = LISTS.has(c.op);
    let html = `<select data-part="value" data-row="${i}"${multiple ? " multiple size=\"4\"" : ""}>`;
    if (!multiple) html += option("", "—", !chosen.size);
    html += choices.map((o) => option(o.code, `${o.name} (${o.code})`, chosen.has(String(o.code)))).join("");
    html += "</select>";
    const levels = f.levels && c.op === "has" && f.levels[c.value];
    if (levels) {
      html += ` <select data-part="level" data-row="${i}">${option("", T.anyLevel, !c.level)}${levels
        .map((l) => option(l, l, l === c.level)).join("")}</select>`;
    }
    return html;
  }
  if (f.kind === "boolean") {
    return `<select data-part="value" data-row="${i}">${option("true", "✓", c.value === true)}${option("false", "✗", c.value === false)}</select>`;
  }
  const type = f.kind === "number" ? "number" : f.kind === "text" ? "text" : "date";
  if (c.op === "between") {
    const [low, high] = Array.isArray(c.value) ? c.value : ["", ""];
    return `<input type="${type}" data-part="low" data-row="${i}" value="${esc(low)}"> – <input type="${type}" data-part="high" data-row="${i}" value="${esc(high)}">`;
  }
  if (LISTS.has(c.op)) {
    return `<input type="text" data-part="list" data-row="${i}" value="${esc([].concat(c.value ?? []).join(", "))}">`;
  }
  return `<input type="${type}" data-part="value" data-row="${i}" value="${esc(c.value ?? "")}">`;
}

function renderConditions() {
  rows.innerHTML = (definition.where || []).map((c, i) => {
    const remove = `<button type="button" data-remove="${i}">${esc(T.remove)}</button>`;
    if (c.any) return `<tr data-row="${i}"><td colspan="3">${esc(T.anyGroup)}</td><td>${remove}</td></tr>`;
    const f = fieldOf(c.field) || filterable()[0];
    if (!f) return "";
    const fields = filterable().map((x) => option(x.name, x.label, x.name === f.name)).join("");
    const ops = f.ops.map((op) => option(op, T.ops[op] || op, op === c.op)).join("");
    return `<tr data-row="${i}"><td><select data-part="field" data-row="${i}">${fields}</select></td>
      <td><select data-part="op" data-row="${i}">${ops}</select></td>
      <td>${valueWidget(f, c, i)}</td><td>${remove}</td></tr>`;
  }).join("");
}

function renderMeasureAndTime() {
  const s = subject();
  const measures = [option("count", `${T.count} (${s.unit})`, definition.measure === "count")];
  for (const f of s.fields.filter((x) => x.measurable)) {
    if (f.kind === "number") {
      measures.push(option(`sum:${f.name}`, `${T.sum} ${f.label}`, definition.measure.sum === f.name));
    }
    measures.push(option(`distinct:${f.name}`, `${T.distinct} ${f.label}`, definition.measure.distinct === f.name));
  }
  document.getElementById("measure").innerHTML = measures.join("");
  const times = s.stock ? [option("stock", `${T.stock}${s.stock_means ? `（${s.stock_means}）` : ""}`, definition.time === "stock")] : [];
  for (const f of s.fields.filter((x) => x.flow)) {
    times.push(option(`within:${f.name}`, `${T.within} ${f.label}`, definition.time.within === f.name));
  }
  document.getElementById("time").innerHTML = times.join("");
}

function render() {
  document.getElementById("subject").value = definition.subject;
  if (!subject()) return;
  renderConditions();
  renderMeasureAndTime();
  json.value = JSON.stringify(definition, null, 2);
}

// ---- the definition from the form ---------------------------------------------------------
const typed = (f, raw) => {
  if (f.kind === "number") return raw === "" ? raw : Number(raw);
  return raw;
};

function readRow(i) {
  const c = definition.where[i];
  const f = fieldOf(c.field);
  const part = (name) => rows.querySelector(`[data-part="${name}"][data-row="${i}"]`);
  if (!f || NULLS.has(c.op)) { delete c.value; delete c.level; return; }
  if (c.op === "between") {
    c.value = [typed(f, part("low").value), typed(f, part("high").value)];
  } else if (part("list")) {
    c.value = part("list").value.split(/[,，、\s]+/).filter(Boolean).map((v) => typed(f, v));
  } else if (part("value") && part("value").multiple) {
    c.value = [...part("value").selectedOptions].map((o) => o.value);
  } else if (part("value")) {
    const raw = part("value").value;
    c.value = f.kind === "boolean" ? raw === "true" : typed(f, raw);
  }
  const level = part("level");
  if (level && level.value) c.level = level.value; else delete c.level;
}

rows.addEventListener("change", (ev) => {
  const i = Number(ev.target.dataset.row);
  const c = definition.where[i];
  if (ev.target.dataset.part === "field") {
    const f = fieldOf(ev.target.value);
    definition.where[i] = { field: f.name, op: f.ops[0] };
  } else if (ev.target.dataset.part === "op") {
    const before = c.op;
    c.op = ev.target.value;
    // A list and a single value do not convert: start the value again.
    if (LISTS.has(before) !== LISTS.has(c.op) || (before === "between") !== (c.op === "between")) delete c.value;
    else readRow(i);
  } else {
    readRow(i);
    // Only a tag's levels depend on the value chosen; other values keep their row.
    changed(ev.target.dataset.part === "value" && c.op === "has" && Boolean(fieldOf(c.field)?.levels));
    return;
  }
  changed(true);
});
rows.addEventListener("click", (ev) => {
  if (ev.target.dataset.remove === undefined) return;
  definition.where.splice(Number(ev.target.dataset.remove), 1);
  changed(true);
});
document.getElementById("add-condition").addEventListener("click", () => {
  const f = filterable()[0];
  if (!f) return;
  definition.where.push({ field: f.name, op: f.ops[0] });
  changed(true);
});
document.getElementById("subject").addEventListener("change", (ev) => {
  definition = { subject: ev.target.value, where: [], measure: "count", time: "stock" };
  if (!subject().stock) definition.time = { within: subject().fields.find((f) => f.flow).name };
  changed(true);
});
document.getElementById("measure").addEventListener("change", (ev) => {
  const [kind, name] = ev.target.value.split(":");
  definition.measure = name ? { [kind]: name } : "count";
  changed(false);
});
document.getElementById("time").addEventListener("change", (ev) => {
  const [, name] = ev.target.value.split(":");
  definition.time = name ? { within: name } : "stock";
  changed(false);
});
document.getElementById("apply-json").addEventListener("click", () => {
  try {
    const parsed = JSON.parse(json.value);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    definition = parsed;
    definition.where = definition.where || [];
    box.hidden = true;
    if (subject()) render();
    schedule();
  } catch (err) {
    flash(box, `${T.badJson}: ${err.message}`);
  }
});
["preview-period", "preview-region"].forEach((id) => document.getElementById(id).addEventListener("change", schedule));

function changed(rerender) {
  json.value = JSON.stringify(definition, null, 2);
  // After the event: rebuilding the rows under a control that is losing focus throws.
  if (rerender) setTimeout(render, 0);
  schedule();
}

// ---- preview ------------------------------------------------------------------------------
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(preview, 350);
}

// A person reads "条件 1 · 数值", not "definition.where.0.value.1"; the JSON path stays in the
// API answer for machines.
function placeOf(path) {
  const m = /^definition\.where\.(\d+)(?:\.(\w+))?/.exec(path || "");
  if (m) {
    const part = { field: T.field, op: T.condition, value: T.value, level: T.value }[m[2]];
    return `${T.condition} ${Number(m[1]) + 1}${part ? ` · ${part}` : ""}`;
  }
  const top = /^definition\.(\w+)/.exec(path || "");
  return (top && T.parts[top[1]]) || path || "";
}

function showProblems(errors) {
  rows.querySelectorAll("tr").forEach((tr) => tr.classList.remove("has-problem"));
  problemsList.hidden = !errors.length;
  problemsList.innerHTML = errors.map((e) => `<li data-field="${esc(e.field || "")}"><strong>${esc(placeOf(e.field))}</strong> ${esc(e.message)}</li>`).join("");
  for (const e of errors) {
    const m = /^definition\.where\.(\d+)/.exec(e.field || "");
    if (m) rows.querySelector(`tr[data-row="${m[1]}"]`)?.classList.add("has-problem");
  }
}

async function preview() {
  const mine = ++asked;
  const data = {
    definition,
    period: document.getElementById("preview-period").value,
    region: document.getElementById("preview-region").value,
  };
  const { ok, status, body } = await call(config.urls.preview, { method: "POST", data });
  if (mine !== asked) return; // a later edit's answer wins
  const total = document.getElementById("preview-total");
  const grids = document.getElementById("preview-grids");
  if (!ok) {
    showProblems((body && body.errors) || [{ message: `${T.failed} (HTTP ${status})` }]);
    form.dataset.previewed = String(asked);
    // The sentence described the last good definition, not this one.
    document.getElementById("description").textContent = "";
    total.textContent = "";
    grids.innerHTML = "";
    return;
  }
  showProblems([]);
  form.dataset.previewed = String(asked);
  document.getElementById("description").textContent = body.description;
  // A small count is "<3" for definers without personal-data rights: shown as it comes.
  const figure = (v) => (typeof v === "string" && Number.isNaN(Number(v)) ? v : Number(v));
  total.textContent = `${T.total} ${body.region.name}: ${figure(body.total)} · ${body.grids_with_value} ${T.of} ${body.grid_count} ${T.grids}`;
  grids.innerHTML = body.grids.map((g) => `<tr><td>${esc(g.name)} <small>${esc(g.code)}</small></td><td>${esc(figure(g.value))}</td></tr>`).join("");
}

// ---- save ---------------------------------------------------------------------------------
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  form.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; });
  const flow = definition.time !== "stock";
  const data = {
    name: form.name.value.trim(),
    unit: form.unit.value.trim(),
    group: form.group.value,
    period_type: form.period_type.value,
    aliases: form.aliases.value.split(/[,，、]+/).map((s) => s.trim()).filter(Boolean),
    time_aggregation: flow ? "sum" : "latest",
    definition,
  };
  let url = config.urls.create;
  let method = "POST";
  if (config.indicator) {
    url = config.urls.update.replace("{code}", encodeURIComponent(config.indicator.code));
    method = "PATCH";
  } else {
    Object.assign(data, {
      code: form.code.value.trim(),
      source: "derived",
      value_type: "integer",
      aggregation: "sum",
      level: "grid",
    });
  }
  const { ok, status, body } = await call(url, { method, data });
  if (!ok) {
    const errors = (body && body.errors) || [];
    const named = [];
    for (const e of errors) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(e.field || "")}"]`);
      if (slot) { slot.hidden = false; slot.textContent = e.message; }
      // The field's own label ("名称") or its place in the definition ("条件 1 · 数值").
      const label = slot && !(e.field || "").startsWith("definition")
        ? slot.parentElement.firstChild.textContent.trim() : placeOf(e.field);
      named.push(label ? `${label}：${e.message}` : e.message);
    }
    showProblems(errors.filter((e) => (e.field || "").startsWith("definition")));
    flash(box, [T.notSaved, ...(named.length ? named : messages(body, `${T.failed} (HTTP ${status})`))]);
    return;
  }
  flash(box, T.saved, "success");
  if (!config.indicator) window.location.assign(config.urls.saved.replace("{code}", encodeURIComponent(body.code)));
});

// ---- start --------------------------------------------------------------------------------
async function start() {
  form.group.innerHTML = config.groups.map((g) => option(g.code, g.name, false)).join("");
  form.period_type.innerHTML = config.period_types.map((p) => option(p.value, p.label, p.value === "month")).join("");
  document.getElementById("preview-period").innerHTML = config.periods
    .map((p, i) => option(p.key, p.running ? `${p.label}（${T.running}）` : p.label, i === 1)).join("");
  document.getElementById("preview-region").innerHTML = config.regions.map((r) => option(r.code, r.name, false)).join("");
  const known = config.indicator;
  if (known) {
    form.code.value = known.code;
    form.name.value = known.name;
    form.unit.value = known.unit;
    form.group.value = known.group;
    form.period_type.value = known.period_type;
    form.aliases.value = (known.aliases || []).join("，");
    definition = JSON.parse(JSON.stringify(known.definition));
    definition.where = definition.where || [];
    definition.measure = definition.measure || "count";
    definition.time = definition.time || "stock";
  }
  const { ok, status, body } = await call(config.urls.subjects);
  if (!ok) { flash(box, messages(body, `${T.failed} (HTTP ${status})`)); return; }
  subjects = Object.fromEntries(body.subjects.map((s) => [s.key, s]));
  document.getElementById("subject").innerHTML = body.subjects.map((s) => option(s.key, s.label, false)).join("");
  render();
  await preview();
  document.querySelector(".definition-page").dataset.ready = "1";
}
start();
