"""A need's photo is stored re-encoded, never as uploaded: a phone's camera file carries
EXIF (the GPS of the resident's home, the phone's make, the time), and the provider and the
community see these photos. Re-encoding applies the EXIF orientation to the pixels first (so
the photo still stands upright without its tag) and writes no metadata. The upload has
already passed incidents' photo check (format, bytes, pixels), so decoding it is bounded."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

# extension → Pillow format and options; JPEG at 85 keeps a phone photo's detail at about a
# third of the camera's bytes.
SAVE = {
    "jpg": ("JPEG", {"quality": 85, "optimize": True}),
    "png": ("PNG", {"optimize": True}),
    "webp": ("WEBP", {"quality": 85}),
}


@dataclass(frozen=True)
class CleanPhoto:
    file: ContentFile
    extension: str
    width: int
    height: int


def clean(photo) -> CleanPhoto:
    """`photo`: incidents.services.reporting.CheckedPhoto (file, extension, width, height)."""
    extension = photo.extension if photo.extension in SAVE else "jpg"
    fmt, options = SAVE[extension]
    photo.file.seek(0)
    with Image.open(photo.file) as opened:
        image = ImageOps.exif_transpose(opened)
        image.load()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        clear = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if clear else "RGB")
    buffer = io.BytesIO()
    # No exif=, no pnginfo=: nothing but the pixels (and the colour profile, which names no one).
    icc = image.info.get("icc_profile")
    image.save(buffer, fmt, **options, **({"icc_profile": icc} if icc else {}))
    return CleanPhoto(ContentFile(buffer.getvalue()), extension, image.width, image.height)
