// 登记需求 on the phone (#20): a resident's need met on a visit. What kind (the catalogue from
// the working set), one sentence and details, urgency, which household (nearest to me first,
// or by address), where (my position or a point on the map), the contact, photos made small
// on the phone; then one outbox item `need.raise`. Works offline; the community reviews it.
import { toastSaved } from "./saved.js";
import { photoPicker } from "../photos.js";
import { byDistance, distanceText } from "../measure.js";

const T = {
  title: gettext("Register a need"),
  kind: gettext("What kind of help"),
  choose: gettext("— choose —"),
  sentence: gettext("In one sentence"),
  sentenceHint: gettext("e.g. an elderly resident living alone needs meals delivered"),
  details: gettext("Details (optional)"),
  urgency: gettext("How urgent"),
  normal: gettext("normal"),
  urgent: gettext("urgent"),
  household: gettext("Household (optional)"),
  searchHousehold: gettext("Search an address"),
  noHousehold: gettext("No household"),
  where: gettext("Where"),
  myPosition: gettext("My position"),
  onMap: gettext("Choose on the map"),
  atHousehold: gettext("At the household"),
  waiting: gettext("Waiting for the position… (allow location access)"),
  accuracy: gettext("accurate to %(m)s m"),
  picked: gettext("Point chosen on the map"),
  pickTitle: gettext("Tap where the need is"),
  address: gettext("Address (building, unit, room)"),
  contactName: gettext("Contact name"),
  contactPhone: gettext("Contact phone"),
  photos: gettext("Photos"),
  send: gettext("Save and send"),
  noKind: gettext("Choose what kind of help."),
  noSentence: gettext("Say in one sentence what is needed."),
  noKinds: gettext("The list of service kinds is not on the phone yet: sync once with a signal."),
  reviewed: gettext("The community reviews every need before it is dispatched."),
};
const SHOWN = 30;

function householdPicker(app, households, onPick) {
  const { h } = app.ui;
  const search = h("input", { type: "search", class: "work-search", placeholder: T.searchHousehold, "aria-label": T.searchHousehold });
  const choices = h("div", { class: "work-choices" });
  const chosen = h("div", { class: "work-chosen", hidden: true });
  let picked = null;
  // Sorted once, at the first fix: rows must not jump under a finger.
  const sorted = app.position ? byDistance(households, app.position) : [...households].sort((a, b) => String(a.address).localeCompare(String(b.address), "zh"));
  const draw = () => {
    const q = search.value.trim();
    const rows = sorted.filter((hh) => !q || String(hh.address || "").includes(q)).slice(0, SHOWN);
    choices.replaceChildren(...rows.map((hh) => h("button", {
      type: "button", class: "work-choice", "data-household": hh.id,
      onclick: () => pick(hh),
    }, h("span", {}, hh.address || `#${hh.id}`), hh._metres != null ? h("span", { class: "work-code" }, distanceText(hh._metres)) : null)));
  };
  const pick = (hh) => {
    picked = hh;
    chosen.hidden = !hh;
    search.hidden = Boolean(hh);
    choices.hidden = Boolean(hh);
    chosen.replaceChildren(...(hh ? [
      h("span", { class: "work-chosen-name" }, hh.address || `#${hh.id}`),
      h("button", { type: "button", class: "work-button", onclick: () => { pick(null); search.focus(); } }, T.noHousehold),
    ] : []));
    onPick(hh);
  };
  search.addEventListener("input", draw);
  draw();
  return { el: h("div", {}, chosen, search, choices), value: () => picked };
}

