// 通知: my latest notifications (the sync keeps the 50 newest); opening one queues
// `notification.read`, whose local effect (outbox.js) marks it read on the phone at once, so
// the unread count is right offline.
import { timeText } from "../measure.js";

const T = {
  title: gettext("Notices"),
  none: gettext("No notices."),
  unread: gettext("%(n)s unread"),
  allRead: gettext("Mark all as read"),
  open: gettext("Open"),
};

// A notice's link is a page of the main site; the phone app has its own for incidents,
// tasks and needs (#20), so those open here (and work offline).
function localPath(url) {
  const match = /\/(incidents|tasks|needs)\/(\d+)\/?/.exec(url || "");
  return match ? `/${match[1]}/${match[2]}` : null;
}

async function markRead(app, notices) {
  const unread = notices.filter((n) => !n.read);
  if (!unread.length) return;
  await app.outbox.enqueue({
    kind: "notification.read",
    target: null,
    base_version: null,
    data: { ids: unread.map((n) => n.id) },
    photos: [],
  });
}

function render(el, params, app) {
  const { h } = app.ui;
  const body = h("div", { class: "work-page" });
  el.replaceChildren(body);
  const draw = async () => {
    const notices = (await app.store.all("notifications")).sort((a, b) =>
      String(b.created_at).localeCompare(String(a.created_at)),
    );
    if (!notices.length) {
      body.replaceChildren(app.ui.empty(T.none));
      return;
    }
    const unread = notices.filter((n) => !n.read).length;
    const all = h("button", { type: "button", class: "work-button", disabled: !unread }, T.allRead);
    all.addEventListener("click", async () => {
      await markRead(app, notices);
      draw();
    });
    const rows = notices.map((n) => {
      const row = h(
        "button",
        { type: "button", class: `work-row work-notice${n.read ? "" : " is-unread"}` },
        h(
          "span",
          { class: "work-row-main" },
          h("strong", {}, n.title || n.text || ""),
          n.title && n.text ? h("span", { class: "work-row-text" }, n.text) : null,
          h("span", { class: "work-meta" }, timeText(n.created_at)),
        ),
        n.read ? null : h("span", { class: "work-dot", "aria-hidden": "true" }),
      );
      row.addEventListener("click", async () => {
        await markRead(app, [n]);
        const path = localPath(n.url);
        if (path) app.go(path);
        else if (n.url) window.open(n.url, "_blank", "noopener");
        else draw();
      });
      return row;
    });
    body.replaceChildren(
      h("div", { class: "work-toolbar" }, h("span", { class: "work-meta" }, interpolate(T.unread, { n: unread }, true)), all),
      h("div", { class: "work-list" }, ...rows),
    );
  };
  draw();
}

export const routes = [{ path: "/notices", title: T.title, render }];
