// Adding and editing households and residents on the phone. Each save is checked on the
// phone first (rules.js: the server's own rules — required fields, ID number check digit,
// phone format, tags of the catalogue) and then becomes one outbox item: household.create /
// household.update / resident.create / resident.update with the version it was based on.
// An edit sends only the fields changed. A second edit of a record whose first is still on
// the phone (or was refused) changes that item instead of queueing another based on a
// version the first will have replaced.
import { checkHousehold, checkIdNumber, checkResident, REGISTRATIONS } from "../rules.js";
import {
  badge, changedFields, clearOnInput, field, getRecord, isLocal, linkNewHouseholds, missing, pointField, select, showProblems,
  stateOf, tagKinds, textInput,
} from "./basedata-kit.js";

const T = {
  newHousehold: gettext("New household"),
  editHousehold: gettext("Edit household"),
  address: gettext("Standard address"),
  addressHint: gettext("District down to the room, e.g. 中山路5号3栋2单元301"),
  building: gettext("Building"),
  noBuilding: gettext("No building"),
  save: gettext("Save"),
  saved: gettext("Saved on the phone. It is sent as soon as there is a signal."),
  nothing: gettext("Nothing changed."),
  newResident: gettext("New resident"),
  editResident: gettext("Resident"),
  notFound: gettext("This record is not on the phone (another grid, or removed)."),
  noPersonal: gettext("Your role does not see personal data: residents are not on the phone."),
  name: gettext("Full name"),
  idNumber: gettext("ID card number"),
  idHint: gettext("18 characters; the birth date and sex are read from it"),
  phone: gettext("Phone"),
  birth: gettext("Birth date"),
  sex: gettext("Sex"),
  registration: gettext("Registration"),
  relation: gettext("Relation to the head"),
  since: gettext("Living here since"),
  origin: gettext("Place of origin"),
  tags: gettext("Tags"),
  level: gettext("Level"),
  choose: gettext("choose"),
  refused: gettext("The server refused the last save of this record; correct it and save again."),
  conflict: gettext("Someone changed this record meanwhile: open the conflict to choose."),
  openConflict: gettext("Open the conflict"),
  masked: gettext("Masked for your role: leave it as it is, or type the whole value anew."),
  idOk: gettext("Valid ID number: birth date and sex filled in."),
};

const SEXES = [{ value: "M", label: gettext("male") }, { value: "F", label: gettext("female") }];
const REGISTRATION_WORDS = {
  registered: gettext("registered population"),
  floating: gettext("floating population"),
  overseas: gettext("overseas person"),
};
const RELATIONS = [
  ["head", gettext("head of household")], ["spouse", gettext("spouse")],
  ["child", pgettext("relation to the head", "child")], ["parent", pgettext("relation to the head", "parent")],
  ["grandchild", gettext("grandchild")], ["sibling", gettext("sibling")], ["other", gettext("other relation")],
].map(([value, label]) => ({ value, label }));

// The catalogue's groups (grids.models.TagGroup).
const TAG_GROUPS = {
  care: pgettext("tag group", "care group"),
  key: pgettext("tag group", "key population"),
  status: pgettext("tag group", "status"),
  other: pgettext("tag group", "other"),
};
const HOUSEHOLD_FIELDS = ["address", "lon", "lat", "building_id"];
const RESIDENT_FIELDS = ["name", "id_number", "phone", "birth_date", "sex", "registration", "relation",
  "residence_since", "origin", "tags", "tag_levels"];
const masked = (v) => typeof v === "string" && v.includes("*");

// ---- saving through the outbox --------------------------------------------------------------------
// The latest item about a record that may still be changed in place (not sent, not sending).
function openItem(app, set, rec) {
  const items = app.outbox.items({ set, id: rec.id }).filter((i) => app.outbox.editable(i));
  return items.length ? items[items.length - 1] : null;
}

