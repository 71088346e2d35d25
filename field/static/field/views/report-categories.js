// The category picker of the report form: type part of the Chinese name (or of the parent's
// name, or the code) and the list narrows; no pinyin, a substring is what works on every
// phone keyboard. The worker's recent categories come first: most reports in one grid are of
// a handful of kinds. Recents are kept in the phone's store (set "prefs"), so a device wipe
// clears them with the rest.
const T = {
  search: gettext("Search a category: name or code"),
  recent: gettext("Recent"),
  all: gettext("All categories"),
  none: gettext("No category matches."),
  change: gettext("Choose another"),
  noCategories: gettext("No categories on the phone yet: sync once with a signal."),
};

const PREFS = "prefs";
const KEY = "recent_categories";
const RECENT = 6;
const SHOWN = 40;

export function categoryPicker(app, onChoose) {
  const { h } = app.ui;
  const search = h("input", {
    type: "search",
    class: "work-search",
    placeholder: T.search,
    "aria-label": T.search,
    autocomplete: "off",
  });
  const list = h("div", { class: "work-choices", role: "listbox", "aria-label": T.all });
  const chosenBox = h("div", { class: "work-chosen", hidden: true });
  const el = h("div", { class: "work-category" }, chosenBox, search, list);
  let categories = [];
  let byCode = new Map();
  let recent = [];
  const recentCodes = () => recent;

  const label = (c) => {
    const parent = c.parent && byCode.get(c.parent);
    return parent ? `${parent.name} › ${c.name}` : c.name;
  };

  const choose = (c) => {
    chosenBox.hidden = false;
    search.hidden = true;
    list.hidden = true;
    const again = h("button", { type: "button", class: "work-link" }, T.change);
    again.addEventListener("click", () => {
      chosenBox.hidden = true;
      search.hidden = false;
      list.hidden = false;
      onChoose(null);
      search.focus();
    });
    chosenBox.replaceChildren(
      h("span", { class: "work-chosen-name" }, label(c)),
      h("span", { class: "work-code" }, c.code),
      again,
    );
    onChoose(c.code);
  };

  const option = (c) => {
    const b = h(
      "button",
      { type: "button", class: "work-choice", role: "option", "data-code": c.code },
      h("span", {}, label(c)),
      h("span", { class: "work-code" }, c.code),
    );
    b.addEventListener("click", () => choose(c));
    return b;
  };

  const draw = () => {
    const needle = search.value.trim().toLowerCase();
    if (!categories.length) {
      list.replaceChildren(h("p", { class: "work-hint" }, T.noCategories));
      return;
    }
    if (!needle) {
      const first = recentCodes()
        .map((code) => byCode.get(code))
        .filter(Boolean);
      const rest = categories.filter((c) => !first.includes(c));
      list.replaceChildren(
        ...(first.length ? [h("h4", {}, T.recent), ...first.map(option), h("h4", {}, T.all)] : []),
        ...rest.slice(0, SHOWN).map(option),
      );
      return;
    }
    const found = categories.filter(
      (c) =>
        c.name.toLowerCase().includes(needle) ||
        c.code.toLowerCase().includes(needle) ||
        label(c).toLowerCase().includes(needle),
    );
    // Recent ones first among the matches too.
    const rank = (c) => {
      const i = recentCodes().indexOf(c.code);
      return i === -1 ? RECENT : i;
    };
    found.sort((a, b) => rank(a) - rank(b));
    list.replaceChildren(
      ...(found.length ? found.slice(0, SHOWN).map(option) : [h("p", { class: "work-hint" }, T.none)]),
    );
  };

  search.addEventListener("input", draw);
  Promise.all([app.store.all("categories"), app.store.get(PREFS, KEY)]).then(([all, prefs]) => {
    recent = (prefs && Array.isArray(prefs.codes) && prefs.codes) || [];
    byCode = new Map(all.map((c) => [c.code, c]));
    const parents = new Set(all.map((c) => c.parent).filter(Boolean));
    // A report names a leaf: a parent ("市容环境") is a heading, not a kind of case.
    categories = all
      .filter((c) => !parents.has(c.code))
      .sort((a, b) => a.code.localeCompare(b.code));
    draw();
  });

  return {
    el,
    remember(code) {
      recent = [code, ...recent.filter((c) => c !== code)].slice(0, RECENT);
      return app.store.put(PREFS, { id: KEY, codes: recent });
    },
  };
}
