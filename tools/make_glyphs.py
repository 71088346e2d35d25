"""Build the map's glyph files (MapLibre SDF glyph PBFs) from a Debian font, offline.

MapLibre draws text from signed-distance-field glyphs fetched as protobuf files per range of
256 code points ("glyphs" in the style). The usual files come from a font server or a CDN;
a closed network has neither, so we build them here from DejaVu Sans (fonts-dejavu-core) with
Pillow's FreeType rendering and commit the output under static/gridline/glyphs/. Chinese is
not built: the map draws CJK with the browser's own font (localIdeographFontFamily), which
is what makes 20,000+ ideographs affordable.

    .venv/bin/python tools/make_glyphs.py [--font PATH] [--out DIR]

The metrics follow MapLibre's own local glyphs (TinySDF: 24 px, 3 px buffer, radius 8,
cutoff 0.25, top = ascent - 27), so Latin letters from these files and ideographs drawn
locally sit on one baseline in a label.
"""

from __future__ import annotations

import argparse
import math
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTSTACK = "Gridline Sans"
SIZE = 24  # px, MapLibre's glyph size
BUFFER = 3
RADIUS = 8.0
CUTOFF = 0.25
TOP_ADJUST = 27
SCALE = 4  # rendered at 4x, the distances measured on the fine mask
# Latin-1, Latin Extended-A, general punctuation, letter-like symbols and arrows, maths,
# box drawing and geometric shapes: what labels and figures use outside CJK.
RANGES = (0, 256, 8192, 8448, 8704, 9472)
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, value: bytes) -> bytes:
    return varint((number << 3) | 2) + varint(len(value)) + value


def glyph_message(cp, bitmap, width, height, left, top, advance) -> bytes:
    body = field_varint(1, cp)
    if bitmap:
        body += field_bytes(2, bitmap)
    body += field_varint(3, width) + field_varint(4, height)
    body += field_varint(5, zigzag(left)) + field_varint(6, zigzag(top))
    return body + field_varint(7, advance)


def render(font, ch):
    """The glyph's fine mask (bool array, origin at its box) and its box in fine pixels
    relative to the pen position on the baseline."""
    x0, y0, x1, y1 = font.getbbox(ch, anchor="ls")
    if x1 <= x0 or y1 <= y0:
        return None, (x0, y0, x1, y1)
    image = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(image).text((-x0, -y0), ch, font=font, fill=255, anchor="ls")
    return np.asarray(image) >= 128, (x0, y0, x1, y1)


def sdf(mask, box):
    """The SDF bitmap (bytes) and metrics at SIZE px for a fine mask."""
    x0, y0, x1, y1 = box
    left, right = math.floor(x0 / SCALE), math.ceil(x1 / SCALE)
    ascent, descent = math.ceil(-y0 / SCALE), math.ceil(y1 / SCALE)
    width, height = right - left, ascent + descent
    w, h = width + 2 * BUFFER, height + 2 * BUFFER
    # Centres of the output pixels, in fine pixels relative to the mask's origin.
    xs = ((left - BUFFER + np.arange(w) + 0.5) * SCALE) - x0
    ys = ((-ascent - BUFFER + np.arange(h) + 0.5) * SCALE) - y0
    gx, gy = np.meshgrid(xs, ys)
    # The outline: inside pixels with an outside 4-neighbour (the mask padded with outside).
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1]
    edge = inner & ~(padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    ey, ex = np.nonzero(edge)
    ex = ex + 0.5
    ey = ey + 0.5
    d = np.sqrt(
        (gx.ravel()[:, None] - ex[None, :]) ** 2 + (gy.ravel()[:, None] - ey[None, :]) ** 2
    ).min(axis=1)
    d = d.reshape(gy.shape) / SCALE
    ix, iy = np.floor(gx).astype(int), np.floor(gy).astype(int)
    within = (ix >= 0) & (iy >= 0) & (ix < mask.shape[1]) & (iy < mask.shape[0])
    inside = np.zeros(gx.shape, bool)
    inside[within] = mask[iy[within], ix[within]]
    signed = np.where(inside, -d, d)
    values = np.clip(np.round(255 - 255 * (signed / RADIUS + CUTOFF)), 0, 255).astype(np.uint8)
    return values.tobytes(), width, height, left, ascent - TOP_ADJUST


def build_range(font, start: int, notdef) -> bytes:
    glyphs = b""
    for cp in range(start, start + 256):
        ch = chr(cp)
        if cp < 32 or 127 <= cp < 160 or unicodedata.category(ch) == "Cf":
            continue
        mask, box = render(font, ch)
        missing = mask is not None and notdef is not None and mask.shape == notdef.shape
        if missing and (mask == notdef).all():
            continue  # the font has no such glyph
        advance = round(font.getlength(ch) / SCALE)
        if mask is None:  # a space: metrics only
            glyphs += field_bytes(3, glyph_message(cp, b"", 0, 0, 0, -TOP_ADJUST, advance))
            continue
        bitmap, width, height, left, top = sdf(mask, box)
        glyphs += field_bytes(3, glyph_message(cp, bitmap, width, height, left, top, advance))
    stack = field_bytes(1, FONTSTACK.encode()) + field_bytes(2, f"{start}-{start + 255}".encode())
    return field_bytes(1, stack + glyphs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--font", default=DEFAULT_FONT)
    parser.add_argument("--out", default=str(ROOT / "static" / "gridline" / "glyphs" / FONTSTACK))
    args = parser.parse_args()
    font = ImageFont.truetype(args.font, SIZE * SCALE, layout_engine=ImageFont.Layout.BASIC)
    notdef, _ = render(font, "\ue000")  # a private-use point: the font's "missing" box
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for start in RANGES:
        path = out / f"{start}-{start + 255}.pbf"
        path.write_bytes(build_range(font, start, notdef))
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, path.stat().st_size)


if __name__ == "__main__":
    main()