// Saves `changes` of a record (or a new record): returns the id to show afterwards.
export async function saveRecord(app, { set, kind, rec, changes }) {
  // A point is both numbers: the API reads lon without lat as no move at all.
  if (rec && ("lon" in changes || "lat" in changes)) Object.assign(changes, { lon: changes.lon ?? rec.lon, lat: changes.lat ?? rec.lat });
  if (!rec) {
    const item = await app.outbox.enqueue({ kind: `${kind}.create`, target: null, base_version: null, data: changes });
    return `new:${item.client_key}`;
  }
  const open = openItem(app, set, rec);
  if (open && (await app.outbox.update(open.client_key, { data: { ...open.data, ...changes } }))) return rec.id;
  await app.outbox.enqueue({ kind: `${kind}.update`, target: rec.id, base_version: rec.version ?? null, data: changes });
  return rec.id;
}

// A refused or conflicting save of this record, said on its form (the reasons by field).
export function lastTrouble(app, form, set, rec) {
  if (!rec) return null;
  const items = app.outbox.items({ set, id: rec.id });
  const last = items[items.length - 1];
  if (!last) return null;
  const { h } = app.ui;
  if (last.state === "refused") {
    showProblems(form, last.errors && last.errors.length ? last.errors : [{ message: last.error }]);
    return h("p", { class: "bd-alert" }, T.refused);
  }
  if (last.state === "conflict") {
    return h("p", { class: "bd-alert" }, T.conflict, " ",
      h("a", { href: `#/conflict/${last.client_key}` }, T.openConflict));
  }
  return null;
}

function formShell(app, { id, onsubmit }, ...children) {
  const { h } = app.ui;
  const form = h("form", { class: "bd-form", id, novalidate: true },
    h("div", { class: "bd-summary", role: "alert", hidden: true }),
    ...children,
    h("div", { class: "bd-actions" }, h("button", { type: "submit", class: "bd-button bd-primary bd-save" }, T.save)));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); onsubmit(form); });
  clearOnInput(form);
  return form;
}

// ---- households --------------------------------------------------------------------------------------
async function renderHouseholdForm(el, params, app) {
  const { h } = app.ui;
  const isNew = !params.id;
  const rec = isNew ? null : await getRecord(app, "households", params.id);
  const title = isNew ? T.newHousehold : T.editHousehold;
  if (!isNew && !rec) { missing(app, el, title, T.notFound); return; }
  const buildings = (await app.store.all("buildings").catch(() => [])).sort((a, b) => String(a.code).localeCompare(String(b.code)));
  const point = rec ? { lon: rec.lon, lat: rec.lat } : (app.position ? { lon: app.position.lon, lat: app.position.lat } : {});
  const address = textInput(app, "address", rec ? rec.address : "", { maxlength: "255", enterkeyhint: "next" });
  const building = select(app, "building_id", rec && rec.building_id != null ? String(rec.building_id) : "",
    buildings.map((b) => ({ value: String(b.id), label: [b.code, b.name].filter(Boolean).join(" ") })), { blank: T.noBuilding });
  const save = async (form) => {
    const fields = {
      address: address.value, lon: point.lon, lat: point.lat,
      building_id: building.value ? Number(building.value) : null,
    };
    if (showProblems(form, checkHousehold(fields))) return;
    const changes = rec ? changedFields(rec, fields, HOUSEHOLD_FIELDS) : fields;
    if (rec && !Object.keys(changes).length) { app.ui.toast(T.nothing); return; }
    const id = await saveRecord(app, { set: "households", kind: "household", rec, changes });
    app.ui.toast(T.saved);
    app.go(`/households/${id}`);
  };
  const form = formShell(app, { id: "household-form", onsubmit: save },
    field(app, { name: "address", label: T.address, input: address, hint: T.addressHint, required: true }),
    pointField(app, point, { title: T.address }),
    field(app, { name: "building_id", label: T.building, input: building }));
  app.ui.header(title, { back: true });
  const state = rec ? await stateOf(app, "households", rec) : null;
  const trouble = lastTrouble(app, form, "households", rec);
  el.replaceChildren(h("div", { class: "bd-page" },
    rec ? h("div", { class: "bd-card-head" }, h("h2", {}, rec.address), badge(app, state)) : null, trouble, form));
}

