// What the needs app's phone forms share (#20): "use my location" into hidden lon/lat, a photo
// count check before sending, and one press per submit. Every form works without this module
// (plain posts); a browser without modules or geolocation simply never runs it.
import { shrinkPhoto } from "../gridline/photo-shrink.js";

const _ = (s) => (typeof globalThis.gettext === "function" ? globalThis.gettext(s) : s);
const fill = (text, values) => (typeof globalThis.interpolate === "function" ? globalThis.interpolate(text, values, true) : text);

// The locate button and its line of text; hidden in the page until the browser can locate.
export function locate(form) {
  const box = form.querySelector("[data-where]");
  const lon = form.querySelector("input[name=lon]");
  const lat = form.querySelector("input[name=lat]");
  if (!box || !lon || !lat || !navigator.geolocation) return;
  const button = box.querySelector("[data-locate]");
  const text = box.querySelector("[data-where-text]");
  box.hidden = false;
  if (lon.value && lat.value) text.textContent = _("Your location is attached.");
  button.addEventListener("click", () => {
    button.disabled = true;
    text.textContent = _("Finding your location…");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { longitude, latitude, accuracy } = position.coords;
        lon.value = longitude.toFixed(6);
        lat.value = latitude.toFixed(6);
        text.textContent = fill(_("Location attached, accurate to about %(m)s m."), { m: Math.round(accuracy) });
        button.disabled = false;
      },
      (error) => {
        lon.value = "";
        lat.value = "";
        text.textContent = error.code === 1
          ? _("Location not allowed. The address is enough.")
          : _("Could not find your location. The address is enough.");
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}

// The number of photos chosen, and a refusal before sending when there are too many.
export function photoCount(form) {
  const input = form.querySelector("input[type=file][data-max]");
  if (!input) return () => true;
  const max = Number(input.dataset.max) || 3;
  const line = input.parentElement.querySelector("[data-photos-text]");
  // The browser's own file button speaks the browser's language: ours says what it does. The
  // input stays in the page (out of sight) so the label opens the camera or the gallery.
  if (input.id) {
    const pick = document.createElement("label");
    pick.htmlFor = input.id;
    pick.className = "nf-button nf-pick";
    pick.textContent = `＋ ${_("Add photos")}`;
    input.classList.add("nf-file-hidden");
    input.after(pick);
  }
  let working = null;
  const show = () => {
    const n = input.files ? input.files.length : 0;
    const over = n > max;
    if (line) {
      line.textContent = n ? fill(over ? _("%(n)s photos chosen: at most %(max)s.") : _("%(n)s photos chosen."), { n, max }) : "";
      line.classList.toggle("nf-error", over);
    }
    return !over;
  };
  input.addEventListener("change", () => {
    if (!show()) return;
    working = shrinkChosen(input, line).finally(() => {
      working = null;
      show();
    });
  });
  // Sending while the photos are still being made small would post the camera files.
  return () => !working && show();
}

// The chosen photos, made small on the phone (≤1600 px, JPEG 0.8, which also drops their
// EXIF: the GPS of the resident's home) and put back into the same <input>, so the plain form
// post sends them. A file the phone cannot decode is left as chosen (the server says why);
// a browser without DataTransfer sends the originals (the server re-encodes them anyway).
async function shrinkChosen(input, line) {
  const files = [...(input.files || [])];
  if (!files.length || typeof DataTransfer !== "function") return;
  const submit = input.form && input.form.querySelector("button[type=submit]");
  if (submit) submit.disabled = true;
  if (line) line.textContent = _("Preparing photos…");
  const ready = new DataTransfer();
  for (const file of files) {
    try {
      const small = await shrinkPhoto(file);
      ready.items.add(small instanceof File ? small : file);
    } catch {
      ready.items.add(file);
    }
  }
  input.files = ready.files;
  input.dataset.ready = String(ready.files.length); // the photos are ready to send
  if (submit) submit.disabled = false;
}

// One press: the button stays disabled while the page goes (a second tap on a slow network
// would post twice). Returning to the page with Back re-enables it.
export function once(form, check = () => true) {
  form.addEventListener("submit", (event) => {
    if (!check()) {
      event.preventDefault();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    if (button) setTimeout(() => { button.disabled = true; }, 0);
  });
  window.addEventListener("pageshow", () => {
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = false;
  });
}
