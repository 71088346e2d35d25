// A conflict: someone changed the record on the server after my edit was made. Mine and the
// server's side by side for every field I changed; keep mine, keep theirs, or choose per
// field. Choosing mine sends a new edit based on the server's version; until the worker
// chooses, both stay (mine in the outbox item, theirs in item.current).
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

const LABELS = {
  address: () => _("Address"), member_count: () => _("Members"), registered_on: () => _("Registered on"),
  name: () => _("Name"), phone: () => _("Phone"), id_number: () => _("ID number"), birth_date: () => _("Birth date"),
  sex: () => _("Sex"), relation: () => _("Relation"), registration: () => _("Registration"), origin: () => _("Origin"),
  floors: () => _("Floors"), use: () => _("Use"), built_year: () => _("Year built"), employees: () => _("Employees"),
  legal_person: () => _("Legal person"), contact_phone: () => _("Contact phone"), note: () => _("Note"),
  action: () => _("Action"), lon: () => _("Longitude"), lat: () => _("Latitude"), tags: () => _("Tags"),
};
const label = (key) => (LABELS[key] ? LABELS[key]() : key);
const text = (v) => (v === null || v === undefined || v === "" ? "–" : typeof v === "object" ? JSON.stringify(v) : String(v));

// The fields in question: {key, mine, theirs}; a ledger item compares indicator values.
export function fieldsOf(item) {
  const current = item.current || {};
  if (item.kind === "ledger.save") {
    const values = (item.data && item.data.values) || {};
    const items = current.items || [];
    return Object.entries(values).map(([code, mine]) => {
      const found = items.find((i) => i.indicator === code) || {};
      return { key: code, label: found.name || code, mine, theirs: found.value, version: found.version };
    });
  }
  return Object.entries(item.data || {}).map(([key, mine]) => ({ key, label: label(key), mine, theirs: current[key] }));
}

function dataFor(item, keys) {
  if (item.kind === "ledger.save") {
    const fields = fieldsOf(item).filter((f) => keys.has(f.key));
    return {
      ...item.data,
      values: Object.fromEntries(fields.map((f) => [f.key, f.mine])),
      versions: Object.fromEntries(fields.map((f) => [f.key, f.version])),
    };
  }
  return Object.fromEntries(Object.entries(item.data || {}).filter(([key]) => keys.has(key)));
}

export async function settleConflict(app, item, keys) {
  if (!keys.size) {
    await app.outbox.discard(item.client_key); // theirs: the server's record back in the store
    return null;
  }
  const data = dataFor(item, keys);
  const base = item.current || item.base;
  await app.outbox.resolve(item.client_key);
  if (base && item.set && item.target !== null) await app.store.put(item.set, { ...base });
  return app.outbox.enqueue({ kind: item.kind, target: item.target, base_version: item.current_version ?? (base && base.version) ?? null, data, base });
}

function render(el, params, app) {
  const { h } = app.ui;
  const t = app.t;
  const item = app.outbox.get(params.key);
  if (!item || item.state !== "conflict") {
    el.append(app.ui.empty(t("This conflict has been settled.")), h("a", { class: "button", href: "#/outbox" }, t("Back to the outbox")));
    return null;
  }
  const fields = fieldsOf(item);
  const chosen = new Map(fields.map((f) => [f.key, "mine"]));
  const rows = h("div", { class: "compare" });
  const same = (f) => text(f.mine) === text(f.theirs);
  const draw = () => {
    rows.replaceChildren(h("div", { class: "compare-head" }, h("span", {}, ""), h("span", {}, t("Mine")), h("span", {}, t("Server's"))),
      ...fields.map((f) => {
        const pick = (side) => h("button", {
          type: "button", class: `side ${side} ${chosen.get(f.key) === side ? "chosen" : ""}`,
          "aria-pressed": chosen.get(f.key) === side ? "true" : "false",
          dataset: { field: f.key, side },
          onclick: () => { chosen.set(f.key, side); draw(); },
        }, text(side === "mine" ? f.mine : f.theirs));
        return h("div", { class: `compare-row ${same(f) ? "same" : "differs"}`, dataset: { field: f.key } },
          h("span", { class: "field-name" }, f.label), pick("mine"), pick("theirs"));
      }));
  };
  const finish = async (keys) => {
    await settleConflict(app, item, keys);
    app.ui.toast(keys.size ? t("Your choice will be sent.") : t("The server's version is kept."));
    app.go("/outbox");
  };
  const current = item.current || {};
  el.append(...[
    h("p", { class: "notice warn" }, t("Someone changed this record on the server after your edit. Nothing is lost until you choose.")),
    h("p", { class: "muted" }, `${t("Made on the phone")} ${app.ui.when(item.client_time)}`,
      current.updated_at ? ` · ${t("Server's change")} ${app.ui.when(current.updated_at)}` : ""),
    fields.length > 1 ? h("p", { class: "muted" }, t("Tap a side to keep it for that field.")) : null,
    rows,
    h("div", { class: "buttons stack" },
      h("button", { type: "button", class: "button primary", "data-action": "mine", onclick: () => finish(new Set(fields.map((f) => f.key))) }, t("Keep mine")),
      h("button", { type: "button", class: "button", "data-action": "theirs", onclick: () => finish(new Set()) }, t("Keep the server's")),
      h("button", { type: "button", class: "button", "data-action": "fields", onclick: () => finish(new Set(fields.filter((f) => chosen.get(f.key) === "mine").map((f) => f.key))) }, t("Save my choice per field")))].filter(Boolean));
  draw();
  return null;
}

export const routes = [{ path: "/conflict/:key", title: _("Conflict"), render }];
