"""One-click reports (报表一键生成): a department's template filled for a period and a
jurisdiction from the shared indicators, as a table, an .xlsx in the department's own layout,
or CSV. Rows are the units valid in that period (boundary versions, decision 3)."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from grids.models import Region
from grids.problems import Problem, ProblemsError
from reports.models import Indicator, ReportRun, ReportTemplate, TemplateColumn
from reports.periods import MONTHS, Period
from reports.services.values import Values, display, displayer, tree_under

LEVEL_NAMES = {"grid": "网格", "community": "社区", "street": "街道（镇）", "district": "区县"}


@dataclass
class Column:
    order: int
    heading: str
    indicator: Indicator

    def as_dict(self) -> dict:
        ind = self.indicator
        return {
            "order": self.order,
            "heading": self.heading,
            "indicator": ind.code,
            "name": ind.name,
            "unit": ind.unit,
            "value_type": ind.value_type,
            "source": ind.source,
            "level": ind.level,
        }


@dataclass
class Row:
    pk: int
    code: str
    name: str
    parent: str
    values: list
    ancestor: str = ""  # the parent's parent: a grid's street


@dataclass
class ReportTable:
    template: ReportTemplate
    period: Period
    region: Region
    level: str
    on: object
    columns: list[Column]
    rows: list[Row]
    total: list
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "template": self.template.code,
            "title": self.template.title,
            "period": self.period.key,
            "period_label": self.period.label,
            "region": {"id": self.region.pk, "code": self.region.code, "name": self.region.name},
            "row_level": self.level,
            "boundaries_on": self.on.isoformat(),
            "columns": [c.as_dict() for c in self.columns],
            "rows": [
                {"id": r.pk, "code": r.code, "name": r.name, "parent": r.parent, "values": r.values}
                for r in self.rows
            ],
            "total": self.total,
            "notes": self.notes,
        }


def check_template(template: ReportTemplate, period: Period) -> list[TemplateColumn]:
    """The template's columns, refused with a problem per column if it cannot be filled."""
    columns = list(template.columns.select_related("indicator__weight").order_by("order"))
    problems = []
    if not columns:
        problems.append(Problem("no_columns", f"{template.title} has no columns", field="columns"))
    if MONTHS[period.type] < MONTHS[template.period_type]:
        problems.append(
            Problem(
                "wrong_period",
                f"{template.title} is a {template.get_period_type_display()} report; "
                f"{period.key} is a shorter period",
                field="period",
            )
        )
    for column in columns:
        indicator = column.indicator
        if indicator.retired(period.start):
            problems.append(
                Problem(
                    "retired_indicator",
                    _("column %(order)s (%(heading)s) uses %(code)s, retired on %(date)s")
                    % {
                        "order": column.order,
                        "heading": column.heading or indicator.name,
                        "code": indicator.code,
                        "date": indicator.retired_on,
                    },
                    field=f"columns.{column.order}",
                )
            )
    if problems:
        raise ProblemsError(problems)
    return columns


def build_table(
    template: ReportTemplate, period: Period, region: Region, *, snapshots: bool = True
) -> ReportTable:
    """The report's values: one row per unit of the template's row level under `region`
    valid in `period`, one column per template column, and the total of the region.
    `snapshots=False` computes every derived figure of a past period afresh instead of
    reading the kept ones (the bench's full computation; the figures are the same)."""
    columns = check_template(template, period)
    on = min(period.last_day, timezone.localdate())
    tree = tree_under(region, on)
    values = Values(
        tree, period, together=frozenset(c.indicator_id for c in columns), snapshots=snapshots
    )
    level = template.row_level
    units = tree.under(level)
    regions = {u.pk: u for lv in ("community", "street", "district") for u in tree.under(lv)}
    notes = []
    grid = []
    totals = []
    for column in columns:
        indicator = column.indicator
        try:
            cells = values.at(indicator, level)
            total = values.at(indicator, region.level).get(region.pk)
        except LookupError as error:
            raise ProblemsError(
                [Problem("unknown_derivation", str(error), field=f"columns.{column.order}")]
            ) from error
        if not cells and level != indicator.level and indicator.level != "grid":
            notes.append(
                f"{column.heading or indicator.name}: collected per "
                f"{LEVEL_NAMES[indicator.level]}, so there is no value per {LEVEL_NAMES[level]}"
            )
        show = displayer(indicator, level != indicator.level)
        grid.append([show(cells[u.pk].value) if u.pk in cells else None for u in units])
        totals.append(display(indicator, total.value, True) if total else None)

    def name(pk):
        return regions[pk].name if pk in regions else ""

    rows = [
        Row(
            u.pk,
            u.code,
            u.name,
            name(u.parent),
            [col[i] for col in grid],
            name(regions[u.parent].parent) if u.parent in regions else "",
        )
        for i, u in enumerate(units)
    ]
    return ReportTable(
        template=template,
        period=period,
        region=region,
        level=level,
        on=on,
        columns=[Column(c.order, c.heading or c.indicator.name, c.indicator) for c in columns],
        rows=rows,
        total=totals,
        notes=notes,
    )


