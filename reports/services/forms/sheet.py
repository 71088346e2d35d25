"""A department's workbook as read: opened with its refusals, each sheet as anchors (a
written cell or a merged range's top-left), and the parsed form handed to the proposal."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from grids.problems import Problem, ProblemsError
from reports.models import ValueType

# How far down a sheet the title and header are looked for, and how far it is read at all.
HEADER_SEARCH_ROWS = 30
MAX_ROWS = 20_000
SAMPLE_ROWS = 5

# ---- parsed form ----------------------------------------------------------------------------


@dataclass
class FormColumn:
    """A column of the form that holds a data item (not a key column)."""

    col: int  # 0-based, relative to the form's first column: the key of layout["columns"]
    cell: str  # where its heading is written, e.g. "E4"
    heading: str  # the group headings and the leaf, "人口情况/60岁以上老人数"
    text: str  # the leaf as written, "60岁以上老人数（人）"
    name: str  # the leaf without its unit, "60岁以上老人数"
    unit: str
    samples: list = field(default_factory=list)
    value_type: str = ValueType.INTEGER
    # What the column is matched by: its groups and name ("人口情况/60岁以上老人数"), or for a
    # "其中：" item the item it is part of made narrower ("其中：80岁以上" → "80岁以上老人数").
    match: str = ""
    part_of: int | None = None  # the column (col) of the item a "其中：" item is part of
    qualified: bool = False  # a "其中：" qualifier named whole with its item's words

    def as_dict(self) -> dict:
        return {
            "column": self.col,
            "cell": self.cell,
            "heading": self.heading,
            "text": self.text,
            "name": self.name,
            "unit": self.unit,
            "samples": [_jsonable(v) for v in self.samples],
            "value_type": self.value_type,
            "match": self.match or self.heading,
            "part_of": self.part_of,
        }


@dataclass
class ParsedForm:
    """What `parse_form` read from a department's form."""

    sheet: str
    title: str  # without the period: a template's title
    period_type: str  # guessed from the title (月, 季度, 半年, 年), month if it says nothing
    row_level: str  # guessed from the key columns (网格 → grid, 社区 → community, 街道 → street)
    layout: dict  # the format generate.to_xlsx writes; "columns" is filled on confirm
    columns: list[FormColumn]
    subtitle: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


# ---- reading the sheet ----------------------------------------------------------------------


@dataclass
class _Anchor:
    """A written cell: a lone cell, or the top-left of a merged range. 1-based."""

    row: int
    col: int
    value: object
    rowspan: int = 1
    colspan: int = 1

    @property
    def text(self) -> str:
        return _text(self.value)

    @property
    def ref(self) -> str:
        return f"{get_column_letter(self.col)}{self.row}"


class _Sheet:
    """A worksheet as anchors by row, and which anchor covers each cell of a merged range."""

    def __init__(self, ws):
        self.title = ws.title
        self.rows: dict[int, list[_Anchor]] = {}
        self.owner: dict[tuple[int, int], _Anchor] = {}
        spans = {}
        covered = set()
        for merged in ws.merged_cells.ranges:
            spans[(merged.min_row, merged.min_col)] = (
                merged.max_row - merged.min_row + 1,
                merged.max_col - merged.min_col + 1,
            )
            covered.update(
                (r, c)
                for r in range(merged.min_row, merged.max_row + 1)
                for c in range(merged.min_col, merged.max_col + 1)
            )
        for r, row in enumerate(
            ws.iter_rows(max_row=min(ws.max_row, MAX_ROWS), values_only=True), 1
        ):
            for c, value in enumerate(row, 1):
                if (r, c) in covered and (r, c) not in spans:
                    continue
                blank = value is None or (isinstance(value, str) and not value.strip())
                if blank and (r, c) not in spans:
                    continue
                rowspan, colspan = spans.get((r, c), (1, 1))
                anchor = _Anchor(r, c, value, rowspan, colspan)
                self.rows.setdefault(r, []).append(anchor)
                for rr in range(r, r + rowspan):
                    for cc in range(c, c + colspan):
                        self.owner[(rr, cc)] = anchor
        self.last_row = max(self.rows, default=0)

    def written(self, r: int) -> list[_Anchor]:
        return [a for a in self.rows.get(r, []) if a.text]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _flat(text: str) -> str:
    """A heading on one line: forms break long headings inside the cell."""
    return re.sub(r"\s*\n\s*", "", text).strip()


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _refuse(
    code: str,
    message: str,
    field: str,
    *,
    status: int = 400,
    row: int | None = None,
    sheet: str | None = None,
) -> ProblemsError:
    error = ProblemsError([Problem(code, message, field=field, row=row, feature=sheet)])
    if status != 400:
        error.status_code = status
    return error


def _open(data: bytes, filename: str):
    limit = settings.GRIDLINE_FORM_MAX_MB
    if len(data) > limit * 1024 * 1024:
        size = len(data) / 1024 / 1024
        message = _("%(file)s is %(size).1f MB; the limit is %(limit)s MB") % {
            "file": filename,
            "size": size,
            "limit": f"{limit:g}",
        }
        raise _refuse("too_large", message, "file", status=413)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        message = _("%(file)s is an old Excel 97-2003 file (.xls): save it as .xlsx") % {
            "file": filename
        }
        raise _refuse("not_xlsx", message, "file")
    if not data.startswith(b"PK"):
        message = _("%(file)s is not an Excel workbook (.xlsx)") % {"file": filename}
        raise _refuse("not_xlsx", message, "file")
    try:
        return load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as error:
        message = _("%(file)s cannot be read as an Excel workbook (.xlsx): %(error)s") % {
            "file": filename,
            "error": error,
        }
        raise _refuse("not_xlsx", message, "file") from error
