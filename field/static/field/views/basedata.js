// 一标三实 of my grid on the phone: households, buildings and units listed from the local
// working set and searched by address or name (a household also by its residents' names),
// and a household with its residents (masked as the role's working set holds them). Every
// row shows its state (saved on the phone, sent, conflict, refused). The forms are in
// basedata-forms.js (households, residents) and places-forms.js (buildings, units).
import { badge, getRecord, isLocal, linkNewHouseholds, missing, stateOf, tagKinds, unitTypes } from "./basedata-kit.js";
import { routes as forms } from "./basedata-forms.js";
import { routes as places } from "./places-forms.js";

const T = {
  title: gettext("Households, buildings, units"),
  // Tabs of the 一标三实 lists (实有人口 live in their households).
  households: pgettext("field tab", "Households"),
  buildings: pgettext("field tab", "Buildings"),
  units: pgettext("field tab", "Units"),
  search: gettext("Search by address or name"),
  addHousehold: gettext("Add a household"),
  addUnit: gettext("Add a unit"),
  more: gettext("Show more"),
  none: gettext("Nothing found."),
  noneYet: gettext("Nothing here yet: sync first."),
  members: gettext("%(n)s members"),
  floors: gettext("%(n)s floors"),
  employees: gettext("%(n)s employees"),
  household: gettext("Household"),
  notFound: gettext("This household is not on the phone (another grid, or removed)."),
  edit: gettext("Edit"),
  residents: gettext("Residents"),
  addResident: gettext("Add a resident"),
  noResidents: gettext("No resident recorded."),
  noPersonal: gettext("Your role does not see personal data: residents are not on the phone."),
  address: gettext("Address"),
  building: gettext("Building"),
  position: gettext("Position"),
  registered: gettext("Registered on"),
  noBuilding: gettext("none"),
  visit: gettext("Record a visit"),
  masked: gettext("Masked for your role"),
  born: gettext("born %(year)s"),
};

const PAGE = 50;
const SEX = { M: gettext("male"), F: gettext("female") };
export const RELATION_WORDS = {
  head: gettext("head of household"),
  spouse: gettext("spouse"),
  child: pgettext("relation to the head", "child"),
  parent: pgettext("relation to the head", "parent"),
  grandchild: gettext("grandchild"),
  sibling: gettext("sibling"),
  other: gettext("other relation"),
};

const norm = (s) => String(s ?? "").toLowerCase().normalize("NFKC");

// Each tab: the set, what a row shows, what the search looks at, where a tap goes.
const TABS = {
  households: {
    label: T.households,
    line: (r, ctx) => [r.address || "—", [
      ctx.buildings[r.building_id] ? ctx.buildings[r.building_id].name || ctx.buildings[r.building_id].code : "",
      interpolate(T.members, { n: r.member_count ?? ctx.members[r.id] ?? 0 }, true),
    ].filter(Boolean).join(" · ")],
    text: (r, ctx) => `${r.address} ${(ctx.names[r.id] || []).join(" ")}`,
    href: (r) => `/households/${r.id}`,
    add: { label: T.addHousehold, href: "/households/new" },
  },
  buildings: {
    label: T.buildings,
    line: (r) => [r.name || r.code, [r.code !== r.name ? r.code : "", r.address,
      r.floors ? interpolate(T.floors, { n: r.floors }, true) : ""].filter(Boolean).join(" · ")],
    text: (r) => `${r.code} ${r.name} ${r.address}`,
    href: (r) => `/buildings/${r.id}`,
  },
  units: {
    label: T.units,
    line: (r) => [r.name, [r.type_name, r.address,
      r.employees ? interpolate(T.employees, { n: r.employees }, true) : ""].filter(Boolean).join(" · ")],
    text: (r) => `${r.name} ${r.address} ${r.credit_code} ${r.type_name}`,
    href: (r) => `/units/${r.id}`,
    add: { label: T.addUnit, href: "/units/new" },
  },
};

