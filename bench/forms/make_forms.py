"""Write the forms set: every department form of bench/forms/tune/forms.py and
bench/forms/heldout/forms.py as an .xlsx beside its answer key (.key.json).

    .venv/bin/python -m bench.forms.make_forms

The forms are laid out as district offices send them: blank lines above, a title with its
period, 填报单位 / 填报日期 lines, one- or two-row headers with merged cells (序号 and the
unit's name merged down, group headings merged across, "其中" groups), units in the header
text in several spellings or in a separate unit row, a column-number row (甲 乙 1 2 …), last
period's figures for a few units, a 合计 row, and the 填表人 / 审核人 / 注 lines. The
figures are drawn from a seeded generator, so a re-run writes the same cells."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import random
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from bench.forms.answers import Col, Form, Refusal

HERE = Path(__file__).resolve().parent
HALVES = ("tune", "heldout")
FIXED_TIME = dt.datetime(2026, 12, 1, 9, 0, 0)

COMMUNITIES = [
    "红旗社区",
    "萱花社区",
    "兴龙湖社区",
    "玉屏社区",
    "新建社区",
    "五间村",
    "石脚村",
    "双竹村",
]
STREETS = ["中山路街道", "胜利路街道", "南大街街道", "茶山竹海街道", "大安街道", "陈食街道"]
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def heading(col: Col) -> str:
    """The leaf as the department writes it, with its unit in the form's own spelling."""
    if not col.unit or col.style in ("row", "none"):
        return col.text
    return {
        "full": f"{col.text}（{col.unit}）",
        "half": f"{col.text}({col.unit})",
        "slash": f"{col.text}/{col.unit}",
    }[col.style]


def _names(form: Form, n: int) -> list[list[str]]:
    """The key cells of each data row (without 序号)."""
    rows = []
    for i in range(n):
        community = COMMUNITIES[i % len(COMMUNITIES)]
        if form.row_level == "grid":
            grid = f"{community}第{i % 3 + 1}网格"
            rows.append([community, grid] if len(form.keys) >= 3 else [grid])
        elif form.row_level == "street":
            rows.append([STREETS[i % len(STREETS)]])
        else:
            rows.append([community])
    return rows


def _value(rng: random.Random, col: Col):
    if not col.unit and ("一肩挑" in col.text or col.text.startswith("是否")):
        return rng.choice(["是", "否"])
    scale = 0.3 if col.text.startswith("其中") or col.group.startswith("其中") else 1.0
    unit = col.unit
    if unit == "%":
        return round(rng.uniform(82, 100), 1)
    if unit in ("公里", "万元", "公顷", "平方公里"):
        return round(rng.uniform(1, 60) * scale, 2)
    if unit == "亩":
        return rng.randint(200, 6000)
    if unit in ("人", "人次"):
        return max(0, int(rng.randint(5, 900) * scale))
    if unit == "户":
        return max(0, int(rng.randint(3, 600) * scale))
    return max(0, int(rng.randint(0, 40) * scale))


