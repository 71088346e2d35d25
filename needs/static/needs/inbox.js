// The provider's dispatch page (/needs/inbox/<id>/, #20): one press per action and the photo
// check on the report. The forms post without it.
import { once, photoCount } from "./form-kit.js";

for (const form of document.querySelectorAll("form[data-once]")) {
  once(form, form.matches("[data-report-form]") ? photoCount(form) : () => true);
}
