// 双报到 registration (/needs/join/<key>/, #20): "use my location" on a form that posts without it,
// and the two passwords compared before sending.
import { locate, once } from "./form-kit.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const form = document.querySelector("[data-join-form]");
if (form) {
  locate(form);
  const again = form.querySelector("input[name=password_again]");
  const same = () => {
    const differ = again.value && again.value !== form.querySelector("input[name=password]").value;
    again.setCustomValidity(differ ? _("The two passwords differ.") : "");
    if (differ) again.reportValidity();
    return !differ;
  };
  once(form, same);
}
