"""Buildings (实有房屋) from a polygon layer (footprints), a point layer, or CSV/XLSX with
lon/lat columns: each row checked by the building service's own check (code, floors, use,
year, dates, footprint validity), keyed to its grid in SQL, written in bulk. A building
whose code (房屋编码) or key is already there is a re-import: left as it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from grids.models import Building, BuildingUse, today
from grids.problems import Problem
from grids.services.basedata import check_building
from grids.services.basedata.buildings import EARLIEST_YEAR, MAX_FLOORS
from grids.services.imports.places import (
    cell_date,
    far_outside,
    problems_of,
    read_places,
    repeated,
    write_places,
)
from grids.services.imports.quick import QuickRows
from grids.services.imports.report import ImportReport, NullProgress, Progress
from grids.sql.places import BUILDINGS, staged_columns

BUILDING_FIELDS = (
    "code",
    "name",
    "floors",
    "use",
    "built_year",
    "address",
    "lon",
    "lat",
    "client_key",
    "registered_on",
    "removed_on",
)
BUILDING_GUESSES = {
    "code": ["code", "房屋编码", "建筑编码", "楼栋编码", "房屋编号", "编码", "fwbm"],
    "name": ["name", "名称", "房屋名称", "建筑名称", "楼栋名称", "mc"],
    "floors": ["floors", "层数", "楼层数", "地上层数", "总层数", "cs"],
    "use": ["use", "用途", "房屋用途", "建筑用途", "房屋类型", "yt"],
    "built_year": ["built_year", "建成年份", "建成年代", "建造年份", "竣工年份", "jcnf"],
    "address": ["address", "地址", "房屋地址", "标准地址", "坐落", "dz"],
    "lon": ["lon", "lng", "longitude", "经度", "x"],
    "lat": ["lat", "latitude", "纬度", "y"],
    "client_key": ["client_key", "key"],
    "registered_on": ["registered_on", "登记日期", "采集日期"],
    "removed_on": ["removed_on", "注销日期", "拆除日期"],
}
CODE_LIMIT = Building._meta.get_field("code").max_length
KEY_LIMIT = Building._meta.get_field("client_key").max_length
# The words registers use for a building's use; the codes are their own words.
USE_WORDS = {
    "住宅": BuildingUse.RESIDENTIAL,
    "居住": BuildingUse.RESIDENTIAL,
    "民房": BuildingUse.RESIDENTIAL,
    "商业": BuildingUse.COMMERCIAL,
    "商用": BuildingUse.COMMERCIAL,
    "商铺": BuildingUse.COMMERCIAL,
    "办公": BuildingUse.COMMERCIAL,
    "商住": BuildingUse.MIXED,
    "商住混合": BuildingUse.MIXED,
    "综合": BuildingUse.MIXED,
    "公共": BuildingUse.PUBLIC,
    "公共建筑": BuildingUse.PUBLIC,
    "公建": BuildingUse.PUBLIC,
    "工业": BuildingUse.INDUSTRIAL,
    "厂房": BuildingUse.INDUSTRIAL,
    "仓储": BuildingUse.INDUSTRIAL,
    "其他": BuildingUse.OTHER,
    **{str(label): value for value, label in BuildingUse.choices},
    **{value: value for value in BuildingUse.values},
}


def import_buildings(
    path: str | Path,
    *,
    layer: str | None = None,
    fields: dict[str, str] | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    commit: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Buildings from footprints, points or a table with lon/lat. Dry run unless `commit`."""
    progress = progress or NullProgress()
    report = ImportReport(kind="building", source=str(path))
    progress.stage("reading", None)
    read = read_places(
        path,
        kind="building",
        known=BUILDING_FIELDS,
        guesses=BUILDING_GUESSES,
        required=("code",),
        layer=layer,
        fields=fields,
        source_crs=source_crs,
        encoding=encoding,
        report=report,
    )
    if read is None:
        return report
    progress.stage("checking", len(read.rows))
    quick = QuickRows(read)
    quick.text("code", CODE_LIMIT, required=True)
    quick.text("name", 100)
    quick.text("address", 255)
    quick.text("client_key", KEY_LIMIT)
    quick.whole("floors", 1, MAX_FLOORS)
    quick.whole("built_year", EARLIEST_YEAR, today().year)
    quick.mapped("use", USE_WORDS, BuildingUse.values, BuildingUse.RESIDENTIAL)
    quick.dates()
    quick.place(footprints=True)
    columns = staged_columns(BUILDINGS)
    slow = [_checked(read, i, report) for i in np.flatnonzero(~quick.ok)]
    staged = pd.concat(
        [quick.frame(columns), pd.DataFrame([r for r in slow if r], columns=list(columns))]
    ).sort_values("row", ignore_index=True)
    progress.advance(len(read.rows))
    staged["client_key"] = staged["client_key"].replace("", None)
    bad = far_outside(staged, read, report)
    bad |= repeated(staged, "code", report, _("building code"))
    bad |= repeated(staged, "client_key", report, _("key"))
    if report.errors:
        return report
    for name in ("floors", "built_year"):
        staged[name] = pd.array(staged[name], dtype="Int64")
    return write_places(
        BUILDINGS, Building, "buildings", staged, commit=commit, progress=progress, report=report
    )


def _checked(read, i: int, report: ImportReport) -> dict | None:
    """Row i through the building service's own check: its staged values, or None with its
    problems (field, value, reason) in the report."""
    row = int(read.rows[i])
    values = read.values(i)
    values["footprint"], values["location"] = read.geos(i)
    use = values.get("use", "")
    values["use"] = USE_WORDS.get(use.strip(), use) if use else None
    for name in ("registered_on", "removed_on"):
        values[name] = cell_date(values.get(name, ""), row, name, report)
    key = values.get("client_key", "")
    if len(key) > KEY_LIMIT:
        report.problems.append(
            Problem(
                "too_long",
                _("%(n)d characters, at most %(max)d") % {"n": len(key), "max": KEY_LIMIT},
                row=row,
                field="client_key",
                value=key,
            )
        )
    cleaned, problems = check_building(values, row=row)
    if problems_of(report, problems) or len(key) > KEY_LIMIT:
        return None
    footprint = cleaned.get("footprint")
    return {
        "row": row,
        "lon": cleaned["location"].x,
        "lat": cleaned["location"].y,
        "footprint": footprint.wkt if footprint is not None else None,
        **{name: cleaned.get(name) for name in ("code", "name", "floors", "use", "built_year")},
        "address": cleaned["address"],
        "client_key": key or None,
        "registered_on": cleaned["registered_on"],
        "removed_on": cleaned.get("removed_on"),
    }
