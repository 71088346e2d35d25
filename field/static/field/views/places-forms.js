// Buildings (实有房屋: edited on the phone, never made there — a building code comes from the
// housing register) and units (实有单位: added and edited). Checked on the phone with the
// server's rules (rules.js: building code, floors, year; the unit type from the catalogue,
// the credit code's GB 32100 check character, the contact phone), then one outbox item each.
import { BUILDING_USES, checkBuilding, checkUnit } from "../rules.js";
import {
  badge, changedFields, clearOnInput, field, getRecord, missing, pointField, select, showProblems, stateOf,
  textInput, unitTypes,
} from "./basedata-kit.js";
import { lastTrouble, saveRecord } from "./basedata-forms.js";

const T = {
  building: gettext("Building"),
  notFound: gettext("This record is not on the phone (another grid, or removed)."),
  code: gettext("Building code"),
  codeHint: gettext("房屋编码 as in the housing register"),
  name: gettext("Name"),
  address: gettext("Address"),
  floors: gettext("Floors"),
  use: gettext("Use"),
  builtYear: gettext("Year built"),
  households: gettext("Households in this building"),
  save: gettext("Save"),
  saved: gettext("Saved on the phone. It is sent as soon as there is a signal."),
  nothing: gettext("Nothing changed."),
  newUnit: gettext("New unit"),
  unit: gettext("Unit"),
  unitName: gettext("Unit name"),
  type: gettext("Unit type"),
  choose: gettext("choose"),
  creditCode: gettext("Unified social credit code"),
  creditHint: gettext("18 characters; leave empty if it has none"),
  legalPerson: gettext("Legal person / person in charge"),
  contactPhone: gettext("Contact phone"),
  employees: gettext("Employees"),
  noBuilding: gettext("No building"),
  masked: gettext("Masked for your role: leave it as it is, or type the whole value anew."),
  noTypes: gettext("The unit types are not on the phone yet: sync once with a signal."),
};

const USE_WORDS = {
  residential: gettext("residential"),
  commercial: gettext("commercial"),
  mixed: gettext("mixed residential and commercial"),
  public: gettext("public building"),
  industrial: gettext("industrial"),
  other: gettext("other"),
};
const BUILDING_FIELDS = ["code", "name", "address", "floors", "use", "built_year", "lon", "lat"];
const UNIT_FIELDS = ["name", "type", "credit_code", "legal_person", "contact_phone", "employees", "address",
  "building_id", "lon", "lat"];
const masked = (v) => typeof v === "string" && v.includes("*");
const numberInput = (app, name, value, attrs) => textInput(app, name, value ?? "", { type: "number", inputmode: "numeric", step: "1", ...attrs });

function formShell(app, id, onsubmit, ...children) {
  const { h } = app.ui;
  const form = h("form", { class: "bd-form", id, novalidate: true },
    h("div", { class: "bd-summary", role: "alert", hidden: true }),
    ...children,
    h("div", { class: "bd-actions" }, h("button", { type: "submit", class: "bd-button bd-primary bd-save" }, T.save)));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); onsubmit(form); });
  clearOnInput(form);
  return form;
}

async function finish(app, { set, kind, rec, fields, names, back }) {
  const changes = rec ? changedFields(rec, fields, names) : fields;
  if (rec && !Object.keys(changes).length) { app.ui.toast(T.nothing); return; }
  const id = await saveRecord(app, { set, kind, rec, changes });
  app.ui.toast(T.saved);
  app.go(back(id));
}

// ---- buildings ---------------------------------------------------------------------------------------
async function renderBuilding(el, params, app) {
  const { h } = app.ui;
  const rec = await getRecord(app, "buildings", params.id);
  if (!rec) { missing(app, el, T.building, T.notFound); return; }
  const point = { lon: rec.lon, lat: rec.lat };
  const inputs = {
    code: textInput(app, "code", rec.code, { maxlength: "64" }),
    name: textInput(app, "name", rec.name, { maxlength: "100" }),
    address: textInput(app, "address", rec.address, { maxlength: "255" }),
    floors: numberInput(app, "floors", rec.floors, { min: "1", max: "200" }),
    use: select(app, "use", rec.use || "residential", BUILDING_USES.map((u) => ({ value: u, label: USE_WORDS[u] }))),
    built_year: numberInput(app, "built_year", rec.built_year, { min: "1600", max: String(new Date().getFullYear()) }),
  };
  const save = (form) => {
    const fields = { ...Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value])), lon: point.lon, lat: point.lat };
    if (showProblems(form, checkBuilding(fields))) return;
    finish(app, { set: "buildings", kind: "building", rec, fields, names: BUILDING_FIELDS, back: (id) => `/buildings/${id}` });
  };
  const form = formShell(app, "building-form", save,
    field(app, { name: "code", label: T.code, input: inputs.code, hint: T.codeHint, required: true }),
    field(app, { name: "name", label: T.name, input: inputs.name }),
    field(app, { name: "address", label: T.address, input: inputs.address }),
    h("div", { class: "bd-pair" },
      field(app, { name: "floors", label: T.floors, input: inputs.floors }),
      field(app, { name: "built_year", label: T.builtYear, input: inputs.built_year })),
    field(app, { name: "use", label: T.use, input: inputs.use }),
    pointField(app, point, { title: T.building }));
  const households = (await app.store.all("households").catch(() => [])).filter((hh) => String(hh.building_id) === String(rec.id));
  app.ui.header(T.building, { back: true });
  const state = await stateOf(app, "buildings", rec);
  const trouble = lastTrouble(app, form, "buildings", rec);
  el.replaceChildren(h("div", { class: "bd-page" },
    h("div", { class: "bd-card-head" }, h("h2", {}, rec.name || rec.code), badge(app, state)),
    trouble, form,
    households.length ? h("section", { class: "bd-card" }, h("h2", {}, `${T.households} (${households.length})`),
      h("ul", { class: "bd-list" }, ...households.slice(0, 200).map((hh) => h("li", {},
        h("a", { class: "bd-item", href: `#/households/${hh.id}` }, h("span", { class: "bd-item-text" }, h("span", { class: "bd-item-main" }, hh.address))))))) : null));
}