export async function renderNeedForm(el, params, app) {
  const { h } = app.ui;
  const kinds = (await app.store.all("servicekinds")).sort((a, b) => (a.order - b.order) || String(a.code).localeCompare(String(b.code)));
  const households = await app.store.all("households");
  let mode = "me";
  let picked = null;

  const kind = h("select", { id: "need-kind" }, h("option", { value: "" }, T.choose), ...kinds.map((k) => h("option", { value: k.code }, k.name)));
  const title = h("input", { id: "need-title", type: "text", maxlength: "60", placeholder: T.sentenceHint });
  const details = h("textarea", { id: "need-details", rows: "3", maxlength: "1000" });
  const urgency = h("div", { class: "work-segs" },
    ...["normal", "urgent"].map((u) => h("button", { type: "button", class: `work-seg${u === "normal" ? " is-on" : ""}`, "data-urgency": u, "aria-pressed": String(u === "normal"), onclick: (e) => {
      urgency.querySelectorAll(".work-seg").forEach((b) => { b.classList.toggle("is-on", b === e.currentTarget); b.setAttribute("aria-pressed", String(b === e.currentTarget)); });
    } }, T[u])));
  const address = h("input", { id: "need-address", type: "text", maxlength: "200" });
  const contactName = h("input", { id: "need-contact-name", type: "text", maxlength: "50", autocomplete: "off" });
  const contactPhone = h("input", { id: "need-contact-phone", type: "tel", maxlength: "20", inputmode: "tel", autocomplete: "off" });
  // The server's own limit (GRIDLINE_NEEDS_PHOTOS_MAX, in the shell's config).
  const photos = photoPicker({ max: (app.config && app.config.limits && app.config.limits.need_photos) || 3 });
  const whereText = h("p", { class: "work-where-text", "aria-live": "polite" });
  const meButton = h("button", { type: "button", class: "work-seg is-on" }, `◎ ${T.myPosition}`);
  const mapButton = h("button", { type: "button", class: "work-seg" }, T.onMap);
  const point = () => {
    if (mode === "picked") return picked;
    if (mode === "household") { const hh = house.value(); return hh && hh.lon != null ? { lon: hh.lon, lat: hh.lat } : null; }
    return app.position ? { lon: app.position.lon, lat: app.position.lat, accuracy: app.position.accuracy } : null;
  };
  const drawWhere = () => {
    meButton.classList.toggle("is-on", mode === "me");
    mapButton.classList.toggle("is-on", mode === "picked");
    const p = point();
    whereText.classList.toggle("is-warning", !p);
    if (!p) { whereText.textContent = T.waiting; return; }
    const coords = `${p.lon.toFixed(6)}, ${p.lat.toFixed(6)}`;
    if (mode === "household") whereText.textContent = `${T.atHousehold}: ${coords}`;
    else if (mode === "picked") whereText.textContent = `${T.picked}: ${coords}`;
    else whereText.textContent = `${coords} · ${interpolate(T.accuracy, { m: Math.round(p.accuracy || 0) }, true)}`;
  };
  const house = householdPicker(app, households, (hh) => {
    if (hh && hh.lon != null) mode = "household";
    else if (mode === "household") mode = "me";
    if (hh && !address.value.trim()) address.value = hh.address || "";
    drawWhere();
  });
  meButton.addEventListener("click", () => { mode = "me"; drawWhere(); });
  mapButton.addEventListener("click", async () => {
    const chosen = await app.pickPoint({ title: T.pickTitle });
    if (!chosen) return;
    picked = chosen;
    mode = "picked";
    drawWhere();
  });

  const problems = h("div", { class: "work-problems", role: "alert" });
  const send = h("button", { type: "submit", class: "work-button is-primary work-send" }, T.send);
  const label = (id, text) => h("label", { class: "work-field", for: id }, text);
  const form = h("form", { class: "work-form", novalidate: true },
    kinds.length ? null : h("p", { class: "work-banner is-warning" }, T.noKinds),
    label("need-kind", T.kind), kind,
    label("need-title", T.sentence), title,
    label("need-details", T.details), details,
    h("div", { class: "work-field" }, h("span", { class: "work-label" }, T.urgency), urgency),
    h("div", { class: "work-field" }, h("span", { class: "work-label" }, T.household), house.el),
    h("fieldset", { class: "work-where" }, h("legend", {}, T.where), h("div", { class: "work-segs" }, meButton, mapButton), whereText),
    label("need-address", T.address), address,
    label("need-contact-name", T.contactName), contactName,
    label("need-contact-phone", T.contactPhone), contactPhone,
    h("div", { class: "work-field" }, h("span", { class: "work-label" }, T.photos), photos.el),
    h("p", { class: "work-note" }, T.reviewed),
    problems, send);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const missing = [];
    if (!kind.value) missing.push(T.noKind);
    if (!title.value.trim()) missing.push(T.noSentence);
    problems.replaceChildren(...missing.map((text) => h("p", {}, text)));
    if (missing.length) return;
    const data = {
      kind: kind.value,
      title: title.value.trim(),
      description: details.value.trim(),
      urgency: urgency.querySelector(".is-on").dataset.urgency,
    };
    const p = point();
    if (p) Object.assign(data, { lon: p.lon, lat: p.lat });
    if (mode === "me" && p && p.accuracy != null) data.accuracy_m = Math.round(p.accuracy);
    const hh = house.value();
    if (hh && !String(hh.id).startsWith("new:")) data.household_id = hh.id;
    for (const [name, input] of [["address", address], ["contact_name", contactName], ["contact_phone", contactPhone]]) {
      if (input.value.trim()) data[name] = input.value.trim();
    }
    send.disabled = true;
    try {
      await app.outbox.enqueue({ kind: "need.raise", data, photos: photos.photos() });
    } catch (error) {
      send.disabled = false;
      problems.replaceChildren(h("p", {}, error.message || String(error)));
      return;
    }
    photos.clear();
    toastSaved(app);
    app.go("/needs");
  });

  el.replaceChildren(h("div", { class: "work-page" }, form));
  drawWhere();
  const onPosition = () => { if (mode === "me") drawWhere(); };
  app.addEventListener("position", onPosition);
  return () => app.removeEventListener("position", onPosition);
}
