"""Draw the field app's icons (192, 512 and a maskable 512): the character 网 in white on the
platform's blue. Run once after changing the look: .venv/bin/python tools/make_field_icons.py"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "field" / "static" / "field" / "icons"
BLUE = (18, 50, 79)  # the district boundary colour of the map
FONTS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
]


def font(size: int):
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise SystemExit("no CJK font: apt-get install fonts-noto-cjk")


def draw(size: int, maskable: bool) -> Image.Image:
    image = Image.new("RGB", (size, size), BLUE if maskable else (255, 255, 255))
    pen = ImageDraw.Draw(image)
    if not maskable:
        # A rounded tile; the maskable one fills the square (the launcher cuts its own shape).
        pen.rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 5, fill=BLUE)
    # The maskable icon keeps its mark inside the central 80 % safe zone.
    glyph = font(int(size * (0.5 if maskable else 0.62)))
    pen.text((size / 2, size / 2), "网", font=glyph, fill="white", anchor="mm")
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192, False).save(OUT / "icon-192.png", optimize=True)
    draw(512, False).save(OUT / "icon-512.png", optimize=True)
    draw(512, True).save(OUT / "maskable-512.png", optimize=True)
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
