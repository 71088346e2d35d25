// The needs board (需求清单): the filter checkboxes send their form when ticked (the selects do
// it through gridline/forms.js), and the board follows the live events: a need raised or moved
// on (need.created / need.changed) makes the page fetch itself again and swap in the columns,
// the counts and the figures, so what a card shows comes from the same server code as a reload
// (filters, scope, order). Cards that changed light up.
import { subscribe } from "../gridline/live.js";

const form = document.getElementById("board-filters");
form.querySelectorAll("input[data-autosubmit-check]").forEach((box) => {
  box.addEventListener("change", () => form.submit());
});

// On a phone the filters fold away unless some are set: the cards come first.
const filterBox = document.getElementById("filter-box");
if (window.matchMedia("(max-width: 900px)").matches && !("filtered" in filterBox.dataset)) {
  filterBox.open = false;
}

const note = document.getElementById("board-live");
const PARTS = ["#board", ".nb-figures", ".nb-jump"];
let timer = null;
let running = null;
let again = false;

const cardsOf = (root) => new Map(
  [...root.querySelectorAll("li[data-need]")].map((li) => [li.dataset.need, `${li.closest("section").dataset.status}:${li.dataset.version}`]),
);

async function refresh() {
  const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
  // A lapsed session or a server error: keep what is shown; the next event tries again.
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  if (!doc.querySelector("#board")) throw new Error("no board in the answer");
  const before = cardsOf(document.getElementById("board"));
  for (const selector of PARTS) {
    const next = doc.querySelector(selector);
    const now = document.querySelector(selector);
    if (next && now) now.replaceWith(next);
  }
  document.querySelectorAll("#board li[data-need]").forEach((li) => {
    const key = `${li.closest("section").dataset.status}:${li.dataset.version}`;
    if (before.get(li.dataset.need) !== key) li.classList.add("is-changed");
  });
  document.body.dataset.boardRefreshed = String(Number(document.body.dataset.boardRefreshed || 0) + 1);
}

// A burst of events (a whole dispatch) costs one fetch; an event during a fetch, one more.
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (running) {
      again = true;
      return;
    }
    running = refresh()
      .catch((err) => console.warn(`board: ${err.message}`))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          schedule();
        }
      });
  }, 400);
}

subscribe(schedule, ["need.created", "need.changed", "reset"]);

const showLive = () => { note.dataset.live = document.body.dataset.live || "closed"; };
new MutationObserver(showLive).observe(document.body, { attributes: true, attributeFilter: ["data-live"] });
showLive();
document.querySelector(".nb-page").dataset.ready = "1";
