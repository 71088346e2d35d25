// The one sentence every WORK form says after queueing its item: with a signal the outbox
// sends at once; without, the worker must know it is safe on the phone and leaves later.
const T = {
  offline: gettext("Saved on the phone. It is sent as soon as there is a signal."),
  online: gettext("Saved on the phone and being sent."),
};

export function toastSaved(app, offlineText = T.offline) {
  app.ui.toast(navigator.onLine === false ? offlineText : T.online);
}
