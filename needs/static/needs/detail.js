// One need: each step the page offers (accept, merge into a duplicate, decline, dispatch to a
// candidate, withdraw, record a report, confirm) is a POST to the needs API with the version the
// page was drawn at. Done: the page reloads to show the new state. Someone else moved the need
// first (409 stale_version): the page says so and reloads the current state, whose buttons may
// differ.
import { call, errorMessages as messages } from "../gridline/api.js";
import { flash, keepFlash, showKeptFlash } from "../gridline/flash.js";

const config = JSON.parse(document.getElementById("need-config").textContent);
const T = {
  stale: gettext("Someone else changed this need first; here is its current state. Please check and decide again."),
  failed: gettext("The request failed"),
  accept: gettext("Accepted: the need waits for dispatch."),
  merge: gettext("Merged."),
  decline: config.raiser_told ? gettext("Declined; the raiser is told.") : gettext("Declined."),
  dispatch: gettext("Dispatched; the provider has been told."),
  withdraw: gettext("Dispatch withdrawn."),
  report: gettext("Service report recorded."),
  confirm: gettext("Completion confirmed."),
  mergeAsk: gettext("Merge this need into the one chosen? It is closed as merged; its photos and contact are kept."),
};
const box = document.getElementById("flash");
showKeptFlash(box);

// Where each step goes and what it sends besides the version.
const need = config.urls.need;
const dispatch = config.dispatch ? `${config.urls.dispatches}${config.dispatch.id}/` : null;
const STEPS = {
  accept: () => [`${need}accept/`, { version: config.version }],
  merge: (el) => [`${need}merge/`, { version: config.version, into: Number(el.dataset.into) }],
  decline: (el, form) => [`${need}decline/`, { version: config.version, reason: form.reason.value.trim() }],
  dispatch: (el) => [`${need}dispatch/`, {
    version: config.version,
    provider: Number(el.dataset.provider),
    offer: el.dataset.offer ? Number(el.dataset.offer) : null,
  }],
  withdraw: (el, form) => [`${dispatch}withdraw/`, { version: config.dispatch.version, reason: form.reason.value.trim() }],
  report: (el, form) => [`${dispatch}report/`, { version: config.dispatch.version, report: form.report.value.trim(), hours: form.hours.value }],
  confirm: (el, form) => [`${need}confirm/`, {
    version: config.version,
    satisfaction: Number(form.satisfaction.value),
    feedback: form.feedback.value.trim(),
  }],
};

async function take(step, el, form = null) {
  const [url, data] = STEPS[step](el, form);
  const buttons = document.querySelectorAll("#steps button, #candidates button");
  buttons.forEach((b) => { b.disabled = true; });
  const { ok, status, body } = await call(url, { method: "POST", data });
  if (ok) {
    keepFlash(T[step], "ok");
    window.location.reload();
    return;
  }
  if (status === 409 && body && body.errors && body.errors[0].code === "stale_version") {
    // Show why, then the current state: the steps offered may have changed.
    keepFlash([T.stale, ...messages(body, T.failed)], "error");
    window.location.reload();
    return;
  }
  buttons.forEach((b) => { b.disabled = false; });
  flash(box, messages(body, `${T.failed} (HTTP ${status})`));
  box.scrollIntoView({ block: "nearest" });
}

document.querySelectorAll("button[data-step]").forEach((button) => {
  button.addEventListener("click", () => {
    if (button.dataset.step === "merge" && !window.confirm(T.mergeAsk)) return;
    take(button.dataset.step, button);
  });
});
document.querySelectorAll("form[data-step]").forEach((form) => {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    take(form.dataset.step, form, form);
  });
});

document.querySelector(".nd-page").dataset.ready = "1";