async function context(app) {
  const [buildings, residents] = await Promise.all([
    app.store.all("buildings").catch(() => []),
    app.store.all("residents").catch(() => []),
  ]);
  const names = {};
  const members = {};
  for (const r of residents) {
    const key = r.household_id ?? `new:${r.household_client_key}`;
    (names[key] = names[key] || []).push(r.name);
    members[key] = (members[key] || 0) + 1;
  }
  return { buildings: Object.fromEntries(buildings.map((b) => [b.id, b])), names, members };
}

async function renderLists(el, params, app) {
  const { h } = app.ui;
  const tab = TABS[params.tab] ? params.tab : "households";
  linkNewHouseholds(app);
  // The forms' catalogues onto the phone while there is a signal (kept for offline).
  const catalogues = Promise.all([tagKinds(app, { fresh: true }), unitTypes(app, { fresh: true })]);
  const spec = TABS[tab];
  const [rows, ctx] = await Promise.all([app.store.all(tab).catch(() => []), context(app)]);
  // Records made on the phone first, then by address/name (Chinese collation).
  const key = (r) => spec.line(r, ctx)[0];
  rows.sort((a, b) => Number(isLocal(b)) - Number(isLocal(a)) || String(key(a)).localeCompare(String(key(b)), "zh-CN"));
  const search = h("input", {
    type: "search", name: "q", placeholder: T.search, value: params.q || "", "aria-label": T.search, autocomplete: "off",
  });
  const list = h("ul", { class: "bd-list", "data-set": tab });
  const moreButton = h("button", { type: "button", class: "bd-button bd-more", hidden: true }, T.more);
  let shown = PAGE;
  let token = 0;
  const paint = async () => {
    const mine = ++token;
    const words = norm(search.value).split(/\s+/).filter(Boolean);
    const found = words.length ? rows.filter((r) => { const t = norm(spec.text(r, ctx)); return words.every((w) => t.includes(w)); }) : rows;
    const page = found.slice(0, shown);
    const states = await Promise.all(page.map((r) => stateOf(app, tab, r)));
    if (mine !== token) return;
    list.replaceChildren(...page.map((r, i) => {
      const [main, sub] = spec.line(r, ctx);
      return h("li", {},
        h("a", { href: `#${spec.href(r)}`, class: "bd-item", "data-id": String(r.id) },
          h("span", { class: "bd-item-text" }, h("span", { class: "bd-item-main" }, main), sub ? h("span", { class: "bd-item-sub" }, sub) : null),
          badge(app, states[i])));
    }));
    if (!found.length) list.append(h("li", { class: "bd-none" }, rows.length ? T.none : T.noneYet));
    moreButton.hidden = found.length <= shown;
  };
  let timer = 0;
  search.addEventListener("input", () => { clearTimeout(timer); shown = PAGE; timer = setTimeout(paint, 150); });
  moreButton.addEventListener("click", () => { shown += PAGE; paint(); });
  const tabs = h("nav", { class: "bd-tabs", role: "tablist" }, ...Object.entries(TABS).map(([name, t]) => h("a", {
    href: `#/basedata?tab=${name}`, role: "tab", class: name === tab ? "active" : "", "aria-selected": String(name === tab),
  }, t.label)));
  app.ui.header(T.title, { back: false });
  el.replaceChildren(
    h("div", { class: "bd-page" },
      tabs,
      h("div", { class: "bd-toolbar" }, search,
        spec.add ? h("a", { class: "bd-button bd-primary", href: `#${spec.add.href}` }, `＋ ${spec.add.label}`) : null),
      list, moreButton));
  await paint();
  catalogues.then(([tags, types]) => { el.dataset.catalogues = `${tags.length},${types.length}`; })
    .catch((error) => console.info(`catalogues: ${error.message}`));
  const refresh = async () => { rows.splice(0, rows.length, ...(await app.store.all(tab).catch(() => []))); paint(); };
  app.addEventListener("synced", refresh);
  app.addEventListener("outbox", refresh);
  return () => {
    app.removeEventListener("synced", refresh);
    app.removeEventListener("outbox", refresh);
    clearTimeout(timer);
  };
}

