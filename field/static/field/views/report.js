// 上报事件 on the phone: where (my position with its accuracy, or a point tapped on the map),
// what (a searchable category picker, recent ones first), photos made small on the phone,
// the incidents nearby that may be the same one (asked from the server when online, else
// from the local incidents set), then one outbox item `incident.report`. Everything works
// offline; a running patrol's key rides along so the incident attaches to it.
import { toastSaved } from "./saved.js";
import { photoPicker } from "../photos.js";
import { byDistance, distanceText, timeText } from "../measure.js";
import { currentPatrol, resumePatrol } from "../patrol-track.js";
import { categoryPicker } from "./report-categories.js";

const T = {
  title: gettext("Report an incident"),
  where: gettext("Where"),
  myPosition: gettext("My position"),
  onMap: gettext("Choose on the map"),
  waiting: gettext("Waiting for the position… (allow location access)"),
  accuracy: gettext("accurate to %(m)s m"),
  picked: gettext("Point chosen on the map"),
  pickTitle: gettext("Tap where the incident is"),
  what: gettext("Category"),
  description: gettext("What is wrong"),
  descriptionHint: gettext("What, how big, since when, who is affected"),
  address: gettext("Address or landmark (optional)"),
  priority: gettext("Priority"),
  normal: gettext("normal"),
  urgent: gettext("urgent"),
  critical: gettext("critical"),
  photos: gettext("Photos"),
  send: gettext("Save and send"),
  sameTitle: gettext("Possibly already reported nearby"),
  sameHint: gettext("Open one to add to it instead, or report anyway."),
  sameAsk: gettext("%(n)s incidents of this category are already reported nearby. Report a new one anyway?"),
  noPoint: gettext("Choose where the incident is: your position or a point on the map."),
  noCategory: gettext("Choose a category."),
  noDescription: gettext("Say what is wrong."),
  onPatrol: gettext("On patrol: this incident is attached to the patrol."),
};

// Metres within which an incident of the same category counts as "maybe the same" when the
// phone has to decide alone (the server's GRIDLINE_DUPLICATE_M, 50 m by default).
const SAME_M = 50;
const OPEN = new Set(["reported", "registered", "dispatched", "handling", "fed_back", "verified"]);

async function nearbyOnline(app, category, point) {
  if (!app.api || !navigator.onLine) return null;
  const query = new URLSearchParams({ category, lon: point.lon, lat: point.lat });
  const { ok, body } = await app.api(`/api/incidents/nearby/?${query}`);
  if (!ok || !Array.isArray(body)) return null;
  // The API's rows have no status words; the phone's copy of the incident has them.
  const local = new Map((await app.store.all("incidents")).map((i) => [String(i.id), i]));
  return body.map(({ incident, metres }) => ({
    id: incident.id,
    title: incident.title,
    category_name: incident.category_name,
    status: incident.status,
    status_name: local.get(String(incident.id))?.status_name || "",
    reported_at: incident.reported_at,
    _metres: metres,
  }));
}

async function nearbyLocal(app, category, point) {
  const all = await app.store.all("incidents");
  const same = all.filter((i) => i.category === category && (!i.status || OPEN.has(i.status)));
  const limit = (app.config && app.config.limits && app.config.limits.duplicate_m) || SAME_M;
  return byDistance(same, point).filter((i) => i._metres <= limit);
}

