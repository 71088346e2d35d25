// /field/devices/: ask before revoking a phone (it cannot be undone: the worker logs in again).
for (const form of document.querySelectorAll("form[data-confirm-revoke]")) {
  form.addEventListener("submit", (event) => {
    const text = interpolate(
      gettext("Revoke %(device)s? The phone clears its data and its owner must sign in again."),
      { device: form.dataset.confirmRevoke },
      true,
    );
    if (!window.confirm(text)) event.preventDefault();
  });
}