def write_form(form: Form, path: Path) -> None:
    rng = random.Random(form.id)
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    keys = form.keys
    width = len(keys) + len(form.columns)
    r = 1 + form.top_blank
    ws.cell(r, 1, form.title).font = Font(size=16, bold=True)
    ws.cell(r, 1).alignment = CENTRE
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
    r += 1
    for line in form.subtitle:
        ws.cell(r, 1, line)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    two_rows = any(c.group for c in form.columns)
    head = r
    depth = 2 if two_rows else 1
    for k, text in enumerate(keys, 1):
        ws.cell(head, k, text)
        if depth == 2:
            ws.merge_cells(start_row=head, start_column=k, end_row=head + 1, end_column=k)
    c = len(keys) + 1
    i = 0
    while i < len(form.columns):
        col = form.columns[i]
        if not col.group:
            ws.cell(head, c, heading(col))
            if depth == 2:
                ws.merge_cells(start_row=head, start_column=c, end_row=head + 1, end_column=c)
            i, c = i + 1, c + 1
            continue
        span = 1
        while i + span < len(form.columns) and form.columns[i + span].group == col.group:
            span += 1
        ws.cell(head, c, col.group)
        if span > 1:
            ws.merge_cells(start_row=head, start_column=c, end_row=head, end_column=c + span - 1)
        for j in range(span):
            ws.cell(head + 1, c + j, heading(form.columns[i + j]))
        i, c = i + span, c + span
    r = head + depth
    if form.unit_row:
        ws.cell(r, 1, "单位")
        for j, col in enumerate(form.columns):
            ws.cell(r, len(keys) + 1 + j, col.unit or None)
        r += 1
    if form.number_row:
        for k in range(len(keys)):
            ws.cell(r, k + 1, "甲乙丙丁"[k])
        for j in range(len(form.columns)):
            ws.cell(r, len(keys) + 1 + j, j + 1)
        r += 1
    for y in range(head, r):
        for x in range(1, width + 1):
            ws.cell(y, x).alignment = CENTRE
            ws.cell(y, x).border = BOX
            ws.cell(y, x).font = Font(bold=True)
    totals = [0] * len(form.columns)
    for n, names in enumerate(_names(form, form.rows), 1):
        ws.cell(r, 1, n)
        for k, name in enumerate(names, 2):
            ws.cell(r, k, name)
        for j, col in enumerate(form.columns):
            value = _value(rng, col)
            if col.unit != "%" and not isinstance(value, str):
                totals[j] += value
            ws.cell(r, len(keys) + 1 + j, value)
        r += 1
    ws.cell(r, 1, "合计")
    if len(keys) > 1:
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(keys))
    for j, col in enumerate(form.columns):
        if col.unit != "%" and totals[j]:
            total = totals[j]
            ws.cell(r, len(keys) + 1 + j, round(total, 2) if isinstance(total, float) else total)
    for y in range(head + depth, r + 1):
        for x in range(1, width + 1):
            ws.cell(y, x).border = BOX
    r += 1
    ws.cell(r, 1, "填表人：            审核人：            联系电话：")
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
    for note in form.notes:
        r += 1
        ws.cell(r, 1, note)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
    for x in range(1, width + 1):
        ws.column_dimensions[get_column_letter(x)].width = 14
    _save(wb, path)


STAMP = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
CORE_XML = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties"><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">openpyxl'
    '</dc:creator><dcterms:created xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:W3CDTF">'
    f"{STAMP}</dcterms:created>"
    '<dcterms:modified xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:W3CDTF">'
    f"{STAMP}</dcterms:modified></cp:coreProperties>"
).encode()


def _save(wb: Workbook, path: Path) -> None:
    """Save with fixed times inside the zip too, so that a re-run writes the same bytes and
    the committed files change only when a form does."""
    wb.properties.created = wb.properties.modified = FIXED_TIME
    wb.save(path)
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            # The document properties written whole: openpyxl stamps "modified" with the time
            # of saving, and what it adds depends on state other code in the process may set.
            if name == "docProps/core.xml":
                data = CORE_XML
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)


def write_refusal(refusal: Refusal, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in refusal.rows:
        ws.append(row)
    _save(wb, path)


def key_of(form: Form) -> dict:
    """The answer key: the form's facts and, per sheet column, what the column means."""
    first = len(form.keys) + 1
    return {
        "form": form.id,
        "department": {"code": form.department[0], "name": form.department[1]},
        "title": form.title,
        "period_type": form.period_type,
        "row_level": form.row_level,
        "difficulty": form.difficulty,
        "columns": {
            get_column_letter(first + j): {
                "heading": (f"{col.group}/" if col.group else "") + heading(col),
                "unit": col.unit,
                **col.key,
            }
            for j, col in enumerate(form.columns)
        },
    }


def refusal_key(refusal: Refusal) -> dict:
    return {
        "form": refusal.id,
        "department": {"code": refusal.department[0], "name": refusal.department[1]},
        "refuse": {"why": refusal.why},
    }


def specs(half: str):
    module = importlib.import_module(f"bench.forms.{half}.forms")
    return module.FORMS, module.REFUSALS


def stem(item) -> str:
    return f"{item.id}_{item.department[0]}"


def write_half(half: str) -> list[Path]:
    folder = HERE / half
    forms, refusals = specs(half)
    written = []
    for form in forms:
        path = folder / f"{stem(form)}.xlsx"
        write_form(form, path)
        _dump(key_of(form), path.with_suffix(".key.json"))
        written.append(path)
    for refusal in refusals:
        path = folder / f"{stem(refusal)}.xlsx"
        write_refusal(refusal, path)
        _dump(refusal_key(refusal), path.with_suffix(".key.json"))
        written.append(path)
    return written


def _dump(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    halves = argv or list(HALVES)
    for half in halves:
        paths = write_half(half)
        print(f"{half}: {len(paths)} files in {HERE / half}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
