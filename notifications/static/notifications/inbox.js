// "Mark all read" on the notification inbox.
document.getElementById("mark-read").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const { ok, body, status } = await window.gridline.call("/api/notifications/read/", { method: "POST", data: {} });
  if (ok) window.location.reload();
  else window.gridline.flash(document.getElementById("flash"), window.gridline.messages(body, `HTTP ${status}`));
});
