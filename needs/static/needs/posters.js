// The posters page: the print button (a script, not an inline handler: the CSP runs no inline code).
const button = document.getElementById("print");
if (button) button.addEventListener("click", () => window.print());
