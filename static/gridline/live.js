// Live events (issue #16): one EventSource per page on /events/ (Server-Sent Events), handed to
// every subscriber and also dispatched as a "gridline:live" window event.
//
//   subscribe() comes from ../gridline/live.js (a relative import in our modules):
//   const stop = subscribe((data) => { ... }, ["incident.created"]);  // kinds: null = all
//
// data = {id, kind, at, layers, object}; kind "reset" means the server no longer holds what this
// page missed: reload figures. The browser reconnects by itself after a dropped stream and sends
// the id of the last event it had (Last-Event-ID), so the server catches it up; a stream the
// browser gave up on (an error answer, e.g. after the session ended) is reopened here after a
// growing pause, with ?last=<id>. document.body.dataset.live is "open" or "closed".

export const KINDS = [
  "incident.created",
  "incident.changed",
  "sensor.status",
  "alert.opened",
  "alert.closed",
  "need.created",
  "need.changed",
  "reset",
];

const URL_DEFAULT = "/events/";
const subscribers = new Set();
let source = null;
let lastId = "";
let pause = 2000;
let timer = null;

function state(value) {
  if (document.body) document.body.dataset.live = value;
}

function deliver(message) {
  let data;
  try {
    data = JSON.parse(message.data);
  } catch (err) {
    console.warn(`live: unreadable event ${message.lastEventId}: ${err.message}`);
    return;
  }
  if (message.lastEventId) lastId = message.lastEventId;
  window.gridlineLive.received += 1;
  window.gridlineLive.last = data;
  for (const { handler, kinds } of subscribers) {
    if (kinds && !kinds.includes(data.kind)) continue;
    try {
      handler(data);
    } catch (err) {
      // One subscriber's bug must not keep the event from the others.
      console.error(err);
    }
  }
  window.dispatchEvent(new CustomEvent("gridline:live", { detail: data }));
}

function open() {
  if (source || !subscribers.size) return;
  const base = (document.body && document.body.dataset.liveUrl) || URL_DEFAULT;
  const url = lastId ? `${base}?last=${encodeURIComponent(lastId)}` : base;
  source = new EventSource(url, { withCredentials: true });
  source.onopen = () => {
    pause = 2000;
    state("open");
  };
  source.onerror = () => {
    if (!source) return;
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (an error status): reopen ourselves, waiting longer each time.
      source = null;
      state("closed");
      clearTimeout(timer);
      timer = setTimeout(open, pause);
      pause = Math.min(pause * 2, 60000);
    } else {
      state("closed"); // the browser reconnects by itself
    }
  };
  for (const kind of KINDS) source.addEventListener(kind, deliver);
  // The first frame: where this page starts, sent back after a drop.
  source.addEventListener("hello", (message) => {
    if (message.lastEventId) lastId = message.lastEventId;
  });
}

function close() {
  clearTimeout(timer);
  if (source) {
    source.close();
    source = null;
  }
  state("closed");
}

window.gridlineLive = window.gridlineLive || { received: 0, last: null };

export function subscribe(handler, kinds = null) {
  const entry = { handler, kinds };
  subscribers.add(entry);
  open();
  return function unsubscribe() {
    subscribers.delete(entry);
    if (!subscribers.size) close();
  };
}
