// The kiosk link is /screen/kiosk/#<secret>: browsers never send the fragment, so the secret
// stays out of request lines (access logs, proxies). This posts it with the CSRF token; the
// fragment is dropped from the address bar first. After a refusal nothing is resent.
const form = document.getElementById("kiosk-open");
const secret = decodeURIComponent(window.location.hash.slice(1));
if (form && secret && form.dataset.refused !== "1") {
  form.elements.secret.value = secret;
  window.history.replaceState(null, "", window.location.pathname);
  form.submit();
}
