"""Bringing a department's existing Excel form in (一表通, issue 5 item 3).

A department has its form as an .xlsx: a title ("XX社区独居老人情况统计表（2026年10月）"),
maybe a line "填报单位：……  填报日期：……", a header of one or more rows with merged
cells, a row per unit, a total and a footer ("填报人：  审核人："). Bringing it in is three
steps:

1. `parse_form` reads the sheet: the title without its period, the header block with its
   merges (as the `layout` that `generate.to_xlsx` writes back, so reports come out in the
   department's own layout), the key columns (序号, 网格名称 …) and, per other column, its
   heading path ("人口情况/60岁以上老人数"), unit and a sample of values.
2. `propose` matches every column against the active indicators (reports.services.matching)
   and stores a FormImport: per column the candidates and a proposed choice, an existing
   indicator or a new one to collect.
3. `confirm` takes the user's decisions and creates, in one transaction, the new indicators
   really needed and the department's ReportTemplate.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from grids import scoping
from grids.models import Department, Role
from grids.problems import Problem, ProblemsError
from reports.models import (
    Aggregation,
    FormImport,
    Indicator,
    IndicatorGroup,
    ReportTemplate,
    Source,
    TemplateColumn,
    TimeAggregation,
    UnitLevel,
    ValueType,
)
from reports.periods import MONTHS, PeriodType
from reports.services import matching
from reports.services.indicators import NO, YES, ensure_groups

# How far down a sheet the title and header are looked for, and how far it is read at all.
HEADER_SEARCH_ROWS = 30
MAX_ROWS = 20_000
SAMPLE_ROWS = 5


class FormRefused(ProblemsError):
    """An import step that may not be taken: 403 not your department, 409 already done."""

    def __init__(self, code: str, message: str, *, status: int, field: str | None = None):
        super().__init__([Problem(code, message, field=field)])
        self.status_code = status


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


# Lines between the title and the header ("填报单位：XX社区  填报日期：2026年10月").
_LABELLED = re.compile(r"^[^:：]{1,12}[:：]")
SUBTITLE_WORDS = ("填报单位", "填报日期", "统计时间", "统计日期", "统计期", "单位", "制表", "报送")
FOOTER_WORDS = (
    "填报人",
    "填表人",
    "审核人",
    "审批人",
    "制表人",
    "统计人",
    "填报日期",
    "填表日期",
    "填报单位",
    "单位负责人",
    "负责人",
    "分管领导",
    "联系人",
    "联系电话",
    "备注",
    "说明",
    "注",
)
TOTAL_WORDS = ("合计", "总计", "小计", "汇总")
# Footer labels whose value is a person or a phone: kept as a label to fill in, never the
# name that happened to be in the department's copy.
_FOOTER_BLANK = (
    "填报人",
    "填表人",
    "审核人",
    "审批人",
    "制表人",
    "统计人",
    "负责人",
    "分管领导",
    "联系人",
    "联系电话",
)

# A period as a form's title writes it: "（2026年10月）", "2026年第三季度", "2026年度",
# "____年__月" (a blank form).
_BLANK = r"[_＿\s]+"
_PERIOD = re.compile(
    r"[(（]?\s*(?:\d{4}|" + _BLANK + r")\s*年\s*"
    r"(?P<part>(?:第\s*)?(?:[一二三四1-4]|" + _BLANK + r")\s*季度?|[上下]半年|"
    r"(?:\d{1,2}|" + _BLANK + r")\s*月份?(?:\s*[-—~至]\s*\d{1,2}\s*月份?)?|度)?\s*[)）]?"
)
_PERIOD_WORDS = [
    ("半年", PeriodType.HALF_YEAR),
    ("季", PeriodType.QUARTER),
    ("月", PeriodType.MONTH),
    ("年", PeriodType.YEAR),
]


def split_period(title: str) -> tuple[str, str, str]:
    """A title without its period, the title with "{period}" in its place (for the layout,
    so generated reports name their own period) and the guessed period type."""
    match = _PERIOD.search(title)
    if not match:
        for word, kind in (
            ("月报", PeriodType.MONTH),
            ("季报", PeriodType.QUARTER),
            ("半年报", PeriodType.HALF_YEAR),
            ("年报", PeriodType.YEAR),
            ("月度", PeriodType.MONTH),
            ("季度", PeriodType.QUARTER),
            ("年度", PeriodType.YEAR),
        ):
            if word in title:
                return title, title, kind
        return title, title, PeriodType.MONTH
    part = match.group("part") or ""
    kind = PeriodType.YEAR
    for word, found in _PERIOD_WORDS:
        if word in part:
            kind = found
            break
    bracketed = match.group(0).lstrip().startswith(("(", "（"))
    placeholder = "（{period}）" if bracketed else "{period}"
    plain = (title[: match.start()] + title[match.end() :]).strip()
    with_period = title[: match.start()] + placeholder + title[match.end() :]
    return plain or title, with_period.strip(), kind


# Key columns: what a row is, not a data item.
_UNIT_WORD = (
    r"(?:网格|社区|村|村居|居委会?|村\(社区\)|社区\(村\)|街道|镇|乡镇|街镇|街道\(镇\)"
    r"|单位|填报单位|行政区划|区域)"
)
KEY_PATTERNS = [
    ("index", re.compile(r"^(?:序号|序|编号|no\.?|排序)$", re.I)),
    ("code", re.compile(rf"^{_UNIT_WORD}?(?:编码|代码|编号|代号)$")),
    ("parent", re.compile(rf"^(?:所属|上级){_UNIT_WORD}?(?:名称)?$")),
    ("name", re.compile(rf"^(?:{_UNIT_WORD}(?:名称)?|名称)$")),
]
_LEVEL_WORDS = [
    ("网格", UnitLevel.GRID),
    ("街道", UnitLevel.STREET),
    ("镇", UnitLevel.STREET),
    ("乡", UnitLevel.STREET),
    ("社区", UnitLevel.COMMUNITY),
    ("村", UnitLevel.COMMUNITY),
    ("居", UnitLevel.COMMUNITY),
]


def key_kind(text: str) -> str | None:
    """index, code, parent or name for a key column's heading, else None."""
    text = unicodedata.normalize("NFKC", _flat(text)).replace(" ", "")
    for kind, pattern in KEY_PATTERNS:
        if pattern.match(text):
            return kind
    return None