def generate(
    template: ReportTemplate, period: Period, region: Region, *, user=None, format: str = "json"
) -> tuple[ReportTable, bytes | None]:
    """Build the report, render it in `format` (json, xlsx or csv) and log the run."""
    started = time.perf_counter()
    table = build_table(template, period, region)
    content = None
    if format == "xlsx":
        content = to_xlsx(table)
    elif format == "csv":
        content = to_csv(table)
    ReportRun.objects.create(
        template=template,
        period_type=period.type,
        period_start=period.start,
        region=region,
        format=format,
        rows=len(table.rows),
        milliseconds=round((time.perf_counter() - started) * 1000),
        by=user if user is not None and user.is_authenticated else None,
    )
    return table, content


def filename(table: ReportTable, ext: str) -> str:
    return f"{table.template.title}-{table.region.name}-{table.period.key}.{ext}"


# ---- CSV -------------------------------------------------------------------------------


def to_csv(table: ReportTable) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    unit_name = LEVEL_NAMES[table.level]
    writer.writerow(
        ["序号", f"{unit_name}编码", unit_name, "上级"]
        + [_heading_with_unit(c) for c in table.columns]
    )
    for i, row in enumerate(table.rows, 1):
        writer.writerow([i, row.code, row.name, row.parent] + [_csv(v) for v in row.values])
    writer.writerow(
        ["合计", table.region.code, table.region.name, ""] + [_csv(v) for v in table.total]
    )
    # A BOM so that Excel opens the Chinese text as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv(value):
    return "" if value is None else value


def _heading_with_unit(column: Column) -> str:
    unit = column.indicator.unit
    return f"{column.heading}（{unit}）" if unit and unit not in column.heading else column.heading


# ---- Excel in the department's layout ----------------------------------------------------

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def default_layout(table: ReportTable) -> dict:
    """A plain layout for a template defined on the platform: 序号, unit name, then one
    column per indicator with its unit, in one header row."""
    heads = ["序号", LEVEL_NAMES[table.level]] + [_heading_with_unit(c) for c in table.columns]
    return {
        "title": table.template.title,
        "header": [
            {"text": text, "row": 0, "col": i, "rowspan": 1, "colspan": 1}
            for i, text in enumerate(heads)
        ],
        "header_rows": 1,
        "key_columns": [{"col": 0, "kind": "index"}, {"col": 1, "kind": "name"}],
        "columns": {str(c.order): i + 2 for i, c in enumerate(table.columns)},
        "width": len(heads),
        "footer": ["填报单位：{unit}", "审核人：", "填报日期：{date}"],
    }


def layout_of(table: ReportTable) -> dict:
    layout = table.template.layout or {}
    if not layout.get("header"):
        return default_layout(table)
    return layout


def to_xlsx(table: ReportTable) -> bytes:
    """The report in its department's own layout: the title across the width, the
    (multi-row, merged) header as it was brought in, one row per unit, the total, and the
    footer with the reporting unit and the date."""
    layout = layout_of(table)
    width = int(layout.get("width") or 1)
    header_rows = int(layout.get("header_rows") or 1)
    wb = Workbook()
    ws = wb.active
    ws.title = table.period.key
    title = (layout.get("title") or table.template.title).replace("{period}", table.period.label)
    ws.cell(1, 1, title).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = CENTRE
    if width > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(2, 1, f"填报单位：{table.region.name}    统计期：{table.period.label}")
    if width > 1:
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    top = 3
    for cell in layout["header"]:
        r, c = top + int(cell["row"]), 1 + int(cell["col"])
        target = ws.cell(r, c, cell.get("text", ""))
        target.font = Font(bold=True)
        rowspan, colspan = int(cell.get("rowspan", 1)), int(cell.get("colspan", 1))
        if rowspan > 1 or colspan > 1:
            ws.merge_cells(
                start_row=r, start_column=c, end_row=r + rowspan - 1, end_column=c + colspan - 1
            )
    for r in range(top, top + header_rows):
        for c in range(1, width + 1):
            ws.cell(r, c).border = BOX
            ws.cell(r, c).alignment = CENTRE
    placement = {int(order): int(col) for order, col in (layout.get("columns") or {}).items()}
    keys = layout.get("key_columns") or []
    first = top + header_rows
    body = [
        (i, row.code, row.name, row.parent, row.ancestor, row.values)
        for i, row in enumerate(table.rows, 1)
    ]
    body.append(("合计", table.region.code, table.region.name, "", "", table.total))
    for offset, (index, code, name, parent, ancestor, values) in enumerate(body):
        r = first + offset
        for key in keys:
            value = {
                "index": index,
                "code": code,
                "name": name,
                "parent": parent,
                "ancestor": ancestor,
            }.get(key["kind"])
            ws.cell(r, 1 + int(key["col"]), value)
        for column, value in zip(table.columns, values, strict=True):
            if column.order in placement:
                ws.cell(r, 1 + placement[column.order], value)
        for c in range(1, width + 1):
            ws.cell(r, c).border = BOX
    last = first + len(body)
    footer = layout.get("footer") or []
    if footer:
        text = "    ".join(footer)
        for name, value in (
            ("{unit}", table.region.name),
            ("{date}", timezone.localdate().isoformat()),
            ("{period}", table.period.label),
        ):
            text = text.replace(name, value)
        ws.cell(last + 1, 1, text)
        if width > 1:
            ws.merge_cells(start_row=last + 1, start_column=1, end_row=last + 1, end_column=width)
    for c in range(1, width + 1):
        ws.column_dimensions[get_column_letter(c)].width = 14 if c > 2 else 10
    ws.freeze_panes = ws.cell(first, 1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
