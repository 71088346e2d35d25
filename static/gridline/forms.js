// Selects marked data-autosubmit send their form when changed (the language and the ledger's
// period); a listener here rather than an inline onchange, which the Content-Security-Policy
// does not run.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
    select.form.submit();
  }
});