def level_of_heading(text: str) -> str | None:
    for word, level in _LEVEL_WORDS:
        if word in text:
            return level
    return None


# ---- value types ----------------------------------------------------------------------------

_RATE = re.compile(r"率|比例|占比|比重|百分比|%|％")
_TEXT_WORDS = re.compile(
    r"情况说明|说明|备注|名称|地址|姓名|电话|联系方式|类型|类别|原因|内容|措施|描述"
)
_MONEY = re.compile(r"金额|资金|收入|支出|经费|资产|元$")


def guess_value_type(name: str, unit: str, samples: list) -> str:
    """integer, decimal, percentage, text or boolean, from the heading and sample values."""
    if unit in ("%", "‰") or _RATE.search(name):
        return ValueType.PERCENTAGE
    if name.startswith("是否"):
        return ValueType.BOOLEAN
    if _TEXT_WORDS.search(name):
        return ValueType.TEXT
    seen = [v for v in samples if _text(v)]
    if seen:
        words = {_text(v).lower() for v in seen}
        if all(isinstance(v, bool) for v in seen) or words <= (YES | NO) - {"0", "1"}:
            return ValueType.BOOLEAN
        kinds = set()
        for value in seen:
            if isinstance(value, bool):
                kinds.add("text")
            elif isinstance(value, int):
                kinds.add("integer")
            elif isinstance(value, float):
                kinds.add("integer" if value.is_integer() else "decimal")
            else:
                text = _text(value).replace(",", "").replace("，", "")
                if text.endswith(("%", "％")):
                    return ValueType.PERCENTAGE
                try:
                    number = Decimal(text)
                except InvalidOperation:
                    kinds.add("text")
                    continue
                kinds.add("integer" if number == number.to_integral_value() else "decimal")
        if "text" in kinds:
            return ValueType.TEXT
        if "decimal" in kinds:
            return ValueType.DECIMAL
        return (
            ValueType.DECIMAL if _MONEY.search(name) or unit.endswith("元") else ValueType.INTEGER
        )
    if _MONEY.search(name) or unit.endswith("元") or unit in ("平方千米", "平方米", "亩", "公顷"):
        return ValueType.DECIMAL
    return ValueType.INTEGER


# ---- parse ----------------------------------------------------------------------------------


def _refuse(code: str, message: str, field: str, *, status: int = 400) -> ProblemsError:
    error = ProblemsError([Problem(code, message, field=field)])
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


def parse_form(data: bytes, filename: str) -> ParsedForm:
    """A department's form read from an .xlsx: the first sheet with a header. Refused with
    not_xlsx, too_large or no_header (naming the cell looked at)."""
    workbook = _open(data, filename)
    refused = []
    for ws in workbook.worksheets:
        if not isinstance(ws, Worksheet):  # a chart sheet
            continue
        sheet = _Sheet(ws)
        try:
            return _parse_sheet(sheet, filename)
        except ProblemsError as error:
            refused.extend(error.problems)
    raise ProblemsError(
        refused[:1] or [Problem("no_header", f"{filename} has no sheet", field="A1")]
    )


def _is_subtitle(anchors: list[_Anchor]) -> bool:
    return all(_LABELLED.match(a.text) or a.text.startswith(SUBTITLE_WORDS) for a in anchors)


