"""Buildings (实有房屋) from a polygon layer (footprints), a point layer, or CSV/XLSX with
lon/lat columns: each row checked by the building service's own check (code, floors, use,
year, dates, footprint validity), keyed to its grid in SQL, written in bulk. A building
whose code (房屋编码) or key is already there is a re-import: left as it is."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.utils.translation import gettext as _

from grids.models import Building, BuildingUse
from grids.services.basedata import check_building
from grids.services.imports.places import (
    cell_date,
    check_district,
    duplicate_problems,
    problems_of,
    read_places,
    write_places,
)
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
    checked = []
    for i, row in enumerate(read.rows.tolist()):
        values = {name: cells.iat[i] for name, cells in read.cells.items()}
        values["footprint"], values["location"] = read.footprints[i], read.points[i]
        use = values.get("use", "")
        values["use"] = USE_WORDS.get(use.strip(), use) if use else None
        for name in ("registered_on", "removed_on"):
            values[name] = cell_date(values.get(name, ""), row, name, report)
        cleaned, problems = check_building(values, row=row)
        if problems_of(report, problems) or cleaned.get("location") is None:
            continue
        cleaned["client_key"] = values.get("client_key") or None
        checked.append((row, cleaned))
    progress.advance(len(read.rows))
    checked = check_district(checked, read, report)
    repeated = duplicate_problems(checked, "code", report, _("building code"))
    repeated |= duplicate_problems(checked, "client_key", report, _("key"))
    if report.errors:
        return report
    staged = pd.DataFrame(
        [
            {
                "row": row,
                "lon": f["location"].x,
                "lat": f["location"].y,
                "footprint": f["footprint"].wkt if f.get("footprint") is not None else None,
                "code": f["code"],
                "name": f["name"],
                "floors": f["floors"],
                "use": f["use"],
                "built_year": f["built_year"],
                "address": f["address"],
                "client_key": f["client_key"],
                "registered_on": f["registered_on"],
                "removed_on": f.get("removed_on"),
            }
            for row, f in checked
            if row not in repeated
        ],
        columns=list(staged_columns(BUILDINGS)),
    )
    for name in ("floors", "built_year"):
        staged[name] = staged[name].astype("Int64")
    return write_places(
        BUILDINGS,
        Building,
        "buildings",
        staged,
        commit=commit,
        progress=progress,
        report=report,
    )
