"""Units (实有单位) from a point layer or CSV/XLSX with lon/lat columns: each row checked by
the unit service's own check (type from the catalogue by code or Chinese name, 统一社会信用代码
check character, phone, employees, dates), linked to its building by the building's code
(房屋编码) when given, keyed to its grid in SQL, written in bulk. A unit whose key is
already there is a re-import: left as it is."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.utils.translation import gettext as _

from grids.models import Building, Unit
from grids.problems import Problem
from grids.services.basedata import UnitTypes, check_unit
from grids.services.imports.places import (
    cell_date,
    check_district,
    duplicate_problems,
    problems_of,
    read_places,
    write_places,
)
from grids.services.imports.report import ImportReport, NullProgress, Progress
from grids.sql.places import UNITS, staged_columns

UNIT_FIELDS = (
    "name",
    "type",
    "credit_code",
    "legal_person",
    "contact_phone",
    "employees",
    "address",
    "building_code",
    "lon",
    "lat",
    "client_key",
    "registered_on",
    "removed_on",
)
UNIT_GUESSES = {
    "name": ["name", "单位名称", "名称", "企业名称", "机构名称", "店名", "dwmc", "mc"],
    "type": ["type", "单位类型", "类型", "单位类别", "类别", "行业类别", "dwlx"],
    "credit_code": [
        "credit_code",
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "组织机构代码",
        "tyshxydm",
    ],
    "legal_person": ["legal_person", "法定代表人", "法人", "负责人", "法人代表", "经营者", "fddbr"],
    "contact_phone": ["contact_phone", "联系电话", "电话", "联系方式", "手机", "lxdh"],
    "employees": ["employees", "从业人数", "从业人员", "职工人数", "员工人数", "人数", "cyrs"],
    "address": ["address", "地址", "单位地址", "经营地址", "注册地址", "dz"],
    "building_code": ["building_code", "房屋编码", "所在房屋", "楼栋编码", "fwbm"],
    "lon": ["lon", "lng", "longitude", "经度", "x"],
    "lat": ["lat", "latitude", "纬度", "y"],
    "client_key": ["client_key", "key", "单位编号", "编号", "dwbh"],
    "registered_on": ["registered_on", "登记日期", "成立日期", "采集日期"],
    "removed_on": ["removed_on", "注销日期", "歇业日期"],
}


def import_units(
    path: str | Path,
    *,
    layer: str | None = None,
    fields: dict[str, str] | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    commit: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Units from points or a table with lon/lat. Dry run unless `commit`."""
    progress = progress or NullProgress()
    report = ImportReport(kind="unit", source=str(path))
    progress.stage("reading", None)
    read = read_places(
        path,
        kind="unit",
        known=UNIT_FIELDS,
        guesses=UNIT_GUESSES,
        required=("name", "type"),
        layer=layer,
        fields=fields,
        source_crs=source_crs,
        encoding=encoding,
        report=report,
    )
    if read is None:
        return report
    progress.stage("checking", len(read.rows))
    types = UnitTypes()
    codes = set(read.cells["building_code"]) - {""} if "building_code" in read.cells else set()
    buildings = dict(Building.objects.filter(code__in=codes).values_list("code", "pk"))
    checked = []
    for i, row in enumerate(read.rows.tolist()):
        values = {name: cells.iat[i] for name, cells in read.cells.items()}
        values["location"] = read.points[i]
        if read.footprints[i] is not None:
            values["location"] = read.footprints[i]  # the check names it: not a point
        for name in ("registered_on", "removed_on"):
            values[name] = cell_date(values.get(name, ""), row, name, report)
        code = values.pop("building_code", "")
        building = buildings.get(code) if code else None
        if code and building is None:
            report.problems.append(
                Problem(
                    "unknown_building",
                    _("no building has the code %(code)s (import the buildings first)")
                    % {"code": code},
                    row=row,
                    field="building_code",
                    value=code,
                )
            )
        cleaned, problems = check_unit(values, row=row, types=types)
        if problems_of(report, problems) or cleaned.get("location") is None:
            continue
        cleaned["client_key"] = values.get("client_key") or None
        cleaned["building_id"] = building
        checked.append((row, cleaned))
    progress.advance(len(read.rows))
    checked = check_district(checked, read, report)
    repeated = duplicate_problems(checked, "client_key", report, _("key"))
    if report.errors:
        return report
    staged = pd.DataFrame(
        [
            {
                "row": row,
                "lon": f["location"].x,
                "lat": f["location"].y,
                "name": f["name"],
                "type_id": f["type"].pk,
                "credit_code": f["credit_code"],
                "legal_person": f["legal_person"],
                "contact_phone": f["contact_phone"],
                "employees": f.get("employees"),
                "address": f["address"],
                "building_id": f["building_id"],
                "client_key": f["client_key"],
                "registered_on": f["registered_on"],
                "removed_on": f.get("removed_on"),
            }
            for row, f in checked
            if row not in repeated
        ],
        columns=list(staged_columns(UNITS)),
    )
    for name in ("employees", "building_id", "type_id"):
        staged[name] = staged[name].astype("Int64")
    return write_places(
        UNITS, Unit, "units", staged, commit=commit, progress=progress, report=report
    )
