// The 一标三实 checks the server makes, made on the phone first so a worker in a stairwell
// learns at once that a digit is wrong instead of after the next sync. Each mirrors a server
// rule named beside it (grids/services/imports/people.py for residents, grids/services/
// basedata/{units,buildings,keying}.py, grids/services/basedata/tags.py); codes and fields are
// the server's, so the phone and a refusal from the server read the same. Pure functions: no
// DOM, no store — the forms call them and place the problems.

// Words through gettext at the call, so xgettext finds every msgid.
const say = (text, vars) => (vars ? interpolate(text, vars, true) : text);
const problem = (code, message, field) => ({ code, message, field });

// ---- ID numbers (GB 11643-1999) ------------------------------------------------------------
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";
const EARLIEST_BIRTH = "1900-01-01";

// Full-width digits and letters (１２３, ｘ) as ASCII and spaces dropped, like the server's
// plain() + SPACES: a number pasted from a chat keeps working.
export function plain(value) {
  return String(value ?? "").normalize("NFKC").replace(/[\s\u3000]+/g, "");
}

export function idCheckDigit(body) {
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += Number(body[i]) * ID_WEIGHTS[i];
  return ID_CHECK[total % 11];
}

// The local date as YYYY-MM-DD (the server's today() is the platform's zone; a worker is in it).
export function localToday(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function realDate(y, m, d) {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

// people.check_id_number: {value: {id_number, birth_date, sex, upgraded}} or {problem}.
export function checkIdNumber(raw, today = localToday()) {
  let number = plain(raw).toUpperCase();
  const field = "id_number";
  if (!number) return { problem: problem("missing_value", say(gettext("the ID number is empty")), field) };
  const upgraded = /^\d{15}$/.test(number);
  if (upgraded) {
    const body = `${number.slice(0, 6)}19${number.slice(6)}`;
    number = body + idCheckDigit(body);
  }
  if (!/^\d{17}[\dX]$/.test(number)) {
    return { problem: problem("bad_id_number", say(
      gettext("not an ID number: 18 characters (17 digits and a check digit 0-9 or X) are needed, it has %(n)s"),
      { n: number.length }), field) };
  }
  if (number[17] !== idCheckDigit(number)) {
    return { problem: problem("id_checksum", say(
      gettext("the check digit (the 18th character) does not match the first 17 digits (GB 11643): a digit is wrong")),
    field) };
  }
  const [y, m, d] = [number.slice(6, 10), number.slice(10, 12), number.slice(12, 14)].map(Number);
  if (!realDate(y, m, d)) {
    return { problem: problem("id_birth_date", say(gettext("digits 7-14 of the ID number are no birth date")), field) };
  }
  const birth = `${number.slice(6, 10)}-${number.slice(10, 12)}-${number.slice(12, 14)}`;
  if (birth < EARLIEST_BIRTH || birth > today) {
    return { problem: problem("id_birth_date", say(
      gettext("the birth date the ID number holds (year %(year)s) is in the future or before %(earliest)s"),
      { year: y, earliest: 1900 }), field) };
  }
  return { value: { id_number: number, birth_date: birth, sex: Number(number[16]) % 2 ? "M" : "F", upgraded } };
}

// ---- phones ---------------------------------------------------------------------------------
const MOBILE = /^1[3-9]\d{9}$/;
const LANDLINE = /^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$/;

// people.check_phone: a mobile (+86 dropped) or a landline with its area code; empty is fine.
export function checkPhone(raw, limit = 20) {
  let phone = plain(raw).replace(/—/g, "-");
  if (!phone) return { value: "" };
  phone = phone.replace(/^(\+86|0086)-?/, "");
  if (/^86\d{11}$/.test(phone)) phone = phone.slice(2);
  if (/^1\d{2}-?\d{4}-?\d{4}$/.test(phone)) phone = phone.replace(/-/g, "");
  if (!(MOBILE.test(phone) || LANDLINE.test(phone)) || phone.length > limit) {
    return { problem: problem("bad_phone", say(
      gettext("not a phone number: one mobile number (11 digits, starting 13-19) or a landline with its area code (023-12345678)")),
    "phone") };
  }
  return { value: phone };
}

// units.PHONE: a unit's contact phone is looser (switchboards, extensions with spaces).
const UNIT_PHONE = /^\+?[\d\- ]{7,20}$/;

// ---- unified social credit codes (GB 32100-2015) ----------------------------------------------
const CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function creditCodeValid(code) {
  if (!new RegExp(`^[${CREDIT_CHARS}]{18}$`).test(code)) return false;
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += CREDIT_CHARS.indexOf(code[i]) * CREDIT_WEIGHTS[i];
  return CREDIT_CHARS[(31 - (total % 31)) % 31] === code[17];
}

// ---- field by field (keying.Checks) --------------------------------------------------------------
function text(fields, name, limit, problems, { required = false } = {}) {
  const value = String(fields[name] ?? "").trim();
  fields[name] = value;
  if (required && !value) problems.push(problem("missing_value", say(gettext("this field is required")), name));
  else if (value.length > limit) {
    problems.push(problem("too_long", say(gettext("%(n)s characters, at most %(max)s"), { n: value.length, max: limit }), name));
  }
}

function integer(fields, name, low, high, problems) {
  const raw = fields[name];
  if (raw === null || raw === undefined || String(raw).trim() === "") { fields[name] = null; return; }
  const number = Number(String(raw).trim());
  if (!Number.isInteger(number)) { problems.push(problem("invalid", say(gettext("not a whole number")), name)); return; }
  if (number < low || number > high) {
    problems.push(problem("out_of_range", say(gettext("%(value)s is outside %(low)s–%(high)s"), { value: number, low, high }), name));
    return;
  }
  fields[name] = number;
}

function date(fields, name, problems, today, { required = false } = {}) {
  const value = String(fields[name] ?? "").trim();
  fields[name] = value || null;
  if (!value) {
    if (required) problems.push(problem("missing_value", say(gettext("this field is required")), name));
    return;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    problems.push(problem("bad_date", say(gettext("not a date (use YYYY-MM-DD)")), name));
  } else if (value > today) {
    problems.push(problem("future_date", say(gettext("the date is in the future")), name));
  }
}

function point(fields, problems) {
  const ok = (v, lo, hi) => typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi;
  if (!ok(fields.lon, -180, 180) || !ok(fields.lat, -90, 90)) {
    problems.push(problem("missing_value", say(gettext("choose the position on the map")), "location"));
  }
}

// ---- the four kinds --------------------------------------------------------------------------------
export const REGISTRATIONS = ["registered", "floating", "overseas"];
export const RELATIONS = ["head", "spouse", "child", "parent", "grandchild", "sibling", "other"];
export const BUILDING_USES = ["residential", "commercial", "mixed", "public", "industrial", "other"];

// A household: its address and point (grids.api.serializers.HouseholdSerializer).
export function checkHousehold(fields) {
  const problems = [];
  text(fields, "address", 255, problems, { required: true });
  point(fields, problems);
  return problems;
}

// A resident (people.check_*: the importers' checks, stricter than the model's regex).
// `only`: the fields a worker changed on an edit — a value the phone holds masked is never
// checked (nor sent). `tagKinds`: the catalogue, [{code, name, levels, active}].
export function checkResident(fields, { only = null, tagKinds = null, carried = [], today = localToday() } = {}) {
  const problems = [];
  const asked = (name) => !only || only.includes(name);
  if (asked("name")) {
    const name = String(fields.name ?? "").normalize("NFKC").trim();
    // Spreadsheets and habits pad two-character names to line them up: 张  三.
    fields.name = /[\u3400-\u9fff]/.test(name) ? name.replace(/[\s\u3000]+/g, "") : name;
    text(fields, "name", 50, problems, { required: true });
  }
  let fromId = null;
  if (asked("id_number")) {
    const id = checkIdNumber(fields.id_number, today);
    if (id.problem) problems.push(id.problem);
    else { fromId = id.value; fields.id_number = id.value.id_number; }
  }
  if (asked("birth_date")) {
    date(fields, "birth_date", problems, today, { required: true });
    const bad = problems.some((p) => p.field === "birth_date");
    if (!bad && fields.birth_date < EARLIEST_BIRTH) {
      problems.push(problem("bad_date", say(gettext("the birth date is in the future or before %(earliest)s"), { earliest: 1900 }), "birth_date"));
    } else if (!bad && fromId && fields.birth_date !== fromId.birth_date) {
      problems.push(problem("birth_date_mismatch", say(gettext("the birth date differs from the one the ID number holds (its digits 7-14)")), "birth_date"));
    }
  }
  if (asked("sex")) {
    if (!["M", "F"].includes(fields.sex)) problems.push(problem("bad_sex", say(gettext("choose 男 or 女")), "sex"));
    else if (fromId && fields.sex !== fromId.sex) {
      problems.push(problem("sex_mismatch", say(gettext("sex %(given)s, but the ID number (its 17th digit) says %(from_id)s"),
        { given: fields.sex === "M" ? "男" : "女", from_id: fromId.sex === "M" ? "男" : "女" }), "sex"));
    }
  }
  if (asked("phone")) {
    const phone = checkPhone(fields.phone);
    if (phone.problem) problems.push(phone.problem);
    else fields.phone = phone.value;
  }
  if (asked("registration") && !REGISTRATIONS.includes(fields.registration)) {
    problems.push(problem("invalid_choice", say(gettext("choose a registration")), "registration"));
  }
  if (asked("relation") && fields.relation && !RELATIONS.includes(fields.relation)) {
    problems.push(problem("invalid_choice", say(gettext("choose a relation")), "relation"));
  }
  if (asked("residence_since")) date(fields, "residence_since", problems, today);
  if (asked("origin")) text(fields, "origin", 100, problems);
  if (tagKinds && (asked("tags") || asked("tag_levels"))) problems.push(...checkTags(fields, tagKinds, carried));
  return problems;
}

// tags.TagCatalogue.check: known codes, no retired kind given anew, levels of carried tags.
export function checkTags(fields, tagKinds, carried = []) {
  const problems = [];
  const kinds = Object.fromEntries(tagKinds.map((k) => [k.code, k]));
  const tags = fields.tags || [];
  for (const code of tags) {
    const kind = kinds[code];
    if (!kind) problems.push(problem("unknown_tag", say(gettext("no tag has the code %(code)s"), { code }), "tags"));
    else if (kind.active === false && !carried.includes(code)) {
      problems.push(problem("retired_tag", say(gettext("the tag %(name)s is no longer in use"), { name: kind.name }), "tags"));
    }
  }
  for (const [code, level] of Object.entries(fields.tag_levels || {})) {
    const kind = kinds[code];
    if (!tags.includes(code)) {
      problems.push(problem("level_without_tag", say(gettext("a level is given for %(code)s, which the resident does not carry"),
        { code: kind ? kind.name : code }), `tag_levels.${code}`));
    } else if (kind && !(kind.levels || []).includes(level)) {
      problems.push(problem("unknown_level", say(gettext("%(name)s has no level %(level)s; its levels are: %(levels)s"),
        { name: kind.name, level, levels: (kind.levels || []).join("、") || gettext("none") }), `tag_levels.${code}`));
    }
  }
  return problems;
}

// buildings.check_building (the phone edits a building, never creates one).
export function checkBuilding(fields, { today = localToday() } = {}) {
  const problems = [];
  text(fields, "code", 64, problems, { required: true });
  text(fields, "name", 100, problems);
  text(fields, "address", 255, problems);
  point(fields, problems);
  integer(fields, "floors", 1, 200, problems);
  integer(fields, "built_year", 1600, Number(today.slice(0, 4)), problems);
  fields.use = fields.use || "residential";
  if (!BUILDING_USES.includes(fields.use)) problems.push(problem("invalid_choice", say(gettext("choose a use")), "use"));
  return problems;
}

// units.check_unit. `unitTypes`: the catalogue [{code, name, active}]; `carried`: the unit's
// type before the edit (a retired type stays on a unit that has it). `only` as for residents:
// a masked legal person or phone is never checked.
export function checkUnit(fields, { unitTypes = null, carried = null, only = null } = {}) {
  const problems = [];
  const asked = (name) => !only || only.includes(name);
  text(fields, "name", 200, problems, { required: true });
  if (asked("legal_person")) text(fields, "legal_person", 50, problems);
  if (asked("contact_phone")) text(fields, "contact_phone", 20, problems);
  text(fields, "address", 255, problems);
  integer(fields, "employees", 0, 1000000, problems);
  point(fields, problems);
  if (unitTypes) {
    const type = unitTypes.find((t) => t.code === fields.type);
    if (!type) problems.push(problem("unknown_unit_type", say(gettext("choose a unit type")), "type"));
    else if (type.active === false && type.code !== carried) {
      problems.push(problem("retired_unit_type", say(gettext("the unit type %(name)s is no longer in use"), { name: type.name }), "type"));
    }
  }
  text(fields, "credit_code", 18, problems);
  fields.credit_code = plain(fields.credit_code).toUpperCase();
  if (fields.credit_code && !creditCodeValid(fields.credit_code)) {
    problems.push(problem("invalid_credit_code", say(
      gettext("not a unified social credit code: 18 characters with a valid check character")), "credit_code"));
  }
  if (asked("contact_phone") && fields.contact_phone && !UNIT_PHONE.test(fields.contact_phone)) {
    problems.push(problem("invalid_phone", say(gettext("not a phone number")), "contact_phone"));
  }
  return problems;
}