def _parse_sheet(sheet: _Sheet, filename: str) -> ParsedForm:
    title_anchor = None
    title_period = ""  # a period written in a cell of its own beside the title
    subtitle: list[str] = []
    start = None
    for r in range(1, min(sheet.last_row, HEADER_SEARCH_ROWS) + 1):
        anchors = sheet.written(r)
        if not anchors:
            continue
        headings = [a for a in anchors if not _PERIOD.fullmatch(_flat(a.text))]
        if len(headings) >= 2 and not _is_subtitle(anchors):
            start = r
            break
        first = title_anchor is None and not subtitle
        if first and len(headings) == 1 and not _LABELLED.match(headings[0].text):
            title_anchor = headings[0]
            title_period = "".join(_flat(a.text) for a in anchors if a is not title_anchor)
        else:
            subtitle.extend(_flat(a.text) for a in anchors)
    if start is None:
        where = title_anchor.ref if title_anchor else "A1"
        if title_anchor:
            message = _(
                "sheet '%(sheet)s' of %(file)s has only a title ('%(title)s') and no header "
                "row in its first rows"
            ) % {"sheet": sheet.title, "file": filename, "title": title_anchor.text}
        else:
            message = _(
                "sheet '%(sheet)s' of %(file)s has nothing that looks like a header row (two "
                "or more headings side by side) in its first rows"
            ) % {"sheet": sheet.title, "file": filename}
        raise _refuse("no_header", message, where)

    end = _header_end(sheet, start)
    heading_rows = end
    extra = 0
    units_by_col: dict[int, str] = {}
    for r in (end + 1, end + 2):
        anchors = sheet.written(r)
        if anchors and all(matching.canonical_unit(a.text) for a in anchors):
            units_by_col.update({a.col: matching.canonical_unit(a.text) for a in anchors})
            extra = r - end
        elif anchors and _is_column_numbers(anchors):
            extra = r - end
        else:
            break
    end += extra

    header_anchors = [a for r in range(start, end + 1) for a in sheet.rows.get(r, [])]
    first_col = min(a.col for a in header_anchors)
    last_col = max(a.col + a.colspan - 1 for a in header_anchors)
    width = last_col - first_col + 1
    sheet_unit = _sheet_unit(subtitle)

    key_columns: list[dict] = []
    columns: list[FormColumn] = []
    warnings: list[Problem] = []
    name_levels: list[tuple[int, str]] = []
    for c in range(first_col, last_col + 1):
        path: list[_Anchor] = []
        for r in range(start, heading_rows + 1):
            anchor = sheet.owner.get((r, c))
            if anchor is not None and anchor.text and (not path or path[-1] is not anchor):
                path.append(anchor)
        if not path:
            warnings.append(
                Problem(
                    "no_heading",
                    _("column %(column)s has no heading and is left out")
                    % {"column": get_column_letter(c)},
                    field=f"{get_column_letter(c)}{start}",
                    severity="warning",
                )
            )
            continue
        leaf = path[-1]
        text = _flat(leaf.text)
        kind = key_kind(matching.split_unit(text)[0])
        if kind is not None:
            key_columns.append({"col": c - first_col, "kind": kind})
            if kind in ("name", "parent"):
                name_levels.append((c - first_col, level_of_heading(text) or ""))
            continue
        name, unit = matching.split_unit(text)
        for group in reversed(path[:-1]):
            unit = unit or matching.split_unit(_flat(group.text))[1]
        unit = unit or units_by_col.get(c, "") or sheet_unit
        heading = "/".join(
            [_flat(matching.split_unit(_flat(g.text))[0]) for g in path[:-1]] + [text]
        )
        columns.append(
            FormColumn(
                col=c - first_col,
                cell=f"{get_column_letter(c)}{leaf.row}",
                heading=heading,
                text=text,
                name=_flat(name) or text,
                unit=unit,
            )
        )
    row_level = _row_level(key_columns, name_levels)
    footer = _read_body(sheet, end + 1, first_col, columns)
    for column in columns:
        column.value_type = guess_value_type(column.name, column.unit, column.samples)
        if column.value_type in (ValueType.TEXT, ValueType.BOOLEAN):
            column.unit = ""  # a sheet's "单位：个" is not the unit of its 备注

    raw_title = _flat(title_anchor.text) if title_anchor else Path(filename).stem
    title, layout_title, period_type = split_period(raw_title)
    if title_period and title == raw_title:
        period_type = split_period(title_period)[2]
    header = []
    for a in header_anchors:
        if a.col + a.colspan - 1 < first_col or not a.text:
            continue
        header.append(
            {
                "text": a.text,
                "row": a.row - start,
                "col": a.col - first_col,
                "rowspan": min(a.rowspan, end - a.row + 1),
                "colspan": a.colspan,
            }
        )
    layout = {
        "title": layout_title,
        "header": header,
        "header_rows": end - start + 1,
        "key_columns": key_columns,
        "columns": {},
        "width": width,
        "footer": footer,
    }
    return ParsedForm(
        sheet=sheet.title,
        title=title,
        period_type=period_type,
        row_level=row_level,
        layout=layout,
        columns=columns,
        subtitle=subtitle,
        warnings=warnings,
    )


