// 边界变更: the boundary change sets touching my grid, read-only on the phone; the editor is a
// page of the main site (a map editor needs a bigger screen and a signal), linked from here.
import { timeText } from "../measure.js";

const T = {
  title: gettext("Boundary changes"),
  none: gettext("No boundary change touches your grid."),
  hint: gettext("Proposed and applied changes of your grid's boundary. The editor opens on the main site and needs a signal."),
  open: gettext("Open in the editor"),
  updated: gettext("updated %(time)s"),
};

function render(el, params, app) {
  const { h } = app.ui;
  const body = h("div", { class: "work-page" }, h("p", { class: "work-hint" }, T.hint));
  el.replaceChildren(body);
  app.store.all("changesets").then((sets) => {
    sets.sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
    if (!sets.length) {
      body.append(app.ui.empty(T.none));
      return;
    }
    body.append(
      h(
        "div",
        { class: "work-list" },
        ...sets.map((s) =>
          h(
            "div",
            { class: "work-row" },
            h(
              "span",
              { class: "work-row-main" },
              h("strong", {}, s.title || `#${s.id}`),
              h("span", { class: "work-meta" }, [s.status_name || s.status, interpolate(T.updated, { time: timeText(s.updated_at) }, true)].join(" · ")),
            ),
            s.url ? h("a", { class: "work-button is-small", href: s.url, target: "_blank", rel: "noopener" }, T.open) : null,
          ),
        ),
      ),
    );
  });
}

export const routes = [{ path: "/changes", title: T.title, render }];