// ---- one household and its residents ------------------------------------------------------------
export async function residentsOf(app, hh) {
  const all = await app.store.all("residents").catch(() => []);
  return all.filter((r) => String(r.household_id) === String(hh.id)
    || (hh._client_key && r.household_client_key === hh._client_key));
}

function dl(app, pairs) {
  const { h } = app.ui;
  return h("dl", { class: "bd-facts" }, ...pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

const masked = (v) => typeof v === "string" && v.includes("*");

async function renderHousehold(el, params, app) {
  const { h } = app.ui;
  linkNewHouseholds(app);
  const hh = await getRecord(app, "households", params.id);
  if (!hh) { missing(app, el, T.household, T.notFound); return undefined; }
  const building = hh.building_id ? await getRecord(app, "buildings", hh.building_id) : null;
  const personal = app.me ? app.me.sees_personal_data !== false : true;
  const residents = personal ? await residentsOf(app, hh) : [];
  const kinds = await app.store.all("resident_tag_kinds").catch(() => []);
  const tagNames = Object.fromEntries(kinds.map((k) => [k.code, k.name]));
  const states = await Promise.all(residents.map((r) => stateOf(app, "residents", r)));
  const state = await stateOf(app, "households", hh);
  const point = Number.isFinite(hh.lon) ? `${hh.lon.toFixed(6)}, ${hh.lat.toFixed(6)}` : "—";
  const people = residents.map((r, i) => {
    const bits = [
      RELATION_WORDS[r.relation] || "",
      SEX[r.sex] || "",
      r.birth_date ? interpolate(T.born, { year: String(r.birth_date).slice(0, 4) }, true) : "",
    ].filter(Boolean).join(" · ");
    const tags = (r.tags || []).length ? h("span", { class: "bd-tags" }, ...(r.tags || []).map((t) => h("span", { class: "bd-tag" }, tagNames[t] || t))) : null;
    return h("li", {}, h("a", { href: `#/residents/${r.id}`, class: "bd-item", "data-id": String(r.id) },
      h("span", { class: "bd-item-text" },
        h("span", { class: "bd-item-main" }, r.name || "—", masked(r.name) ? h("span", { class: "bd-masked", title: T.masked }, " 🔒") : null),
        h("span", { class: "bd-item-sub" }, bits), tags),
      badge(app, states[i])));
  });
  app.ui.header(T.household, { back: true });
  el.replaceChildren(
    h("div", { class: "bd-page bd-household", "data-id": String(hh.id) },
      h("section", { class: "bd-card" },
        h("div", { class: "bd-card-head" }, h("h2", {}, hh.address || "—"), badge(app, state)),
        dl(app, [
          [T.building, building ? `${building.name || building.code}` : T.noBuilding],
          [T.position, point],
          [T.registered, hh.registered_on || ""],
        ]),
        h("div", { class: "bd-row" },
          h("a", { class: "bd-button bd-primary", href: `#/households/${hh.id}/edit` }, T.edit),
          isLocal(hh) ? null : h("a", { class: "bd-button", href: `#/visits/${hh.id}` }, T.visit))),
      h("section", { class: "bd-card" },
        h("div", { class: "bd-card-head" }, h("h2", {}, `${T.residents} (${residents.length})`),
          personal ? h("a", { class: "bd-button bd-primary", href: `#/residents/new?household=${encodeURIComponent(hh.id)}` }, `＋ ${T.addResident}`) : null),
        personal
          ? (people.length ? h("ul", { class: "bd-list" }, ...people) : app.ui.empty(T.noResidents))
          : app.ui.empty(T.noPersonal))));
  return undefined;
}

export const routes = [
  { path: "/basedata", title: T.title, render: renderLists },
  ...forms,
  ...places,
  { path: "/households/:id", title: T.household, render: renderHousehold },
];
