// The ledger's checks on the phone, the same as the server makes when the values arrive:
// each value parsed as reports.services.indicators.parse_value does (type, range, choices,
// 是/否) and the validation rules between indicators evaluated as reports.services.ledger.
// validation.check_rules does (`left op factor × right + constant`, only rules touching a
// value being saved, both sides numbers). The main ledger page leaves both to the server;
// the phone cannot, since it saves offline into the outbox and would learn of a broken rule
// hours later. Exact decimals (BigInt, 4 places as the server stores them), so `==` rules and
// bounds agree with Python's Decimal to the last digit. Pure: no DOM, no store.

// Words through gettext at the call, so xgettext finds every msgid.
const say = (text, vars) => (vars ? interpolate(text, vars, true) : text);
const PLACES = 4;

// ---- decimals: {c: BigInt coefficient, s: scale} --------------------------------------------------
const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function dec(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "object" && typeof value.c === "bigint") return value;
  const m = NUMBER.exec(String(value).trim());
  if (!m || !(m[2] || m[3])) return null;
  const exp = Number(m[4] || 0);
  // Far beyond what a ledger holds (the server refuses |x| ≥ 10^16): keep BigInts small.
  if (exp > 100) return { c: BigInt(`${m[1]}1`) * 10n ** 120n, s: 0 };
  if (exp < -100) return { c: 0n, s: 0 };
  const digits = `${m[2] || ""}${m[3] || ""}` || "0";
  let scale = (m[3] || "").length - exp;
  let c = BigInt(digits);
  if (scale < 0) { c *= 10n ** BigInt(-scale); scale = 0; }
  return { c: m[1] === "-" ? -c : c, s: scale };
}

const rescale = (a, s) => a.c * 10n ** BigInt(s - a.s);
export function cmp(a, b) {
  const s = Math.max(a.s, b.s);
  const x = rescale(a, s);
  const y = rescale(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}
const add = (a, b) => { const s = Math.max(a.s, b.s); return { c: rescale(a, s) + rescale(b, s), s }; };
const mul = (a, b) => ({ c: a.c * b.c, s: a.s + b.s });
const abs = (a) => ({ c: a.c < 0n ? -a.c : a.c, s: a.s });
const isWhole = (a) => a.s === 0 || a.c % 10n ** BigInt(a.s) === 0n;

// Decimal.quantize(Decimal("0.0001")) with the default ROUND_HALF_EVEN.
export function quantize(a, places = PLACES) {
  if (a.s <= places) return { c: rescale(a, places), s: places };
  const div = 10n ** BigInt(a.s - places);
  let q = a.c / div;
  const r = a.c % div;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > div || (twice === div && q % 2n !== 0n)) q += a.c < 0n ? -1n : 1n;
  return { c: q, s: places };
}

// The value as people write it: no trailing zeros, no exponent.
export function decText(a) {
  const negative = a.c < 0n;
  const digits = (negative ? -a.c : a.c).toString().padStart(a.s + 1, "0");
  let text = a.s ? `${digits.slice(0, -a.s)}.${digits.slice(-a.s)}` : digits;
  if (a.s) text = text.replace(/0+$/, "").replace(/\.$/, "");
  return (negative && text !== "0" ? "-" : "") + text;
}

// ---- parsing a typed value -------------------------------------------------------------------
const YES = new Set(["1", "true", "yes", "y", "是", "有", "√", "✓"]);
const NO = new Set(["0", "false", "no", "n", "否", "无", "×", "✗"]);
export const NUMERIC = new Set(["integer", "decimal", "percentage"]);
const TEN_16 = { c: 10n ** 16n, s: 0 };

// Python's repr() of what was typed, as the server quotes it.
const quoted = (raw) => (typeof raw === "string" ? `'${raw}'` : String(raw));

function fail(item, code, message) {
  return { error: { code, field: item.indicator, message: `${item.name} (${item.indicator}): ${message}` } };
}

// parse_value: {number: decimal|null, text} or {error: {code, field, message}}. An empty
// value is no value (it clears the cell).
export function parseValue(item, raw) {
  if (raw === null || raw === undefined || (typeof raw === "string" && !raw.trim())) return { number: null, text: "" };
  const kind = item.value_type;
  if (kind === "text") {
    const text = String(raw).trim();
    return text.length > 500 ? fail(item, "wrong_type", say(gettext("longer than 500 characters"))) : { number: null, text };
  }
  if (kind === "choice") {
    const text = String(raw).trim();
    const choices = item.choices || [];
    return choices.includes(text) ? { number: null, text }
      : fail(item, "wrong_type", say(gettext("%(value)s is not one of %(choices)s"), { value: quoted(text), choices: choices.join("、") }));
  }
  if (kind === "boolean") {
    if (typeof raw === "boolean") return { number: dec(raw ? 1 : 0), text: "" };
    const word = String(raw).trim().toLowerCase();
    if (YES.has(word)) return { number: dec(1), text: "" };
    if (NO.has(word)) return { number: dec(0), text: "" };
    return fail(item, "wrong_type", say(gettext("%(value)s is not yes or no"), { value: quoted(raw) }));
  }
  let text = String(raw).trim().replace(/[,，]/g, "");
  if (kind === "percentage") text = text.replace(/[%％]+$/, "");
  const number = dec(text);
  if (number === null) return fail(item, "wrong_type", say(gettext("%(value)s is not a number"), { value: quoted(raw) }));
  if (kind === "integer" && !isWhole(number)) {
    return fail(item, "wrong_type", say(gettext("%(value)s is not a whole number"), { value: quoted(raw) }));
  }
  if (cmp(abs(number), TEN_16) >= 0) return fail(item, "wrong_type", say(gettext("%(value)s is too large"), { value: quoted(raw) }));
  let low = dec(item.min_value);
  let high = dec(item.max_value);
  if (kind === "percentage") { low = low ?? dec(0); high = high ?? dec(100); }
  if (low && cmp(number, low) < 0) {
    return fail(item, "out_of_range", say(gettext("%(value)s is below the minimum %(low)s"), { value: decText(number), low: decText(low) }));
  }
  if (high && cmp(number, high) > 0) {
    return fail(item, "out_of_range", say(gettext("%(value)s is above the maximum %(high)s"), { value: decText(number), high: decText(high) }));
  }
  return { number: quantize(number), text: "" };
}