def _header_end(sheet: _Sheet, start: int) -> int:
    """The last row of the header that starts at `start`: as far down as its merged cells
    reach, and one row further under a group heading (colspan > 1) with nothing below it
    yet, when that row holds text (a group's leaves) rather than numbers (data)."""
    end = start
    while True:
        anchors = [a for r in range(start, end + 1) for a in sheet.rows.get(r, [])]
        reach = max(a.row + a.rowspan - 1 for a in anchors)
        if reach > end:
            end = reach
            continue
        open_groups = [
            a for a in anchors if a.colspan > 1 and a.text and a.row + a.rowspan - 1 == end
        ]
        below = sheet.written(end + 1)
        under = [
            b for b in below if any(g.col <= b.col <= g.col + g.colspan - 1 for g in open_groups)
        ]
        if (
            open_groups
            and under
            and all(not _is_number(b.value) for b in under)
            and end - start < 5
        ):
            end += 1
            continue
        return end


def _is_number(value) -> bool:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return True
    try:
        Decimal(_text(value).replace(",", "").rstrip("%％"))
    except InvalidOperation:
        return False
    return True


_COLUMN_LETTERS = set("甲乙丙丁戊己庚辛")


def _is_column_numbers(anchors: list[_Anchor]) -> bool:
    """A 栏次 row under the header: 甲, 乙, 1, 2, 3 …"""
    numbers = []
    for a in anchors:
        if a.text in _COLUMN_LETTERS:
            continue
        if not re.fullmatch(r"\d+", a.text):
            return False
        numbers.append(int(a.text))
    return len(numbers) >= 2 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _sheet_unit(subtitle: list[str]) -> str:
    """A unit for every column, from a line "单位：人" above the header."""
    for line in subtitle:
        match = re.search(r"单位\s*[:：]\s*(\S+)", line)
        if match:
            unit = matching.canonical_unit(match.group(1))
            if unit:
                return unit
    return ""


def _row_level(key_columns: list[dict], name_levels: list[tuple[int, str]]) -> str:
    """One row per grid, community or street: the finest unit a name column names. The
    others become the parent column (the one just above) or stay blank when generated."""
    rank = {UnitLevel.GRID: 0, UnitLevel.COMMUNITY: 1, UnitLevel.STREET: 2}
    levelled = [(col, level) for col, level in name_levels if level]
    if not levelled:
        return UnitLevel.GRID
    finest = min(levelled, key=lambda cl: rank[cl[1]])
    kinds = {k["col"]: k for k in key_columns}
    coarser = sorted(
        (cl for cl in levelled if rank[cl[1]] > rank[finest[1]]), key=lambda cl: rank[cl[1]]
    )
    kinds[finest[0]]["kind"] = "name"
    for i, (col, _level) in enumerate(coarser):
        # generate.to_xlsx fills "parent" with the unit just above the row's; a column of a
        # higher level still is kept in the layout and left blank.
        kinds[col]["kind"] = "parent" if i == 0 else "ancestor"
    return finest[1]


def _read_body(sheet: _Sheet, first: int, first_col: int, columns: list[FormColumn]) -> list[str]:
    """Samples of the first data rows into `columns`; the footer lines after the data."""
    by_col = {c.col + first_col: c for c in columns}
    footer: list[str] = []
    rows = 0
    for r in range(first, sheet.last_row + 1):
        anchors = sheet.written(r)
        if not anchors:
            continue
        lead = _flat(anchors[0].text)
        if footer or lead.startswith(FOOTER_WORDS):
            for anchor in anchors:
                footer.extend(_footer_items(anchor.text))
            continue
        if any(_flat(a.text).replace(" ", "") in TOTAL_WORDS for a in anchors):
            continue
        if rows >= SAMPLE_ROWS:
            continue
        rows += 1
        for anchor in anchors:
            column = by_col.get(anchor.col)
            if column is not None:
                column.samples.append(anchor.value)
    return footer


def _footer_items(text: str) -> list[str]:
    """One footer cell as its labelled items, with the unit and date as placeholders that
    generate.to_xlsx fills in: "填报单位：XX社区  填报日期：2026.10.5" → ["填报单位：{unit}",
    "填报日期：{date}"]."""
    items = []
    for item in re.split(r"\s{2,}|\n|\t", text.strip()):
        item = item.strip()
        if not item:
            continue
        match = re.match(r"^([^:：]{1,12})([:：])\s*(.*)$", item)
        if match:
            label, colon, value = match.groups()
            if label.startswith(("填报单位", "单位名称")):
                item = f"{label}{colon}{{unit}}"
            elif "日期" in label or "时间" in label:
                item = f"{label}{colon}{{date}}"
            elif any(word in label for word in _FOOTER_BLANK):
                item = f"{label}{colon}"
            elif label.startswith(("统计期", "统计周期", "报告期")):
                item = f"{label}{colon}{{period}}"
            else:
                item = f"{label}{colon}{value}"
        items.append(item)
    return items


