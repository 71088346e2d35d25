// A photo made small on the phone before it is sent (shared by the field app and the needs
// app's public and provider pages): a 12 MP camera JPEG (4-8 MB) would take minutes on a weak
// signal and is over the server's limit anyway; 1600 px on the long edge at quality 0.8 is
// 200-500 KB and still shows the detail a handler needs. Drawing onto a canvas also drops the
// file's EXIF (a resident's photo would otherwise carry the GPS of their home). A file the
// browser cannot decode is refused here, with the reason, instead of by the server later.

export const MAX_EDGE = 1600;
export const QUALITY = 0.8;

const T = {
  notImage: gettext("%(name)s is not a photo (only images can be attached)."),
  unreadable: gettext("%(name)s cannot be read as a picture on this phone: %(reason)s"),
};

const fmt = (text, values) => interpolate(text, values, true);

// Decode with the EXIF orientation applied (portrait photos stay upright); an <img> is the
// fallback for webviews without createImageBitmap.
async function decode(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      // Some webviews reject the options bag but decode without it.
      if (!(error instanceof TypeError)) throw error;
      return await createImageBitmap(file);
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function toJpeg(canvas) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  return new Promise((resolve, reject) => {
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("toBlob gave nothing"))),
      "image/jpeg",
      QUALITY,
    );
  });
}

/** One picture file → a JPEG Blob at most MAX_EDGE px on its long edge. Throws an Error whose
 * message is the Chinese reason when the file is not a picture or cannot be decoded. */
export async function shrinkPhoto(file) {
  const name = file.name || "";
  if (file.type && !file.type.startsWith("image/")) {
    throw new Error(fmt(T.notImage, { name }));
  }
  let picture;
  try {
    picture = await decode(file);
  } catch (error) {
    throw new Error(fmt(T.unreadable, { name, reason: error.message || String(error) }), { cause: error });
  }
  const width = picture.width;
  const height = picture.height;
  if (!width || !height) {
    throw new Error(fmt(T.unreadable, { name, reason: "0 × 0" }));
  }
  const scale = Math.min(1, MAX_EDGE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas =
    typeof OffscreenCanvas === "function"
      ? new OffscreenCanvas(w, h)
      : Object.assign(document.createElement("canvas"), { width: w, height: h });
  const ctx = canvas.getContext("2d");
  // JPEG has no transparency: a PNG screenshot's clear parts become white, not black.
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(picture, 0, 0, w, h);
  if (picture.close) picture.close();
  const blob = await toJpeg(canvas);
  const base = name.replace(/\.[^.]*$/, "") || "photo";
  // A File keeps the name for the multipart part; plain Blob where File cannot be built.
  try {
    return new File([blob], `${base}.jpg`, { type: "image/jpeg" });
  } catch {
    return blob;
  }
}