// ---- the rules between indicators --------------------------------------------------------------
const HOLDS = {
  "<=": (c) => c <= 0, "<": (c) => c < 0, "==": (c) => c === 0, ">=": (c) => c >= 0, ">": (c) => c > 0,
};
const SHOWN = { "<=": "≤", "<": "<", "==": "=", ">=": "≥", ">": ">" };

// The value check_rules would use for an indicator the worker did not change: the sheet's
// `known` (exact stored or derived values). A text indicator's text is never a number.
// Without `known` (an older working set), the sheet's shown values stand in: exact for whole
// numbers, yes/no and texts, rounded to 0.01 for decimals.
function knownValue(sheet, code, types) {
  let value = sheet.known ? sheet.known[code] : undefined;
  if (value === undefined) {
    const found = [...(sheet.items || []), ...(sheet.derived || [])].find((i) => i.indicator === code);
    value = found ? found.value : null;
    if (types[code] === "boolean" && typeof value === "string") value = value === "是" ? 1 : value === "否" ? 0 : null;
    if (typeof value === "boolean") value = value ? 1 : 0;
  }
  if (value === null || value === undefined || value === "") return null;
  if (types[code] && !NUMERIC.has(types[code]) && types[code] !== "boolean") return value;
  return dec(value) ?? value;
}

function nameOf(sheet, code) {
  const found = [...(sheet.items || []), ...(sheet.derived || [])].find((i) => i.indicator === code);
  return found ? found.name : code;
}

// check_rules: {errors, warnings}, each {code: "rule_broken", field: the left indicator,
// rule, message}. `parsed`: {indicator code: {number, text}} of the values being saved.
// `unreadable`: codes being saved whose value did not parse (their rules wait for a value).
export function checkRules(sheet, parsed, unreadable = []) {
  const types = Object.fromEntries((sheet.items || []).map((i) => [i.indicator, i.value_type]));
  const saving = new Set(Object.keys(parsed));
  const valueOf = (code) => {
    if (saving.has(code)) return parsed[code].number ?? parsed[code].text;
    return knownValue(sheet, code, types);
  };
  const errors = [];
  const warnings = [];
  for (const rule of sheet.rules || []) {
    if (!saving.has(rule.left) && !(rule.right && saving.has(rule.right))) continue;
    if (unreadable.includes(rule.left) || unreadable.includes(rule.right)) continue;
    const left = valueOf(rule.left);
    const right = rule.right ? valueOf(rule.right) : dec(0);
    if (!left || typeof left.c !== "bigint" || !right || typeof right.c !== "bigint") continue;
    const bound = add(mul(dec(rule.factor ?? 1), right), dec(rule.constant ?? 0));
    if (HOLDS[rule.operator](cmp(left, bound))) continue;
    const shown = rule.operator_display || SHOWN[rule.operator];
    const other = rule.right ? `${nameOf(sheet, rule.right)} ${decText(right)}` : decText(bound);
    const found = {
      code: "rule_broken",
      field: rule.left,
      rule: rule.code,
      severity: rule.severity,
      // As check_rules words it, without the rule's code: a worker needs the indicators, and
      // the code (Latin letters) would be the one foreign word on a Chinese page.
      message: `${rule.message}：${nameOf(sheet, rule.left)} ${decText(left)} ${shown} ${other}`,
    };
    (rule.severity === "warning" ? warnings : errors).push(found);
  }
  return { errors, warnings };
}

// Everything the phone checks before a save: {values (as typed, to send), errors, warnings}.
// `typed`: {code: value as typed} of the changed items only, as the server is sent them.
export function checkLedger(sheet, typed) {
  const items = Object.fromEntries((sheet.items || []).map((i) => [i.indicator, i]));
  const errors = [];
  const parsed = {};
  for (const [code, raw] of Object.entries(typed)) {
    const item = items[code];
    if (!item) {
      errors.push({ code: "not_due", field: code, message: say(gettext("%(code)s is not collected here"), { code }) });
      continue;
    }
    const result = parseValue(item, raw);
    if (result.error) errors.push(result.error);
    else parsed[code] = result;
  }
  const rules = checkRules(sheet, parsed, errors.map((e) => e.field));
  return { errors: [...errors, ...rules.errors], warnings: rules.warnings };
}
