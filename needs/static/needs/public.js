// The public need form (/needs/p/<key>/, #20): a resident's phone after scanning the QR on the
// notice board. Adds "use my location" and the photo check to a form that posts without it.
import { locate, once, photoCount } from "./form-kit.js";

const form = document.querySelector("[data-public-form]");
if (form) {
  locate(form);
  once(form, photoCount(form));
}