# ---- who may --------------------------------------------------------------------------------


def may_import(user, department: Department) -> bool:
    """A department brings in its own forms; the district centre and administrators any
    department's of their district."""
    if not (user.is_authenticated and user.is_active):
        return False
    if scoping.sees_everything(user):
        return True
    if user.role == Role.DEPARTMENT:
        return user.department_id == department.pk
    if user.role == Role.DISTRICT_CENTRE:
        return scoping.user_district(user) == department.district_id
    return False


def _check_may(user, department: Department) -> None:
    if not may_import(user, department):
        raise FormRefused(
            "forbidden",
            _("you may not bring in forms for %(department)s") % {"department": department.name},
            status=403,
            field="department",
        )


# ---- propose --------------------------------------------------------------------------------

# Keywords of the indicator groups (reports.services.indicators.GROUPS), tried in order.
GROUP_WORDS = [
    ("leadership", re.compile(r"党员|党组织|党支部|支部|书记|党建|两委")),
    ("organisation", re.compile(r"网格员|工作人员|专职|社工|志愿者|机构|编制|人员配备|队伍")),
    ("estates", re.compile(r"小区|楼栋|楼宇|物业|业委会|住宅|房屋|院落|单元")),
    ("resident_orgs", re.compile(r"驻地|驻区|企业|学校|医院|商铺|门店|商户|单位数|机关|幼儿园")),
    ("economy", re.compile(r"收入|经济|资产|产值|集体|分红|经营|元")),
    ("area", re.compile(r"面积|平方|亩|公顷")),
    (
        "governance",
        re.compile(r"事件|纠纷|矛盾|走访|巡查|隐患|信访|上访|治安|案件|调解|安全|整改|排查"),
    ),
    (
        "population",
        re.compile(
            r"人口|人数|老人|老年|儿童|未成年|残疾|低保|居民|户|独居|退役|优抚|特困|留守|流动|养老|救助"
        ),
    ),
]
# Headings of flows (added up over a quarter), not stocks (read at the period's end).
_FLOW = re.compile(
    r"新增|本月|本期|当月|本季|本年|累计|发放|办理|受理|办结|走访|开展|举办|接待|调解|次数|人次"
)


def guess_group(name: str, unit: str) -> str:
    for code, pattern in GROUP_WORDS:
        if pattern.search(name):
            return code
    return "population" if unit in ("人", "户") else "governance"


def guess_aggregation(value_type: str) -> str:
    if value_type == ValueType.PERCENTAGE:
        return Aggregation.MEAN
    if value_type in (ValueType.TEXT, ValueType.CHOICE):
        return Aggregation.LATEST
    return Aggregation.SUM


def new_indicator_spec(column: FormColumn, *, code: str, level: str, period_type: str) -> dict:
    """A new collected indicator for a column nothing matched, for the user to review."""
    if column.value_type == ValueType.PERCENTAGE:
        over_time = TimeAggregation.MEAN
    elif _FLOW.search(column.name) and column.value_type != ValueType.TEXT:
        over_time = TimeAggregation.SUM
    else:
        over_time = TimeAggregation.LATEST
    # Plain strings: the spec goes to JSON and back to the user as it is.
    return {
        "code": code,
        "name": column.name[:120],
        "unit": column.unit,
        "value_type": str(column.value_type),
        "group": guess_group(column.name, column.unit),
        "aggregation": str(guess_aggregation(column.value_type)),
        "time_aggregation": str(over_time),
        "level": str(level),
        "period_type": str(period_type),
        "aliases": [column.text] if column.text != column.name else [],
    }


def _code_stem(department: Department) -> str:
    stem = re.sub(r"[^A-Z0-9]+", "_", department.code.upper()).strip("_") or "DEPT"
    return f"X_{stem[:28]}"


def _unique_code(stem: str, taken: set[str]) -> str:
    code = stem
    n = 2
    while code in taken:
        suffix = f"_{n}"
        code = stem[: 40 - len(suffix)] + suffix
        n += 1
    taken.add(code)
    return code


