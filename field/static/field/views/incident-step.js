// The form of one step on an incident (the actions the sync said this worker may take now):
// a note, the fields the step needs, photos (feedback: the "after" picture) → one outbox item
// `incident.step` carrying the version the worker saw, so a step on a changed incident comes
// back as a conflict instead of overwriting what happened meanwhile.
import { toastSaved } from "./saved.js";
import { photoPicker } from "../photos.js";

export const ACTIONS = {
  register: gettext("Register"),
  dismiss: gettext("Dismiss"),
  dispatch: gettext("Dispatch"),
  escalate: gettext("Escalate"),
  whistle: gettext("Whistle to a department"),
  acknowledge: gettext("Acknowledge"),
  feed_back: gettext("Feed back"),
  verify: gettext("Verify"),
  rework: gettext("Send for rework"),
  send_back: gettext("Send back"),
  transfer: gettext("Transfer"),
  close: gettext("Close the case"),
  assess: gettext("Assess"),
  merge: gettext("Merge into another"),
};

// Steps whose reason the server requires (transitions.RULES needs_reason).
const NEEDS_REASON = new Set(["dismiss", "rework", "send_back", "transfer"]);
const NEEDS_DEPARTMENT = new Set(["dispatch", "transfer", "whistle"]);
// Steps where a photo is the evidence a handler expects.
const TAKES_PHOTOS = new Set(["feed_back", "verify", "acknowledge", "close", "register", "escalate"]);

const T = {
  note: gettext("Note"),
  reason: gettext("Reason (required)"),
  department: gettext("Department"),
  whistleClass: gettext("Whistle class"),
  score: gettext("rating (1-5)"),
  target: gettext("Merge into incident"),
  photos: gettext("Photos"),
  send: gettext("Save and send"),
  cancel: gettext("Cancel"),
  needReason: gettext("Give the reason."),
  needDepartment: gettext("Choose the department."),
  needWhistle: gettext("Choose the whistle class."),
  needTarget: gettext("Choose the incident to merge into."),
  needScore: gettext("Give a rating from 1 to 5."),
  offlineList: gettext("The list comes with a signal; type the code meanwhile."),
};

// Departments and whistle classes are not in the working set (few workers ever dispatch):
// read online once and kept on the phone for the next time without a signal.
async function choices(app, set, url) {
  if (app.api && navigator.onLine) {
    const { ok, body } = await app.api(url);
    const rows = ok ? (Array.isArray(body) ? body : body.results || []) : [];
    if (rows.length) {
      await Promise.all(rows.map((r) => app.store.put(set, { ...r, id: r.code })));
      return rows;
    }
  }
  return app.store.all(set);
}

function selectOrCode(app, id, set, url) {
  const { h } = app.ui;
  const select = h("select", { id }, h("option", { value: "" }, "—"));
  const box = h("div", { class: "work-select" }, select);
  choices(app, set, url).then((rows) => {
    if (!rows.length) {
      const input = h("input", { id, type: "text", maxlength: "40", placeholder: T.offlineList });
      box.replaceChildren(input);
      return;
    }
    select.append(...rows.map((r) => h("option", { value: r.code }, r.name || r.code)));
  });
  return { el: box, value: () => (box.querySelector("select, input").value || "").trim() };
}

/** The form of `action` on `incident`; `done()` is called after the item is queued. */
export function stepForm(app, incident, action, { others = [], done, cancel }) {
  const { h } = app.ui;
  const parts = [h("h3", {}, ACTIONS[action] || action)];
  const noteId = `work-step-note-${action}`;
  const note = h("textarea", { id: noteId, rows: "3", maxlength: "2000" });
  parts.push(h("label", { class: "work-field", for: noteId }, NEEDS_REASON.has(action) ? T.reason : T.note), note);

  let department = null;
  if (NEEDS_DEPARTMENT.has(action)) {
    department = selectOrCode(app, "work-step-department", "departments", "/api/departments/");
    parts.push(h("label", { class: "work-field", for: "work-step-department" }, T.department), department.el);
  }
  let whistle = null;
  if (action === "whistle") {
    whistle = selectOrCode(app, "work-step-whistle", "whistle_classes", "/api/whistle-classes/");
    parts.push(h("label", { class: "work-field", for: "work-step-whistle" }, T.whistleClass), whistle.el);
  }
  let score = null;
  if (action === "assess") {
    score = h("select", { id: "work-step-score" }, ...[5, 4, 3, 2, 1].map((n) => h("option", { value: String(n) }, "★".repeat(n))));
    parts.push(h("label", { class: "work-field", for: "work-step-score" }, T.score), score);
  }
  let target = null;
  if (action === "merge") {
    target = h(
      "select",
      { id: "work-step-target" },
      h("option", { value: "" }, "—"),
      ...others.map((i) => h("option", { value: String(i.id) }, `${i.code || i.id} ${i.category_name || ""} ${i.description || ""}`.slice(0, 60))),
    );
    parts.push(h("label", { class: "work-field", for: "work-step-target" }, T.target), target);
  }
  let photos = null;
  if (TAKES_PHOTOS.has(action)) {
    photos = photoPicker();
    parts.push(h("div", { class: "work-field" }, h("span", { class: "work-label" }, T.photos), photos.el));
  }
  const problems = h("div", { class: "work-problems", role: "alert" });
  const send = h("button", { type: "submit", class: "work-button is-primary" }, T.send);
  const back = h("button", { type: "button", class: "work-button" }, T.cancel);
  back.addEventListener("click", cancel);
  const form = h("form", { class: "work-form work-step", novalidate: true, "data-action": action }, ...parts, problems, h("div", { class: "work-actions" }, send, back));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = { action, note: note.value.trim() };
    const missing = [];
    if (NEEDS_REASON.has(action) && !data.note) missing.push(T.needReason);
    if (department) {
      data.department = department.value();
      if (!data.department) missing.push(T.needDepartment);
    }
    if (whistle) {
      data.whistle_class = whistle.value();
      if (!data.whistle_class) missing.push(T.needWhistle);
    }
    if (score) {
      data.score = Number(score.value);
      if (!(data.score >= 1 && data.score <= 5)) missing.push(T.needScore);
    }
    if (target) {
      data.target = Number(target.value);
      if (!data.target) missing.push(T.needTarget);
    }
    problems.replaceChildren(...missing.map((text) => h("p", {}, text)));
    if (missing.length) return;
    send.disabled = true;
    try {
      await app.outbox.enqueue({
        kind: "incident.step",
        target: incident.id,
        base_version: String(incident.version),
        data,
        photos: photos ? photos.photos() : [],
      });
    } catch (error) {
      send.disabled = false;
      problems.replaceChildren(h("p", {}, error.message || String(error)));
      return;
    }
    toastSaved(app);
    done();
  });
  return form;
}