// ---- units ---------------------------------------------------------------------------------------------
// The type picker: 大类 as option groups, their 小类 inside; a retired type only if the unit has it.
function typeSelect(app, types, value) {
  const { h } = app.ui;
  const usable = types.filter((t) => t.active !== false || t.code === value);
  const tops = usable.filter((t) => !t.parent);
  const el = h("select", { name: "type" }, h("option", { value: "" }, T.choose),
    ...tops.map((top) => {
      const children = usable.filter((t) => t.parent === top.code);
      if (!children.length) return h("option", { value: top.code }, top.name);
      return h("optgroup", { label: top.name }, h("option", { value: top.code }, top.name),
        ...children.map((c) => h("option", { value: c.code }, c.name)));
    }),
    ...usable.filter((t) => t.parent && !tops.some((top) => top.code === t.parent)).map((t) => h("option", { value: t.code }, t.name)));
  el.value = value || "";
  return el;
}

async function renderUnit(el, params, app) {
  const { h } = app.ui;
  const isNew = !params.id;
  const title = isNew ? T.newUnit : T.unit;
  const rec = isNew ? null : await getRecord(app, "units", params.id);
  if (!isNew && !rec) { missing(app, el, title, T.notFound); return; }
  const types = await unitTypes(app);
  const buildings = (await app.store.all("buildings").catch(() => [])).sort((a, b) => String(a.code).localeCompare(String(b.code)));
  const v = (name, fallback = "") => (rec && rec[name] != null ? rec[name] : fallback);
  const point = rec ? { lon: rec.lon, lat: rec.lat } : (app.position ? { lon: app.position.lon, lat: app.position.lat } : {});
  const inputs = {
    name: textInput(app, "name", v("name"), { maxlength: "200" }),
    type: typeSelect(app, types, v("type")),
    credit_code: textInput(app, "credit_code", v("credit_code"), { maxlength: "18", autocapitalize: "characters", spellcheck: "false" }),
    legal_person: textInput(app, "legal_person", v("legal_person"), { maxlength: "50" }),
    contact_phone: textInput(app, "contact_phone", v("contact_phone"), { type: "tel", inputmode: "tel", maxlength: "20" }),
    employees: numberInput(app, "employees", v("employees", ""), { min: "0" }),
    address: textInput(app, "address", v("address"), { maxlength: "255" }),
    building_id: select(app, "building_id", v("building_id") === "" ? "" : String(v("building_id")),
      buildings.map((b) => ({ value: String(b.id), label: [b.code, b.name].filter(Boolean).join(" ") })), { blank: T.noBuilding }),
  };
  const save = (form) => {
    const fields = { ...Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value])), lon: point.lon, lat: point.lat };
    fields.building_id = fields.building_id ? Number(fields.building_id) : null;
    // A masked value left as it is is neither checked nor sent.
    const only = rec ? Object.keys(changedFields(rec, fields, UNIT_FIELDS)) : null;
    const problems = checkUnit(fields, { unitTypes: types.length ? types : null, carried: v("type", null), only });
    if (showProblems(form, problems)) return;
    if (rec) for (const name of ["legal_person", "contact_phone"]) if (masked(rec[name]) && fields[name] === rec[name]) delete fields[name];
    finish(app, { set: "units", kind: "unit", rec, fields, names: UNIT_FIELDS.filter((n) => n in fields), back: (id) => `/units/${id}` });
  };
  const hint = (name) => (masked(v(name)) ? T.masked : "");
  const form = formShell(app, "unit-form", save,
    field(app, { name: "name", label: T.unitName, input: inputs.name, required: true }),
    field(app, { name: "type", label: T.type, input: inputs.type, required: true, hint: types.length ? "" : T.noTypes }),
    field(app, { name: "credit_code", label: T.creditCode, input: inputs.credit_code, hint: T.creditHint }),
    field(app, { name: "legal_person", label: T.legalPerson, input: inputs.legal_person, hint: hint("legal_person") }),
    field(app, { name: "contact_phone", label: T.contactPhone, input: inputs.contact_phone, hint: hint("contact_phone") }),
    field(app, { name: "employees", label: T.employees, input: inputs.employees }),
    field(app, { name: "address", label: T.address, input: inputs.address }),
    field(app, { name: "building_id", label: T.building, input: inputs.building_id }),
    pointField(app, point, { title: T.unit }));
  app.ui.header(title, { back: true });
  const state = rec ? await stateOf(app, "units", rec) : null;
  const trouble = lastTrouble(app, form, "units", rec);
  el.replaceChildren(h("div", { class: "bd-page" },
    rec ? h("div", { class: "bd-card-head" }, h("h2", {}, rec.name), badge(app, state)) : null,
    trouble, form));
}

export const routes = [
  { path: "/buildings/:id", title: T.building, render: renderBuilding },
  { path: "/units/new", title: T.newUnit, render: (el, params, app) => renderUnit(el, {}, app) },
  { path: "/units/:id", title: T.unit, render: renderUnit },
];