// ---- residents ----------------------------------------------------------------------------------------
// The tag picker: one toggle per kind of the catalogue (grouped), a level choice beside a
// chosen tag that has levels. Keeps {tags, tag_levels} in `value`.
function tagPicker(app, kinds, value) {
  const { h } = app.ui;
  const box = h("div", { class: "bd-tagpicker", id: "bd-tags", tabindex: "-1" });
  const shown = kinds.filter((k) => k.active !== false || value.tags.includes(k.code));
  const groups = [...new Set(shown.map((k) => k.group || ""))];
  const paint = () => {
    box.replaceChildren(...groups.map((group) => h("fieldset", { class: "bd-taggroup" },
      group ? h("legend", {}, TAG_GROUPS[group] || group) : null,
      ...shown.filter((k) => (k.group || "") === group).map((k) => {
        const on = value.tags.includes(k.code);
        const toggle = h("button", {
          type: "button", class: `bd-tag-toggle${on ? " on" : ""}`, "aria-pressed": String(on), "data-code": k.code,
          onclick: () => {
            if (on) { value.tags = value.tags.filter((c) => c !== k.code); delete value.tag_levels[k.code]; }
            else value.tags = [...value.tags, k.code];
            paint();
          },
        }, k.name);
        if (!on || !(k.levels || []).length) return toggle;
        const level = select(app, `level-${k.code}`, value.tag_levels[k.code] || "",
          k.levels.map((l) => ({ value: l, label: l })), { blank: `${T.level}: ${T.choose}` });
        level.setAttribute("aria-label", `${k.name} ${T.level}`);
        level.addEventListener("change", () => {
          if (level.value) value.tag_levels[k.code] = level.value;
          else delete value.tag_levels[k.code];
        });
        return h("span", { class: "bd-tag-with-level" }, toggle, level);
      }))));
  };
  paint();
  return box;
}