def propose(user, department: Department, data: bytes, filename: str) -> FormImport:
    """Read a department's form and store the proposed mapping of each column, for the user
    to review and `confirm`.

    Each proposal (FormImport.proposals, in sheet order) is::

        {"column": 4, "cell": "E4", "heading": "人口情况/60岁以上老人数", "text": ..., "name": ...,
         "unit": "人", "samples": [...], "value_type": "integer",
         "status": "matched" | "suggested" | "new",
         "candidates": [{"code", "name", "unit", "score", "reason", "via"}, ...],
         "choice": {"indicator": "POP_ELDERLY"} | {"new": {spec}},
         "new": {spec}, "duplicate_of": 3 (only when another column has the same match)}

    A matched column's choice is its best candidate; a suggested or new column's is a new
    indicator (the user picks a candidate instead if it is the same item). FormImport.layout
    is the department's layout with "form": {title, period_type, row_level, sheet, subtitle,
    warnings}, what was guessed for the template.

    Refused (nothing written): 403 not the user's department, 400 not_xlsx / too_large /
    no_header.
    """
    _check_may(user, department)
    parsed = parse_form(data, filename)
    indicators = list(Indicator.objects.active().only("code", "name", "aliases", "unit"))
    taken = set(Indicator.objects.values_list("code", flat=True))
    stem = _code_stem(department)
    proposals = []
    for column in parsed.columns:
        candidates = matching.rank(column.heading, column.unit, indicators)
        state = matching.status(candidates)
        spec = new_indicator_spec(
            column,
            code=_unique_code(f"{stem}_{column.col + 1}", taken),
            level=parsed.row_level,
            period_type=parsed.period_type,
        )
        choice = {"indicator": candidates[0].code} if state == "matched" else {"new": spec}
        proposals.append(
            column.as_dict()
            | {
                "status": state,
                "candidates": [c.as_dict() for c in candidates],
                "choice": choice,
                "new": spec,
            }
        )
    _flag_duplicates(proposals)
    layout = parsed.layout | {
        "form": {
            "title": parsed.title,
            "period_type": parsed.period_type,
            "row_level": parsed.row_level,
            "sheet": parsed.sheet,
            "subtitle": parsed.subtitle,
            "warnings": [w.as_dict() for w in parsed.warnings],
        }
    }
    return FormImport.objects.create(
        department=department,
        filename=filename[:200],
        layout=layout,
        proposals=proposals,
        by=user,
    )


def _flag_duplicates(proposals: list[dict]) -> None:
    """Two columns matched to one indicator: only the better stays matched, the other is
    a suggestion to decide on (a template has each indicator once)."""
    best: dict[str, dict] = {}
    for proposal in proposals:
        code = proposal["choice"].get("indicator")
        if code is None:
            continue
        other = best.get(code)
        if other is None:
            best[code] = proposal
            continue
        loser, winner = sorted(
            (other, proposal), key=lambda p: (p["candidates"][0]["score"], -p["column"])
        )
        if loser is other:
            best[code] = proposal
        loser["status"] = "suggested"
        loser["choice"] = {"new": loser["new"]}
        loser["duplicate_of"] = winner["column"]


# ---- confirm --------------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_TEMPLATE_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")


def _validate_spec(
    spec: dict, where: str, column: str, *, groups: dict, taken: set[str], period_type: str
) -> list[Problem]:
    """Problems of a new indicator's fields, each naming the column and the field."""
    problems = []

    def bad(code: str, message: str, key: str) -> None:
        message = _("%(column)s: %(message)s") % {"column": column, "message": message}
        problems.append(Problem(code, message, field=f"{where}.new.{key}"))

    code = str(spec.get("code") or "").strip()
    if not _CODE.match(code):
        message = _("code '%(code)s' must be 2-40 capital letters, digits or _, from a letter") % {
            "code": code
        }
        bad("invalid_code", message, "code")
    elif code in taken:
        message = _("an indicator %(code)s exists already or is used twice") % {"code": code}
        bad("code_taken", message, "code")
    name = str(spec.get("name") or "").strip()
    if not name or len(name) > 120:
        bad("invalid_name", _("a name of 1-120 characters is needed"), "name")
    if len(str(spec.get("unit") or "")) > 20:
        bad("invalid_unit", _("the unit is longer than 20 characters"), "unit")
    # A weighted mean needs a weight indicator, which is set on the indicator's own page.
    aggregations = [a for a in Aggregation.values if a != Aggregation.WEIGHTED_MEAN]
    for key, allowed, default in (
        ("value_type", ValueType.values, None),
        ("aggregation", aggregations, None),
        ("time_aggregation", TimeAggregation.values, TimeAggregation.LATEST),
        ("group", list(groups), None),
        ("level", UnitLevel.values, UnitLevel.GRID),
        ("period_type", PeriodType.values, period_type),
    ):
        value = spec.get(key) or default
        if value not in allowed:
            message = _("%(key)s '%(value)s' is not one of %(values)s") % {
                "key": key,
                "value": value,
                "values": ", ".join(allowed),
            }
            bad(f"invalid_{key}", message, key)
    if spec.get("value_type") == ValueType.CHOICE and not spec.get("choices"):
        bad("no_choices", _("a choice needs its choices"), "choices")
    own_period = spec.get("period_type") or period_type
    if own_period in MONTHS and MONTHS[own_period] > MONTHS.get(period_type, 99):
        message = _("a %(own)s indicator cannot fill a %(report)s report") % {
            "own": own_period,
            "report": period_type,
        }
        bad("period_too_long", message, "period_type")
    aliases = spec.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        bad("invalid_aliases", _("aliases must be a list of names"), "aliases")
    if not problems:
        taken.add(code)
    return problems


