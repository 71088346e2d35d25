"""A shapefile is three files that must agree: the shapes (.shp), their index (.shx) and one
row of attributes per shape (.dbf). GDAL reads a set that disagrees without a word: a .dbf
with fewer rows drops the shapes past its end, one with more rows drops its extra rows, a
.dbf or .shp cut short loses its tail, a missing .dbf gives shapes without attributes. In a
layout import the dropped grids would be retired; elsewhere rows would vanish. So the parts
are checked from their headers before GDAL reads them, and the file refused with its name
and both counts.

Header layouts: ESRI Shapefile Technical Description (1998) for .shp/.shx (file length in
16-bit words, big-endian, at byte 24; 100-byte header; 8-byte index records of offset and
content length in words); dBASE III for .dbf (record count at byte 4, header and record
length at bytes 8 and 10, little-endian)."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

HEADER = 100  # .shp and .shx
INDEX_RECORD = 8  # .shx
DBF_HEADER = 32  # the fixed part, before the field descriptors

INCOMPLETE = "unreadable"
DAMAGED = "unreadable"
MISMATCH = "shape_count_mismatch"


class ShapefileBroken(Exception):
    """The parts of a shapefile are missing or disagree; the message names the file."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Part:
    """One file of a shapefile, loose or in a zip: its name as the user knows it, its size
    and its bytes (read only when needed: a .shp can be large)."""

    name: str
    size: int
    read: Callable[[], bytes]


def loose_parts(shp: Path) -> dict[str, Part | None]:
    parts: dict[str, Part | None] = {}
    for suffix in (".shp", ".shx", ".dbf"):
        found = None
        for candidate in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())):
            if candidate.is_file():
                found = Part(candidate.name, candidate.stat().st_size, candidate.read_bytes)
                break
        parts[suffix] = found
    return parts


def zipped_parts(archive_path: Path, member: str) -> dict[str, Part | None]:
    """The parts of the shapefile `member` of a zip, named "<zip>/<member>"."""
    stem = member[:-4]
    parts: dict[str, Part | None] = {}
    with zipfile.ZipFile(archive_path) as archive:
        infos = {info.filename.lower(): info for info in archive.infolist()}
        for suffix in (".shp", ".shx", ".dbf"):
            info = infos.get(f"{stem}{suffix}".lower())
            parts[suffix] = (
                None
                if info is None
                else Part(
                    f"{archive_path.name}/{info.filename}",
                    info.file_size,
                    # The zip is opened again: the check reads after this `with` closes it.
                    lambda name=info.filename: _read_member(archive_path, name),
                )
            )
    return parts


def _read_member(archive_path: Path, name: str) -> bytes:
    with zipfile.ZipFile(archive_path) as archive:
        return archive.read(name)


def _missing(shp_name: str, suffix: str) -> ShapefileBroken:
    what = {".shx": _("the index of its shapes"), ".dbf": _("its attribute table")}[suffix]
    return ShapefileBroken(
        _(
            "%(shp)s has no %(missing)s beside it (%(what)s): a shapefile is its .shp, .shx "
            "and .dbf together, with the same name; add the missing file (in a zip, put all "
            "three in it)"
        )
        % {"shp": shp_name, "missing": Path(shp_name).stem + suffix, "what": what},
        INCOMPLETE,
    )


def _damaged(name: str, reason: str) -> ShapefileBroken:
    return ShapefileBroken(
        _("%(file)s is damaged (%(reason)s); export the layer again from the GIS")
        % {"file": name, "reason": reason},
        DAMAGED,
    )


def _cut_short(name: str, holds: int, declared: int, what: str) -> ShapefileBroken:
    # Whole sentences per kind of part, so that each translates as a sentence.
    template = {
        "index": _(
            "%(file)s is cut short: it holds %(holds)d of the %(declared)d index records its "
            "header declares (an interrupted copy or download?); copy or export it again"
        ),
        "shapes": _(
            "%(file)s is cut short: it holds %(holds)d of the %(declared)d shapes its index "
            "lists (an interrupted copy or download?); copy or export it again"
        ),
        "rows": _(
            "%(file)s is cut short: it holds %(holds)d of the %(declared)d rows its header "
            "declares (an interrupted copy or download?); copy or export it again"
        ),
    }[what]
    return ShapefileBroken(template % {"file": name, "holds": holds, "declared": declared}, DAMAGED)


def shape_count(shx: Part, shp: Part) -> int:
    """The number of shapes, from the index; refuses an index or a .shp cut short."""
    index = shx.read()
    if len(index) < HEADER or (len(index) - HEADER) % INDEX_RECORD:
        raise _damaged(shx.name, _("%d bytes is no shape index") % len(index))
    count = (len(index) - HEADER) // INDEX_RECORD
    declared = (struct.unpack(">i", index[24:28])[0] * 2 - HEADER) // INDEX_RECORD
    if declared > count:
        raise _cut_short(shx.name, count, declared, "index")
    if shp.size < HEADER:
        raise _damaged(shp.name, _("%d bytes is no shape file") % shp.size)
    # Index records are (offset, content length) in 16-bit words; a shape is whole when its
    # 8-byte record header and content end inside the .shp.
    records = struct.unpack(f">{2 * count}i", index[HEADER : HEADER + count * INDEX_RECORD])
    whole = sum(
        1 for i in range(count) if records[2 * i] * 2 + 8 + records[2 * i + 1] * 2 <= shp.size
    )
    if whole < count:
        raise _cut_short(shp.name, whole, count, "shapes")
    return count


def row_count(dbf: Part) -> int:
    """The number of attribute rows; refuses a table cut short."""
    table = dbf.read()
    if len(table) < DBF_HEADER:
        raise _damaged(dbf.name, _("%d bytes is no dBASE table") % len(table))
    declared, header_length, record_length = struct.unpack("<IHH", table[4:12])
    if record_length == 0 or header_length < DBF_HEADER or header_length > len(table):
        raise _damaged(dbf.name, _("its header is not a dBASE header"))
    holds = (len(table) - header_length) // record_length
    if holds < declared:
        raise _cut_short(dbf.name, holds, declared, "rows")
    return declared


def check(parts: dict[str, Part | None]) -> int:
    """The number of features the shapefile has, once its parts are there and agree;
    ShapefileBroken naming the file and both counts otherwise."""
    shp = parts[".shp"]
    assert shp is not None, "called for a .shp that exists"
    for suffix in (".shx", ".dbf"):
        if parts[suffix] is None:
            raise _missing(shp.name, suffix)
    shapes = shape_count(parts[".shx"], shp)
    rows = row_count(parts[".dbf"])
    if rows != shapes:
        raise ShapefileBroken(
            _(
                "%(dbf)s has %(rows)d rows of attributes but %(shp)s has %(shapes)d shapes: "
                "each shape needs exactly one row, so %(lost)d features would be lost or "
                "misread; the parts come from different versions of the layer, export it "
                "again from the GIS"
            )
            % {
                "dbf": parts[".dbf"].name,
                "rows": rows,
                "shp": shp.name,
                "shapes": shapes,
                "lost": abs(rows - shapes),
            },
            MISMATCH,
        )
    return shapes


def read_mismatch(name: str, read: int, shapes: int) -> ShapefileBroken:
    """GDAL read another number of features than the checked parts hold."""
    return ShapefileBroken(
        _("%(file)s: %(read)d features were read but it has %(shapes)d shapes")
        % {"file": name, "read": read, "shapes": shapes},
        MISMATCH,
    )
