// Home, "my grid today": what is due, what waits for me, what has not left the phone, and
// when the phone last spoke to the server.
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

const today = () => new Date().toLocaleDateString("sv-SE", { timeZone: document.documentElement.dataset.timeZone || undefined });

export async function summary(app) {
  const [tasks, incidents, ledger, needs] = await Promise.all([app.store.all("tasks"), app.store.all("incidents"), app.store.all("ledger"), app.store.all("needs")]);
  const now = today();
  const open = tasks.filter((task) => !task.done_at);
  const due = open.filter((task) => task.due_on && task.due_on <= now);
  const visits = open.flatMap((task) => (task.targets || []).filter((target) => target.household_id && !target.visit_id));
  const waiting = incidents.filter((i) => i.mine);
  const overdue = waiting.filter((i) => i.step_overdue);
  const sheet = ledger[0] || null;
  const items = (sheet && sheet.items) || [];
  const empty = items.filter((item) => item.value === null || item.value === undefined || item.value === "").length;
  const unsent = app.outbox.items({ states: ["saved", "sending"] }).length;
  const trouble = app.outbox.items({ states: ["conflict", "refused"] }).length;
  const needsOpen = needs.filter((n) => !["done", "declined", "merged"].includes(n.status));
  const toConfirm = needs.filter((n) => n.status === "reported" && !n._state);
  return { open, due, visits, waiting, overdue, sheet, empty, filled: items.length - empty, unsent, trouble, needsOpen, toConfirm };
}

function render(el, params, app) {
  const { h } = app.ui;
  const t = app.t;
  const grid = app.me && app.me.grid;
  const status = h("div", { class: "status-line", "data-testid": "sync-status" });
  const cards = h("div", { class: "cards" });
  const syncButton = h("button", { type: "button", class: "button", onclick: () => run() }, t("Sync now"));

  const showStatus = () => {
    const online = navigator.onLine !== false;
    status.replaceChildren(
      h("span", { class: `dot ${online ? "on" : "off"}`, "data-online": online ? "1" : "0" }, online ? t("Online") : t("Offline")),
      h("span", {}, app.syncing ? t("Syncing…") : `${t("Last sync")}: ${app.lastSync ? app.ui.when(app.lastSync) : t("never")}`),
    );
    syncButton.disabled = !online || app.syncing;
  };
  const card = (path, figure, label, note, tone = "") => h("a", { class: `card ${tone}`, href: `#${path}` },
    h("strong", { class: "figure" }, String(figure)), h("span", { class: "label" }, label), note ? h("span", { class: "note" }, note) : null);
  const showCards = async () => {
    const s = await summary(app);
    const fill = (text, values) => interpolate(text, values, true);
    const ledgerNote = s.sheet ? fill(t("%(done)s of %(all)s filled"), { done: s.filled, all: s.filled + s.empty }) : t("no sheet this month");
    cards.replaceChildren(
      card("/tasks", s.due.length, t("Tasks due"), fill(t("%(n)s open"), { n: s.open.length }), s.due.length ? "due" : ""),
      card("/incidents", s.waiting.length, t("Incidents waiting for me"), s.overdue.length ? fill(t("%(n)s overdue"), { n: s.overdue.length }) : "", s.overdue.length ? "alarm" : ""),
      card("/visits", s.visits.length, t("Visits due"), ""),
      card("/needs", s.toConfirm.length, t("Needs to confirm"), fill(t("%(n)s open"), { n: s.needsOpen.length }), s.toConfirm.length ? "due" : ""),
      card("/ledger", s.empty, t("Ledger cells to fill this month"), ledgerNote, s.empty ? "due" : ""),
      card("/outbox", s.unsent + s.trouble, t("Not sent yet"), s.trouble ? fill(t("%(n)s need a look"), { n: s.trouble }) : "", s.trouble ? "alarm" : s.unsent ? "due" : ""),
    );
  };
  const run = async () => {
    showStatus();
    const r = await app.sync.now();
    if (r && !r.ok && r.status === 0) app.ui.toast(t("No connection to the server."), { kind: "error" });
    showStatus();
  };

  el.append(
    h("section", { class: "hello" },
      h("h2", {}, grid ? `${grid.name}` : t("My grid")),
      grid ? h("p", { class: "muted" }, [grid.street, grid.community].filter(Boolean).join(" · ")) : null,
      h("div", { class: "sync-row" }, status, syncButton)),
    cards,
    h("nav", { class: "quick" },
      h("a", { class: "button primary", href: "#/report" }, t("Report an incident")),
      h("a", { class: "button", href: "#/needs/new" }, t("Register a need")),
      h("a", { class: "button", href: "#/patrol" }, t("Patrol")),
      h("a", { class: "button", href: "#/basedata" }, t("Households and buildings"))));
  showStatus();
  showCards();
  const onChange = () => { showStatus(); showCards(); };
  const events = ["synced", "syncing", "outbox", "online", "offline"];
  events.forEach((name) => app.addEventListener(name, onChange));
  return () => events.forEach((name) => app.removeEventListener(name, onChange));
}

export const routes = [{ path: "/home", title: _("My grid today"), render }];