def confirm(
    user,
    form_import: FormImport,
    decisions: list[dict],
    *,
    title: str,
    code: str,
    period_type: str | None = None,
    row_level: str | None = None,
    due_day: int = 5,
) -> ReportTemplate:
    """Make the department's template from a proposed import, in one transaction.

    `decisions` has one entry per proposed column (FormImport.proposals[i]["column"]):
    ``{"column": 4, "indicator": "POP_ELDERLY"}`` (an existing, active indicator),
    ``{"column": 7, "new": {code, name, unit, value_type, group, aggregation,
    time_aggregation?, level?, period_type?, aliases?, choices?}}`` (a new collected
    indicator; a proposal's "new" is a valid start) or ``{"column": 2, "skip": true}``
    (the column stays in the layout, blank, and is not collected). `period_type` and
    `row_level` default to what was guessed from the form.

    The template belongs to the import's department; its columns are in sheet order with
    the department's own headings, and its layout maps each to its sheet column.

    Refused (nothing written): 403 not the user's department, 409 already confirmed, 400
    with a problem per wrong decision (unknown_indicator, retired_indicator,
    duplicate_indicator, undecided, invalid spec fields…) naming the column.
    """
    _check_may(user, form_import.department)
    guessed = form_import.layout.get("form", {})
    period_type = period_type or guessed.get("period_type") or PeriodType.MONTH
    row_level = row_level or guessed.get("row_level") or UnitLevel.GRID
    with transaction.atomic():
        locked = FormImport.objects.select_for_update().get(pk=form_import.pk)
        if locked.status == FormImport.Status.CONFIRMED:
            raise FormRefused(
                "already_confirmed",
                _("%(file)s was confirmed already as template %(template)s")
                % {
                    "file": locked.filename,
                    "template": locked.template.code if locked.template else _("(deleted)"),
                },
                status=409,
            )
        groups = ensure_groups()
        problems = _check_template_fields(title, code, period_type, row_level, due_day)
        plan, more = _plan_columns(
            locked, decisions, groups=groups, period_type=period_type, row_level=row_level
        )
        problems += more
        if not problems and not plan:
            problems.append(
                Problem(
                    "no_columns",
                    _("every column is skipped: nothing to report"),
                    field="decisions",
                )
            )
        if problems:
            raise ProblemsError(problems)
        template = ReportTemplate.objects.create(
            owner=locked.department,
            code=code,
            title=title.strip(),
            row_level=row_level,
            period_type=period_type,
            due_day=due_day,
            layout={},
            created_by=user if user.is_authenticated else None,
        )
        placement = {}
        for order, (proposal, indicator, spec) in enumerate(plan, 1):
            if indicator is None:
                indicator = _create_indicator(
                    spec, groups, row_level=row_level, period_type=period_type
                )
            TemplateColumn.objects.create(
                template=template,
                order=order,
                indicator=indicator,
                heading=proposal["heading"][:200],
            )
            placement[str(order)] = proposal["column"]
        template.layout = {k: v for k, v in locked.layout.items() if k != "form"} | {
            "columns": placement
        }
        template.save(update_fields=["layout"])
        locked.status = FormImport.Status.CONFIRMED
        locked.template = template
        locked.save(update_fields=["status", "template"])
    form_import.refresh_from_db()
    return template


def _check_template_fields(title, code, period_type, row_level, due_day) -> list[Problem]:
    problems = []
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 200:
        problems.append(
            Problem("invalid_title", _("a title of 1-200 characters is needed"), field="title")
        )
    if not isinstance(code, str) or not _TEMPLATE_CODE.match(code):
        problems.append(
            Problem(
                "invalid_code",
                _("template code '%(code)s' must be 1-60 letters, digits, - or _") % {"code": code},
                field="code",
            )
        )
    elif ReportTemplate.objects.filter(code=code).exists():
        message = _("a template %(code)s exists already") % {"code": code}
        problems.append(Problem("code_taken", message, field="code"))
    if period_type not in PeriodType.values:
        problems.append(
            Problem(
                "invalid_period_type",
                _("period '%(value)s' is not one of %(values)s")
                % {"value": period_type, "values": ", ".join(PeriodType.values)},
                field="period_type",
            )
        )
    if row_level not in UnitLevel.values:
        problems.append(
            Problem(
                "invalid_row_level",
                _("row level '%(value)s' is not one of %(values)s")
                % {"value": row_level, "values": ", ".join(UnitLevel.values)},
                field="row_level",
            )
        )
    if not isinstance(due_day, int) or isinstance(due_day, bool) or not 1 <= due_day <= 31:
        problems.append(
            Problem(
                "invalid_due_day",
                _("due day '%(value)s' must be 1-31") % {"value": due_day},
                field="due_day",
            )
        )
    return problems