export function renderReport(el, params, app) {
  const { h } = app.ui;
  resumePatrol(app);
  let mode = params.lon && params.lat ? "picked" : "me";
  let picked = mode === "picked" ? { lon: Number(params.lon), lat: Number(params.lat) } : null;
  let category = null;
  let duplicates = [];

  const point = () => {
    if (mode === "picked") return picked;
    const p = app.position;
    return p ? { lon: p.lon, lat: p.lat, accuracy: p.accuracy } : null;
  };

  const whereText = h("p", { class: "work-where-text", "aria-live": "polite" });
  const meButton = h("button", { type: "button", class: "work-seg" }, `◎ ${T.myPosition}`);
  const mapButton = h("button", { type: "button", class: "work-seg" }, T.onMap);
  const drawWhere = () => {
    meButton.classList.toggle("is-on", mode === "me");
    mapButton.classList.toggle("is-on", mode === "picked");
    meButton.setAttribute("aria-pressed", String(mode === "me"));
    mapButton.setAttribute("aria-pressed", String(mode === "picked"));
    const p = point();
    if (!p) {
      whereText.textContent = T.waiting;
      whereText.classList.add("is-warning");
      return;
    }
    whereText.classList.remove("is-warning");
    const coords = `${p.lon.toFixed(6)}, ${p.lat.toFixed(6)}`;
    whereText.textContent =
      mode === "me"
        ? `${coords} · ${interpolate(T.accuracy, { m: Math.round(p.accuracy) }, true)}`
        : `${T.picked}: ${coords}`;
  };
  meButton.addEventListener("click", () => {
    mode = "me";
    drawWhere();
    checkSame();
  });
  mapButton.addEventListener("click", async () => {
    const chosen = await app.pickPoint({ title: T.pickTitle });
    if (!chosen) return;
    picked = chosen;
    mode = "picked";
    drawWhere();
    checkSame();
  });

  const picker = categoryPicker(app, (code) => {
    category = code;
    checkSame();
  });
  const description = h("textarea", {
    id: "work-description",
    rows: "3",
    placeholder: T.descriptionHint,
    maxlength: "2000",
  });
  const address = h("input", { id: "work-address", type: "text", maxlength: "200" });
  const priority = h(
    "select",
    { id: "work-priority" },
    h("option", { value: "normal" }, T.normal),
    h("option", { value: "urgent" }, T.urgent),
    h("option", { value: "critical" }, T.critical),
  );
  const photos = photoPicker();
  const sameBox = h("section", { class: "work-same", hidden: true, "aria-live": "polite" });
  const patrolNote = h("p", { class: "work-note", hidden: true }, T.onPatrol);
  const problems = h("div", { class: "work-problems", role: "alert" });
  const send = h("button", { type: "submit", class: "work-button is-primary work-send" }, T.send);

  let asked = 0;
  async function checkSame() {
    const p = point();
    const ask = ++asked;
    if (!p || !category) {
      duplicates = [];
    } else {
      const online = await nearbyOnline(app, category, p);
      duplicates = online || (await nearbyLocal(app, category, p));
    }
    if (ask !== asked) return; // a later question already answered
    sameBox.hidden = duplicates.length === 0;
    sameBox.replaceChildren(
      h("h3", {}, T.sameTitle),
      h("p", { class: "work-hint" }, T.sameHint),
      ...duplicates.slice(0, 5).map((i) =>
        h(
          "a",
          { class: "work-row", href: `#/incidents/${i.id}` },
          h(
            "span",
            { class: "work-row-main" },
            h("strong", {}, i.title || i.description || i.category_name || `#${i.id}`),
            h("span", { class: "work-meta" }, [distanceText(i._metres), i.status_name, timeText(i.reported_at || i._made_at)].filter(Boolean).join(" · ")),
          ),
        ),
      ),
    );
  }

  const form = h(
    "form",
    { class: "work-form", novalidate: true },
    h(
      "fieldset",
      { class: "work-where" },
      h("legend", {}, T.where),
      h("div", { class: "work-segs" }, meButton, mapButton),
      whereText,
    ),
    h("div", { class: "work-field" }, h("span", { class: "work-label" }, T.what), picker.el),
    sameBox,
    h("label", { class: "work-field", for: "work-description" }, T.description),
    description,
    h("label", { class: "work-field", for: "work-address" }, T.address),
    address,
    h("label", { class: "work-field", for: "work-priority" }, T.priority),
    priority,
    h("div", { class: "work-field" }, h("span", { class: "work-label" }, T.photos), photos.el),
    patrolNote,
    problems,
    send,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const p = point();
    const missing = [];
    if (!p) missing.push(T.noPoint);
    if (!category) missing.push(T.noCategory);
    if (!description.value.trim()) missing.push(T.noDescription);
    problems.replaceChildren(...missing.map((text) => h("p", {}, text)));
    if (missing.length) return;
    if (duplicates.length) {
      const go = await app.ui.confirm(interpolate(T.sameAsk, { n: duplicates.length }, true));
      if (!go) return;
    }
    send.disabled = true;
    const data = {
      category,
      description: description.value.trim(),
      lon: p.lon,
      lat: p.lat,
      accuracy_m: mode === "me" && p.accuracy != null ? Math.round(p.accuracy) : null,
      priority: priority.value,
    };
    if (address.value.trim()) data.address = address.value.trim();
    const patrol = await currentPatrol(app);
    if (patrol) data.patrol_client_key = patrol.client_key;
    try {
      await app.outbox.enqueue({
        kind: "incident.report",
        target: null,
        base_version: null,
        data,
        photos: photos.photos(),
      });
    } catch (error) {
      send.disabled = false;
      problems.replaceChildren(h("p", {}, error.message || String(error)));
      return;
    }
    picker.remember(category);
    photos.clear();
    toastSaved(app);
    app.go("/incidents");
  });

  el.replaceChildren(h("div", { class: "work-page" }, form));
  drawWhere();
  currentPatrol(app).then((patrol) => {
    patrolNote.hidden = !patrol;
  });
  let hadPoint = Boolean(point());
  const onPosition = () => {
    if (mode !== "me") return;
    drawWhere();
    // The first fix is when "nearby" starts to mean something.
    if (!hadPoint && point()) {
      hadPoint = true;
      checkSame();
    }
  };
  app.addEventListener("position", onPosition);
  return () => app.removeEventListener("position", onPosition);
}

export const routes = [{ path: "/report", title: T.title, render: renderReport }];
