// More: the rest of the day's tools, this phone's name and storage, and logging out (with a
// warning when items have not been sent: logging out clears the phone).
const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);

async function storageText(app) {
  if (!navigator.storage || !navigator.storage.estimate) return "";
  const { usage } = await navigator.storage.estimate();
  const mb = (usage || 0) / 1048576;
  return `${app.t("Used on the phone")}: ${mb.toFixed(1)} MB${app.persisted ? ` · ${app.t("kept by the browser")}` : ""}`;
}

function render(el, params, app) {
  const { h } = app.ui;
  const t = app.t;
  const link = (path, title, note = "") => h("li", {}, h("a", { class: "row-link", href: `#${path}` }, h("span", {}, title), note ? h("span", { class: "note" }, note) : null));
  const storage = h("p", { class: "muted" });
  const deviceLine = h("p", { class: "muted" });
  el.append(
    h("ul", { class: "links" },
      link("/notices", t("Notices"), ""),
      link("/changes", t("Boundary change sets")),
      link("/patrol", t("Patrol")),
      link("/incidents", t("Incidents")),
      link("/needs", t("Needs")),
      link("/visits", t("Household visits")),
      link("/basedata", t("Households, people, buildings, units")),
      link("/ledger", t("Ledger this month")),
      link("/outbox", t("Not sent yet"))),
    h("section", { class: "about" },
      h("h2", {}, t("This phone")),
      deviceLine, storage,
      h("button", { type: "button", class: "button danger wide", "data-action": "logout", onclick: async () => {
        const waiting = app.outbox.items({ states: ["saved", "sending", "conflict", "refused"] }).length;
        const question = waiting
          ? interpolate(t("%(n)s items have not been sent and will be lost. Log out and clear the phone anyway?"), { n: waiting }, true)
          : t("Log out? The grid's data is cleared from this phone.");
        if (await app.ui.confirm(question, { ok: t("Log out"), danger: true })) await app.logout();
      } }, t("Log out"))));
  (async () => {
    const device = await app.store.meta("device");
    const me = app.me || {};
    deviceLine.textContent = `${me.name || me.username || ""} · ${t("Phone")}: ${(device && device.name) || "–"}`;
    storage.textContent = await storageText(app);
    const notices = await app.store.all("notifications");
    const count = notices.filter((n) => !n.read).length;
    if (count) el.querySelector('a[href="#/notices"]').append(h("span", { class: "count" }, String(count)));
  })();
  return null;
}

export const routes = [{ path: "/more", title: _("More"), render }];