def _plan_columns(
    form_import: FormImport,
    decisions: list[dict],
    *,
    groups: dict,
    period_type: str,
    row_level: str,
) -> tuple[list[tuple[dict, Indicator | None, dict | None]], list[Problem]]:
    """(proposal, existing indicator or None, new spec or None) per kept column in sheet
    order, and the problems of the decisions."""
    proposals = {p["column"]: p for p in form_import.proposals}
    problems: list[Problem] = []
    by_column: dict[int, dict] = {}
    for i, decision in enumerate(decisions if isinstance(decisions, list) else []):
        column = decision.get("column") if isinstance(decision, dict) else None
        if column not in proposals:
            problems.append(
                Problem(
                    "unknown_column",
                    _("decision %(number)s names column '%(column)s', which the form does not have")
                    % {"number": i + 1, "column": column},
                    field=f"decisions.{i}.column",
                )
            )
        elif column in by_column:
            problems.append(
                Problem(
                    "decided_twice",
                    _("%(column)s is decided twice") % {"column": _label(proposals[column])},
                    field=f"decisions.{i}.column",
                )
            )
        else:
            by_column[column] = decision
    if not isinstance(decisions, list):
        problems.append(
            Problem("invalid_decisions", _("decisions must be a list"), field="decisions")
        )
    codes = {d.get("indicator") for d in by_column.values() if d.get("indicator")}
    existing = {
        i.code: i
        for i in Indicator.objects.filter(code__in=[c for c in codes if isinstance(c, str)])
    }
    taken = set(Indicator.objects.values_list("code", flat=True))
    used: dict[str, int] = {}
    plan = []
    for column, proposal in sorted(proposals.items()):
        where = f"columns.{column}"
        label = _label(proposal)
        decision = by_column.get(column)
        if decision is None:
            problems.append(
                Problem(
                    "undecided",
                    _("%(column)s: choose an indicator, a new one or skip") % {"column": label},
                    field=where,
                )
            )
            continue
        chosen = [k for k in ("indicator", "new", "skip") if decision.get(k)]
        if len(chosen) != 1:
            problems.append(
                Problem(
                    "invalid_decision",
                    _("%(column)s: give exactly one of indicator, new or skip") % {"column": label},
                    field=where,
                )
            )
            continue
        if chosen == ["skip"]:
            continue
        if chosen == ["indicator"]:
            code = decision["indicator"]
            indicator = existing.get(code)
            if indicator is None:
                problems.append(
                    Problem(
                        "unknown_indicator",
                        _("%(column)s: there is no indicator '%(code)s'")
                        % {"column": label, "code": code},
                        field=where,
                    )
                )
                continue
            if indicator.retired():
                problems.append(
                    Problem(
                        "retired_indicator",
                        _("%(column)s: %(code)s (%(name)s) was retired on %(date)s")
                        % {
                            "column": label,
                            "code": code,
                            "name": indicator.name,
                            "date": indicator.retired_on,
                        },
                        field=where,
                    )
                )
                continue
            if code in used:
                problems.append(
                    Problem(
                        "duplicate_indicator",
                        _("%(column)s: %(code)s is already %(other)s")
                        % {"column": label, "code": code, "other": _label(proposals[used[code]])},
                        field=where,
                    )
                )
                continue
            used[code] = column
            plan.append((proposal, indicator, None))
            continue
        spec = decision["new"]
        if not isinstance(spec, dict):
            problems.append(
                Problem(
                    "invalid_decision",
                    _("%(column)s: new must be an indicator's fields") % {"column": label},
                    field=where,
                )
            )
            continue
        spec = {"level": row_level, "period_type": period_type} | spec
        more = _validate_spec(
            spec, where, label, groups=groups, taken=taken, period_type=period_type
        )
        problems += more
        if not more:
            plan.append((proposal, None, spec))
    return plan, problems


def _label(proposal: dict) -> str:
    return _("column %(cell)s (%(heading)s)") % {
        "cell": proposal["cell"],
        "heading": proposal["heading"],
    }


def _create_indicator(
    spec: dict, groups: dict[str, IndicatorGroup], *, row_level: str, period_type: str
) -> Indicator:
    return Indicator.objects.create(
        code=spec["code"].strip(),
        name=spec["name"].strip(),
        aliases=list(spec.get("aliases") or []),
        unit=(spec.get("unit") or "").strip(),
        group=groups[spec["group"]],
        value_type=spec["value_type"],
        choices=list(spec.get("choices") or []),
        aggregation=spec["aggregation"],
        time_aggregation=spec.get("time_aggregation") or TimeAggregation.LATEST,
        level=spec.get("level") or row_level,
        period_type=spec.get("period_type") or period_type,
        source=Source.COLLECTED,
        description=str(spec.get("description") or ""),
    )
