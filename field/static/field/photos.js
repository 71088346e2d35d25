// Photos from the phone's camera, made small on the phone before they are queued (the shrink
// itself is shared with the needs app's pages: /static/gridline/photo-shrink.js, kept in the
// shell by field/views.py SHELL_FILES). A file the browser cannot decode is refused with the
// reason before the worker has left the place.
import { MAX_EDGE, QUALITY, shrinkPhoto } from "../gridline/photo-shrink.js";

export { MAX_EDGE, QUALITY };
export const downscale = shrinkPhoto;

export const MAX_PHOTOS = 6;

const T = {
  tooMany: gettext("At most %(n)s photos."),
  add: gettext("Take or add photos"),
  remove: gettext("Remove photo"),
  working: gettext("Preparing photos…"),
};

const fmt = (text, values) => interpolate(text, values, true);

/** A camera button with thumbnails: `{el, photos() → [Blob], clear()}`. Errors are shown
 * in the block itself, one line per refused file. */
export function photoPicker({ max = MAX_PHOTOS, label = T.add } = {}) {
  const kept = [];
  const el = document.createElement("div");
  el.className = "work-photos";
  const input = document.createElement("input");
  input.type = "file";
  input.accept = "image/*";
  input.setAttribute("capture", "environment");
  input.multiple = true;
  input.className = "work-photos-input";
  input.id = `photos-${Math.random().toString(36).slice(2, 9)}`;
  const button = document.createElement("label");
  button.className = "work-button work-photos-add";
  button.htmlFor = input.id;
  button.textContent = `＋ ${label}`;
  const thumbs = document.createElement("div");
  thumbs.className = "work-thumbs";
  const problems = document.createElement("div");
  problems.className = "work-problems";
  problems.setAttribute("role", "alert");
  el.append(input, button, thumbs, problems);

  const draw = () => {
    thumbs.replaceChildren(
      ...kept.map((item, index) => {
        const box = document.createElement("div");
        box.className = "work-thumb";
        const img = document.createElement("img");
        img.src = item.url;
        img.alt = "";
        const x = document.createElement("button");
        x.type = "button";
        x.className = "work-thumb-remove";
        x.textContent = "×";
        x.title = T.remove;
        x.setAttribute("aria-label", T.remove);
        x.addEventListener("click", () => {
          URL.revokeObjectURL(item.url);
          kept.splice(index, 1);
          draw();
        });
        box.append(img, x);
        return box;
      }),
    );
  };

  input.addEventListener("change", async () => {
    const files = [...input.files];
    input.value = "";
    const errors = [];
    problems.textContent = T.working;
    for (const file of files) {
      if (kept.length >= max) {
        errors.push(fmt(T.tooMany, { n: max }));
        break;
      }
      try {
        const blob = await downscale(file);
        kept.push({ blob, url: URL.createObjectURL(blob) });
      } catch (error) {
        errors.push(error.message);
      }
    }
    problems.replaceChildren(
      ...errors.map((text) => Object.assign(document.createElement("p"), { textContent: text })),
    );
    draw();
    el.dispatchEvent(new Event("change", { bubbles: true }));
  });

  return {
    el,
    photos: () => kept.map((item) => item.blob),
    clear() {
      kept.forEach((item) => URL.revokeObjectURL(item.url));
      kept.length = 0;
      problems.replaceChildren();
      draw();
    },
  };
}