async function renderResidentForm(el, params, app) {
  const { h } = app.ui;
  linkNewHouseholds(app);
  const isNew = params.id === undefined;
  const title = isNew ? T.newResident : T.editResident;
  if (app.me && app.me.sees_personal_data === false) { missing(app, el, title, T.noPersonal); return; }
  const rec = isNew ? null : await getRecord(app, "residents", params.id);
  const hh = await getRecord(app, "households", isNew ? params.household : rec && (rec.household_id ?? `new:${rec.household_client_key}`));
  if ((!isNew && !rec) || (isNew && !hh)) { missing(app, el, title, T.notFound); return; }
  const kinds = await tagKinds(app);
  const v = (name, fallback = "") => (rec && rec[name] != null ? rec[name] : fallback);
  const inputs = {
    name: textInput(app, "name", v("name"), { maxlength: "50", autocomplete: "off" }),
    id_number: textInput(app, "id_number", v("id_number"), { maxlength: "18", autocapitalize: "characters", spellcheck: "false" }),
    phone: textInput(app, "phone", v("phone"), { type: "tel", inputmode: "tel", maxlength: "20" }),
    birth_date: textInput(app, "birth_date", v("birth_date"), masked(v("birth_date")) ? { readonly: true } : { type: "date" }),
    sex: select(app, "sex", v("sex"), SEXES, { blank: T.choose }),
    registration: select(app, "registration", v("registration", "registered"), REGISTRATIONS.map((r) => ({ value: r, label: REGISTRATION_WORDS[r] }))),
    relation: select(app, "relation", v("relation"), RELATIONS, { blank: T.choose }),
    residence_since: textInput(app, "residence_since", v("residence_since"), { type: "date" }),
    origin: textInput(app, "origin", v("origin"), { maxlength: "100" }),
  };
  const tags = { tags: [...v("tags", [])], tag_levels: { ...v("tag_levels", {}) } };
  const hint = (name) => (masked(v(name)) ? T.masked : "");
  // The ID number tells at once: a wrong digit is said while the worker still holds the card.
  inputs.id_number.addEventListener("change", () => {
    const slot = el.querySelector('[data-error-for="id_number"]');
    const found = checkIdNumber(inputs.id_number.value);
    slot.textContent = "";
    slot.hidden = true;
    slot.closest(".bd-field").classList.toggle("has-error", Boolean(found.problem));
    if (found.problem) { slot.textContent = found.problem.message; slot.hidden = false; return; }
    inputs.id_number.value = found.value.id_number;
    if (!masked(v("birth_date"))) inputs.birth_date.value = found.value.birth_date;
    inputs.sex.value = found.value.sex;
    // Filled for the worker: their old problems (required, mismatch) go, as if typed.
    for (const input of [inputs.birth_date, inputs.sex]) input.dispatchEvent(new Event("input", { bubbles: true }));
    app.ui.toast(T.idOk);
  });
  const save = async (form) => {
    const fields = Object.fromEntries(Object.entries(inputs).map(([k, input]) => [k, input.value]));
    Object.assign(fields, { tags: tags.tags, tag_levels: tags.tag_levels });
    // An edit checks (and sends) what changed; a changed ID number re-checks the birth date
    // and sex it must agree with (unless the phone holds them masked).
    let only = null;
    if (rec) {
      only = Object.keys(changedFields(rec, fields, RESIDENT_FIELDS));
      if (only.includes("id_number")) only.push(...["birth_date", "sex"].filter((n) => !masked(v(n))));
      if (!only.length) { app.ui.toast(T.nothing); return; }
    }
    const problems = checkResident(fields, { only, tagKinds: kinds.length ? kinds : null, carried: v("tags", []) });
    if (showProblems(form, problems, { aliases: { tag_levels: "tags" } })) return;
    let changes = rec ? changedFields(rec, fields, RESIDENT_FIELDS) : fields;
    if (rec && !Object.keys(changes).length) { app.ui.toast(T.nothing); return; }
    if (!rec) {
      changes = isLocal(hh) ? { household_client_key: hh._client_key || String(hh.id).slice(4), ...changes } : { household_id: hh.id, ...changes };
    }
    const id = await saveRecord(app, { set: "residents", kind: "resident", rec, changes });
    app.ui.toast(T.saved);
    app.go(rec ? `/residents/${id}` : `/households/${hh.id}`);
  };
  const form = formShell(app, { id: "resident-form", onsubmit: save },
    field(app, { name: "name", label: T.name, input: inputs.name, required: true, hint: hint("name") }),
    field(app, { name: "id_number", label: T.idNumber, input: inputs.id_number, required: true, hint: hint("id_number") || T.idHint }),
    h("div", { class: "bd-pair" },
      field(app, { name: "birth_date", label: T.birth, input: inputs.birth_date, required: true, hint: hint("birth_date") }),
      field(app, { name: "sex", label: T.sex, input: inputs.sex, required: true })),
    field(app, { name: "phone", label: T.phone, input: inputs.phone, hint: hint("phone") }),
    h("div", { class: "bd-pair" },
      field(app, { name: "registration", label: T.registration, input: inputs.registration, required: true }),
      field(app, { name: "relation", label: T.relation, input: inputs.relation })),
    h("div", { class: "bd-pair" },
      field(app, { name: "residence_since", label: T.since, input: inputs.residence_since }),
      field(app, { name: "origin", label: T.origin, input: inputs.origin })),
    field(app, { name: "tags", label: T.tags, input: tagPicker(app, kinds, tags) }));
  app.ui.header(title, { back: true });
  const state = rec ? await stateOf(app, "residents", rec) : null;
  const trouble = lastTrouble(app, form, "residents", rec);
  el.replaceChildren(h("div", { class: "bd-page" },
    h("div", { class: "bd-card-head" }, h("h2", {}, rec ? rec.name : hh.address), badge(app, state)),
    rec ? h("p", { class: "bd-sub" }, h("a", { href: `#/households/${hh.id}` }, hh.address)) : null,
    trouble, form));
}

export const routes = [
  { path: "/households/new", title: T.newHousehold, render: (el, params, app) => renderHouseholdForm(el, {}, app) },
  { path: "/households/:id/edit", title: T.editHousehold, render: renderHouseholdForm },
  { path: "/residents/new", title: T.newResident, render: (el, params, app) => renderResidentForm(el, { household: params.household }, app) },
  { path: "/residents/:id", title: T.editResident, render: renderResidentForm },
];
