// The incident queue, live: an incident reported or moved on (the event stream, live.js) makes
// the page fetch itself again and swap in the table, so what a row shows and which rows the
// queue holds come from the same server code as on a reload (queue, filters, scope, page).
// Rows that came in since the page was opened are marked new; rows that changed light up.
import { esc } from "../gridline/api.js";
import { subscribe } from "../gridline/live.js";

const table = document.querySelector("table.queue");
const note = document.getElementById("queue-live");
const counter = document.getElementById("queue-new");
const rowIds = (root) => new Set([...root.querySelectorAll("tr[data-incident]")].map((tr) => tr.dataset.incident));
// The rows the person has seen: those on the page when it opened.
const seen = rowIds(table);
const fresh = new Set();
let timer = null;
let running = null;
let again = false;

function markNew(tr) {
  tr.classList.add("fresh");
  const cell = tr.querySelector("td");
  if (cell && !cell.querySelector(".new-badge")) {
    cell.insertAdjacentHTML("beforeend", ` <span class="badge new-badge">${esc(gettext("new"))}</span>`);
  }
}

async function refresh() {
  const response = await fetch(window.location.href, {
    credentials: "same-origin",
    headers: { Accept: "text/html" },
  });
  // A lapsed session or a server error: keep what is shown; the next event tries again.
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  const body = doc.querySelector("table.queue tbody");
  if (!body) throw new Error("no queue in the answer");
  const before = new Map([...table.querySelectorAll("tr[data-incident]")].map((tr) => [tr.dataset.incident, tr.innerHTML]));
  body.querySelectorAll("tr[data-incident]").forEach((tr) => {
    const id = tr.dataset.incident;
    if (!seen.has(id)) fresh.add(id);
    if (fresh.has(id)) markNew(tr);
    else if (before.has(id) && before.get(id) !== tr.innerHTML) tr.classList.add("changed");
  });
  table.tBodies[0].replaceWith(body);
  // The count under the table and the page links follow the new contents.
  for (const selector of ["nav.pages", "p.queue-count"]) {
    const now = document.querySelector(selector);
    const next = doc.querySelector(selector);
    if (now && next) now.replaceWith(next);
    else if (now) now.remove();
    else if (next) table.after(next);
  }
  const shown = [...fresh].filter((id) => body.querySelector(`tr[data-incident="${CSS.escape(id)}"]`)).length;
  counter.hidden = !shown;
  counter.textContent = interpolate(ngettext("%s new", "%s new", shown), [shown]);
  document.body.dataset.queueRefreshed = String(Number(document.body.dataset.queueRefreshed || 0) + 1);
}

// A burst of events (a whole dispatch) costs one fetch; an event during a fetch, one more.
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (running) { again = true; return; }
    running = refresh()
      .catch((err) => console.warn(`queue: ${err.message}`))
      .finally(() => {
        running = null;
        if (again) { again = false; schedule(); }
      });
  }, 400);
}

subscribe(schedule, ["incident.created", "incident.changed", "reset"]);

// Whether the page is live, from live.js's body[data-live].
const showLive = () => { note.dataset.live = document.body.dataset.live || "closed"; };
new MutationObserver(showLive).observe(document.body, { attributes: true, attributeFilter: ["data-live"] });
showLive();
