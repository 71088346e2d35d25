"""Units (实有单位) from a point layer or CSV/XLSX with lon/lat columns: each row checked by
the unit service's own check (type from the catalogue by code or Chinese name, 统一社会信用代码
check character, phone, employees, dates), linked to its building by the building's code
(房屋编码) when given, keyed to its grid in SQL, written in bulk. A unit whose key is
already there is a re-import: left as it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from grids.models import Building, Unit
from grids.problems import Problem
from grids.services.basedata import UnitTypes, check_unit
from grids.services.basedata.units import MAX_EMPLOYEES, PHONE
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
from grids.sql.places import UNITS, staged_columns

KEY_LIMIT = Unit._meta.get_field("client_key").max_length
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
    quick = QuickRows(read)
    quick.text("name", 200, required=True)
    quick.text("legal_person", 50)
    quick.text("contact_phone", 20)
    quick.text("address", 255)
    quick.text("client_key", KEY_LIMIT)
    quick.whole("employees", 0, MAX_EMPLOYEES)
    active = {key: t.pk for key, t in types.by_key.items() if t.active}
    quick.mapped("type", active, set(active.values()), None)
    quick.values["type_id"] = quick.values.pop("type")
    phones = quick.cell("contact_phone")
    quick.ok &= ((phones == "") | phones.str.match(PHONE.pattern)).to_numpy(bool)
    # Credit codes are rare and their check character needs the whole code: the slow way.
    quick.ok &= (quick.cell("credit_code") == "").to_numpy()
    quick.values["credit_code"] = quick.cell("credit_code").to_numpy(object)
    building_codes = quick.cell("building_code")
    quick.ok &= (building_codes == "").to_numpy()
    quick.values["building_id"] = np.full(len(read.rows), None, dtype=object)
    quick.dates()
    quick.place(footprints=False)
    columns = staged_columns(UNITS)
    slow = [_checked(read, i, types, buildings, report) for i in np.flatnonzero(~quick.ok)]
    staged = pd.concat(
        [quick.frame(columns), pd.DataFrame([r for r in slow if r], columns=list(columns))]
    ).sort_values("row", ignore_index=True)
    progress.advance(len(read.rows))
    staged["client_key"] = staged["client_key"].replace("", None)
    bad = far_outside(staged, read, report)
    bad |= repeated(staged, "client_key", report, _("key"))
    if report.errors:
        return report
    for name in ("employees", "building_id", "type_id"):
        staged[name] = pd.array(staged[name], dtype="Int64")
    return write_places(
        UNITS, Unit, "units", staged, commit=commit, progress=progress, report=report
    )


def _checked(read, i: int, types, buildings: dict, report: ImportReport) -> dict | None:
    """Row i through the unit service's own check: its staged values, or None with its
    problems (field, value, reason) in the report."""
    row = int(read.rows[i])
    values = read.values(i)
    footprint, point = read.geos(i)
    values["location"] = point or footprint  # the check names a polygon: not a point
    for name in ("registered_on", "removed_on"):
        values[name] = cell_date(values.get(name, ""), row, name, report)
    code = values.pop("building_code", "")
    building = buildings.get(code) if code else None
    ok = True
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
        ok = False
    key = values.pop("client_key", "")
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
        ok = False
    cleaned, problems = check_unit(values, row=row, types=types)
    if problems_of(report, problems) or not ok:
        return None
    return {
        "row": row,
        "lon": cleaned["location"].x,
        "lat": cleaned["location"].y,
        "name": cleaned["name"],
        "type_id": cleaned["type"].pk,
        **{name: cleaned[name] for name in ("credit_code", "legal_person", "contact_phone")},
        "employees": cleaned.get("employees"),
        "address": cleaned["address"],
        "building_id": building,
        "client_key": key or None,
        "registered_on": cleaned["registered_on"],
        "removed_on": cleaned.get("removed_on"),
    }
