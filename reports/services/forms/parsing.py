"""Reading a department's sheet: the title, the lines under it, the header block with its
merges (kept as the layout generate.to_xlsx writes back), unit and 栏次 rows, key columns and
data columns with a sample of values, and the footer."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from grids.problems import Problem, ProblemsError
from reports.models import UnitLevel, ValueType
from reports.services import matching
from reports.services.forms.sheet import (
    HEADER_SEARCH_ROWS,
    SAMPLE_ROWS,
    FormColumn,
    ParsedForm,
    _Anchor,
    _flat,
    _open,
    _refuse,
    _Sheet,
    _text,
)
from reports.services.forms.words import (
    _FOOTER_BLANK,
    _LABELLED,
    _PERIOD,
    FOOTER_WORDS,
    SUBTITLE_WORDS,
    TOTAL_WORDS,
    guess_value_type,
    key_kind,
    level_of_heading,
    split_period,
)


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
        raise _refuse("no_header", message, where, sheet=sheet.title)

    _refuse_numbers(sheet, start, filename)
    end = _header_end(sheet, start)
    heading_rows = end
    extra = 0
    units_by_col: dict[int, str] = {}
    for r in (end + 1, end + 2):
        anchors = sheet.written(r)
        units = _unit_row(anchors)
        if units:
            units_by_col.update(units)
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
        groups = [_flat(matching.split_unit(_flat(g.text))[0]) for g in path[:-1]]
        # "面积/公顷": the unit after a slash is not a level of the heading's path.
        tail = text.rsplit("/", 1)
        slashed = len(tail) == 2 and tail[0].strip() and matching.canonical_unit(tail[1])
        leaf_text = f"{tail[0].strip()}（{tail[1].strip()}）" if slashed else text
        heading = "/".join([*groups, leaf_text])
        columns.append(
            _item(
                FormColumn(
                    col=c - first_col,
                    cell=f"{get_column_letter(c)}{leaf.row}",
                    heading=heading,
                    text=text,
                    name=_flat(name) or text,
                    unit=unit,
                ),
                groups,
                columns,
            )
        )
    if not columns:
        message = _(
            "sheet '%(sheet)s' of %(file)s: the header in row %(row)s names only key columns "
            "(序号, names, codes), no data item to report"
        ) % {"sheet": sheet.title, "file": filename, "row": start}
        raise _refuse("no_data_columns", message, f"A{start}", row=start, sheet=sheet.title)
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


def _refuse_numbers(sheet: _Sheet, start: int, filename: str) -> None:
    """A sheet whose first row of several cells holds numbers has no header: its columns
    cannot be named, so nothing is guessed ("100", "200" are not items)."""
    anchors = sheet.written(start)
    numbers = [a for a in anchors if _is_number(a.value) or isinstance(a.value, dt.date)]
    if len(numbers) * 2 <= len(anchors):  # a header may hold a year or two as numbers
        return
    everything = [a for r in range(start, sheet.last_row + 1) for a in sheet.written(r)]
    only_numbers = all(_is_number(a.value) or isinstance(a.value, dt.date) for a in everything)
    values = {"sheet": sheet.title, "file": filename, "row": start, "value": numbers[0].text}
    if only_numbers:
        code = "numbers_only"
        message = _(
            "sheet '%(sheet)s' of %(file)s holds only numbers (row %(row)s: '%(value)s' …): "
            "there is no header naming the columns, so nothing can be matched"
        )
    else:
        code = "no_header"
        message = _(
            "sheet '%(sheet)s' of %(file)s: row %(row)s holds numbers ('%(value)s' …) where "
            "a header row naming the columns should be; add the header the department uses"
        )
    raise _refuse(code, message % values, numbers[0].ref, row=start, sheet=sheet.title)


_UNIT_LABELS = {"单位", "计量单位", "单位名称", "—", "-", "/", "－", "——", "--"}


def _unit_row(anchors: list[_Anchor]) -> dict[int, str]:
    """{column: unit} when a row under the header holds units ("单位 | 人 | 户 | 栋"), else
    an empty dict: a row of data has names and numbers, not units. A classifier we do not
    list ("盏") counts among units we know."""
    units = {}
    unknown = {}
    for anchor in anchors:
        text = _flat(anchor.text).replace(" ", "").strip("()（）")
        unit = matching.canonical_unit(text)
        if unit:
            units[anchor.col] = unit
        elif text in _UNIT_LABELS:
            continue
        elif re.fullmatch(r"[\u4e00-\u9fff]{1,2}", text) and not _is_number(anchor.value):
            unknown[anchor.col] = text
        else:
            return {}
    if not units or len(unknown) > len(units):
        return {}
    return units | unknown


# "其中：80岁以上", "其中:独居老人（人）", a group "其中" over its items.
_PART = re.compile(r"^(?:其中|内)\s*[:：,，]?\s*(?=\S)")
_AGE = re.compile(r"\d+\s*(?:[-—~至到]\s*\d+\s*)?周?岁\s*(?:及|含)?\s*(?:以上|以下)?")
_NOUN_END = re.compile(r"(?:人|户|数|员|者|童|儿|老人|对象|家庭|单位|企业|量|额|率|面积|次)$")
_GENERIC = re.compile(r"^(?:人数|户数|数量|个数|总数|合计|小计|计|总计|男|女|男性|女性|人|户)$")
# A group that sorts columns ("人口情况", "特殊人群") rather than names an item ("低保户").
_CATEGORY = re.compile(
    r"(?:情况|信息|概况|基本|统计|类别|人群|分类|构成|状况|结构|明细|内容|指标|项目|数据)$"
)


def _is_part_group(text: str) -> bool:
    return _flat(text).rstrip(":：").strip() in ("其中", "内")


def _item(column: FormColumn, groups: list[str], before: list[FormColumn]) -> FormColumn:
    """The column as an item: a "其中：" item (by its own words or under a group "其中")
    named as the narrower part of the item before it, a generic leaf ("人数", "合计")
    named with its group."""
    part = _PART.match(column.name)
    in_part_group = any(_is_part_group(g) for g in groups)
    groups = [g for g in groups if not _is_part_group(g)]
    name = column.name[part.end() :] if part else column.name
    if _GENERIC.match(name) and groups and not _CATEGORY.search(groups[-1]):
        # "低保户/户数" is 低保户户数, never 户数 alone.
        name = groups[-1] + ("" if name in ("合计", "小计", "总计", "计") else name)
        groups = groups[:-1]
    parents = [c for c in before if c.part_of is None]
    if (part or in_part_group) and parents:
        parent = parents[-1]
        column.part_of = parent.col
        rest = re.sub(r"男性|女性|[男女]", "", _AGE.sub("", name))
        if not _NOUN_END.search(name) and len(rest) < 3:
            # A qualifier of the item above: "80岁以上" of "60岁以上老人数" is 80岁以上老人数.
            core = parent.name
            if _AGE.search(name):
                core = _AGE.sub("", core) or core
            name = name + core
            column.qualified = True
        column.name = name
        column.match = name
        return column
    column.name = name
    column.match = "/".join([*groups, name])
    return column


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
