// What has not left the phone (and what recently did): each item, its state and the reason
// when refused; retry, edit (back to the item's own view) or discard with a confirmation.
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

export const KIND_NAMES = {
  "incident.report": () => _("Incident report"),
  "incident.step": () => _("Incident step"),
  "task.complete": () => _("Task done"),
  "visit.record": () => _("Household visit"),
  "household.create": () => _("New household"),
  "household.update": () => _("Household edit"),
  "resident.create": () => _("New resident"),
  "resident.update": () => _("Resident edit"),
  "building.update": () => _("Building edit"),
  "unit.create": () => _("New unit"),
  "unit.update": () => _("Unit edit"),
  "ledger.save": () => _("Ledger values"),
  "patrol.save": () => _("Patrol"),
  "notification.read": () => _("Notices read"),
};
export const kindName = (kind) => (KIND_NAMES[kind] ? KIND_NAMES[kind]() : kind);

// Where an item is edited: the view it came from, told which item (?outbox=<client_key>).
export function editPath(item) {
  const q = `outbox=${encodeURIComponent(item.client_key)}`;
  const id = item.target;
  switch (item.kind) {
    case "incident.report": return `/report?${q}`;
    case "incident.step": return `/incidents/${id}?${q}`;
    case "task.complete": return `/tasks/${id}?${q}`;
    case "visit.record": return `/visits/${item.data.household_id}?${q}`;
    case "household.create": return `/households/new?${q}`;
    case "resident.create": return `/residents/new?household=${item.data.household_id || ""}&${q}`;
    case "unit.create": return `/units/new?${q}`;
    case "ledger.save": return `/ledger?${q}`;
    case "patrol.save": return `/patrol?${q}`;
    default: {
      const set = item.set || "";
      return id !== null && id !== undefined ? `/${set}/${id}?${q}` : "/outbox";
    }
  }
}

function summaryOf(item) {
  const d = item.data || {};
  return d.address || d.name || d.description || d.note || d.title || (item.target ? `#${item.target}` : "");
}

function render(el, params, app) {
  const { h } = app.ui;
  const t = app.t;
  const box = h("div", {});
  const show = () => {
    const items = [...app.outbox.items()].reverse();
    const waiting = items.filter((i) => i.state !== "sent");
    const sent = items.filter((i) => i.state === "sent").slice(0, 30);
    const row = (item) => {
      const buttons = [];
      if (item.state === "conflict") buttons.push(h("a", { class: "button primary", href: `#/conflict/${item.client_key}` }, t("Compare and choose")));
      if (item.state === "refused") buttons.push(h("button", { type: "button", class: "button", onclick: async () => { await app.outbox.retry(item.client_key); } }, t("Send again")));
      if (item.state === "refused" || item.state === "saved") buttons.push(h("a", { class: "button", href: `#${editPath(item)}` }, t("Edit")));
      if (item.state !== "sent" && item.state !== "sending") {
        buttons.push(h("button", { type: "button", class: "button danger", onclick: async () => {
          const yes = await app.ui.confirm(t("Discard this item? What it holds is lost from the phone."), { ok: t("Discard"), danger: true });
          if (yes) await app.outbox.discard(item.client_key);
        } }, t("Discard")));
      }
      const photos = (item.photos || []).length || item.photo_count || 0;
      return h("article", { class: `item state-${item.state}`, dataset: { key: item.client_key, kind: item.kind } },
        h("div", { class: "item-head" }, h("strong", {}, kindName(item.kind)), app.ui.stateBadge(item.state)),
        h("p", { class: "item-what" }, summaryOf(item)),
        h("p", { class: "muted" }, `${t("Made on the phone")} ${app.ui.when(item.client_time)}`, photos ? ` · ${photos} ${t("photos")}` : "",
          item.sent_at ? ` · ${t("sent")} ${app.ui.when(item.sent_at)}` : ""),
        item.error && item.state !== "sent" ? h("p", { class: "reason", role: "note" }, item.error) : null,
        buttons.length ? h("div", { class: "buttons" }, buttons) : null);
    };
    // replaceChildren() would write a null as the text "null".
    box.replaceChildren(...[
      h("h2", {}, `${t("Waiting")} (${waiting.length})`),
      waiting.length ? h("div", { class: "items" }, waiting.map(row)) : app.ui.empty(t("Everything has been sent.")),
      sent.length ? h("h2", {}, t("Sent recently")) : null,
      sent.length ? h("div", { class: "items" }, sent.map(row)) : null].filter(Boolean));
  };
  const send = h("button", { type: "button", class: "button primary wide", onclick: () => app.sync.now() }, t("Send now"));
  const offline = h("p", { class: "notice warn", role: "status" }, t("No signal: items are sent by themselves when there is a connection."));
  const showLine = () => {
    const online = navigator.onLine !== false;
    send.disabled = !online;
    offline.hidden = online;
  };
  el.append(offline, send, box);
  showLine();
  show();
  ["online", "offline"].forEach((name) => app.addEventListener(name, showLine));
  const events = ["outbox", "synced"];
  events.forEach((name) => app.addEventListener(name, show));
  return () => {
    events.forEach((name) => app.removeEventListener(name, show));
    ["online", "offline"].forEach((name) => app.removeEventListener(name, showLine));
  };
}

export const routes = [{ path: "/outbox", title: _("Not sent yet"), render }];
