"""Devices from the files people have: GeoPackage, GeoJSON or Shapefile points, or CSV/XLSX
with lon/lat columns, read with the foundation's importers (grids.services.imports).

Columns: code, type (a type code), name, department (code), gateway (code), installed_on,
status, and the properties either as `prop_<name>` columns or as one `properties` column of
JSON (both: the `prop_` cells win). Text cells are coerced to the number, integer or
boolean the type's schema asks for.

All or nothing: every bad row is reported (row, field, reason) and nothing is written
(ImportAborted carries the report). A code already registered is the same device
corrected: it is updated in place (location, grid, properties, coverage; an empty optional
cell keeps the registered value), so a fixed file can be imported again. A dry run does
everything in the transaction and rolls it back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.db import transaction
from django.utils.translation import gettext as _

from grids import limits, scoping
from grids.models import Department, Level, Region, today
from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services import imports as grid_imports
from grids.services.imports import ImportAborted, ImportReport, point_lonlat, read_points
from grids.signals import announce
from sensors.models import Gateway, Role, Sensor, SensorType, Status
from sensors.services.registry import (
    ARC_STEP_DEGREES,
    CIRCLE_VERTICES,
    GEOD,
    schema_problems,
    types_for_district,
)
from sensors.sql.imports import copy_sensors

PROPERTY_PREFIX = "prop_"
# Our fields beyond the foundation's guesses (code, name, lon, lat), with the column names
# people use for them.
COLUMN_GUESSES = {
    "type": ["type", "类型", "type_code", "lx"],
    "department": ["department", "部门", "dept", "bm"],
    "gateway": ["gateway", "网关"],
    "installed_on": ["installed_on", "installed", "安装日期"],
    "status": ["status", "状态", "zt"],
    "properties": ["properties", "属性"],
}
# Problems of one check listed per import; the count beyond is summed up.
LIST_LIMIT = 200
CODE_LENGTH = Sensor._meta.get_field("code").max_length
NAME_LENGTH = Sensor._meta.get_field("name").max_length
TRUE = {"true", "1", "yes", "y", "t", "是", "有"}
FALSE = {"false", "0", "no", "n", "f", "否", "无"}


@dataclass
class SensorImportReport(ImportReport):
    """The foundation's report, with the devices updated in place."""

    updated: int = 0

    def as_dict(self) -> dict:
        return {**super().as_dict(), "updated": self.updated}


class _Problems:
    """Collects problems, at most LIST_LIMIT per code, and marks their rows bad."""

    def __init__(self, report: ImportReport, n: int):
        self.report = report
        self.bad = np.zeros(n, dtype=bool)
        self.counts: dict[str, int] = {}

    def add(self, i: int, row: int, code: str, message: str, field: str, feature=None) -> None:
        self.bad[i] = True
        self.counts[code] = self.counts.get(code, 0) + 1
        if self.counts[code] <= LIST_LIMIT:
            self.report.problems.append(
                Problem(code, message, row=int(row), field=field, feature=feature or None)
            )

    def summarise(self) -> None:
        for code, count in self.counts.items():
            if count > LIST_LIMIT:
                self.report.problems.append(
                    Problem(
                        code,
                        _("%(n)d more rows with this problem") % {"n": count - LIST_LIMIT},
                    )
                )


def _column(columns, name: str) -> str | None:
    lower = {str(c).lower(): c for c in columns if c != "geometry"}
    for guess in COLUMN_GUESSES[name]:
        if guess.lower() in lower:
            return lower[guess.lower()]
    return None


def _is_empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def coerce(value, kind: str | list | None):
    """A cell as the JSON type the schema asks for; raises ValueError with the reason."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(kind, list):  # ["number", "null"]: the first non-null
        kind = next((k for k in kind if k != "null"), None)
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            raise ValueError(_("expected a number"))
        if isinstance(value, str):
            try:
                value = float(value.strip().replace(",", ""))
            except ValueError as exc:
                raise ValueError(_("'%(value)s' is not a number") % {"value": value}) from exc
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(_("'%(value)s' is not a number") % {"value": value})
        if kind == "integer":
            if float(value) != int(value):
                raise ValueError(_("'%(value)s' is not a whole number") % {"value": value})
            return int(value)
        return int(value) if float(value).is_integer() and isinstance(value, int) else value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(_("'%(value)s' is not yes or no") % {"value": value})
    if kind == "string":
        return str(value).strip() if not isinstance(value, str) else value.strip()
    return value.strip() if isinstance(value, str) else value


def _properties(
    sensor_type: SensorType, raw_json, cells: dict[str, object], i: int, row: int, problems
) -> dict | None:
    properties: dict = {}
    if not _is_empty(raw_json):
        try:
            parsed = limits.load_json(raw_json) if isinstance(raw_json, str) else raw_json
        except ValueError as exc:
            message = _("properties is not JSON: %(reason)s") % {"reason": exc}
            problems.add(i, row, "bad_json", message, "properties")
            return None
        if not isinstance(parsed, dict):
            message = _("properties is not a JSON object")
            problems.add(i, row, "not_an_object", message, "properties")
            return None
        properties.update(parsed)
    declared = sensor_type.properties_schema.get("properties", {})
    ok = True
    for name, value in cells.items():
        if _is_empty(value):
            continue
        try:
            properties[name] = coerce(value, declared.get(name, {}).get("type"))
        except ValueError as exc:
            problems.add(i, row, "bad_value", str(exc), f"properties.{name}")
            ok = False
    return properties if ok else None


# --- coverage, vectorised ------------------------------------------------------------------


def coverage_hex(roles, lon, lat, props: list[dict]) -> np.ndarray:
    """Each device's coverage as hex EWKB (None for roles without one): the same sector and
    circle outlines as registry.coverage_for, computed with one Geod call per shape size."""
    n = len(roles)
    out = np.full(n, None, dtype=object)
    rings: dict[int, tuple[list[int], list]] = {}  # vertex count -> (indexes, azimuths/ranges)
    for i in range(n):
        p = props[i]
        if roles[i] == Role.CAMERA:
            bearing, fov, reach = float(p["bearing"]), float(p["fov"]), float(p["range"])
            if fov >= 360:
                azimuths = np.linspace(0, 360, CIRCLE_VERTICES, endpoint=False)
                key = -CIRCLE_VERTICES
            else:
                steps = max(2, int(np.ceil(fov / ARC_STEP_DEGREES)) + 1)
                azimuths = np.linspace(bearing - fov / 2, bearing + fov / 2, steps)
                key = steps
        elif roles[i] == Role.VOICE_POLE:
            reach = float(p["broadcast_radius"])
            azimuths = np.linspace(0, 360, CIRCLE_VERTICES, endpoint=False)
            key = -CIRCLE_VERTICES
        else:
            continue
        indexes, rows = rings.setdefault(key, ([], []))
        indexes.append(i)
        rows.append((azimuths, reach))
    for key, (indexes, rows) in rings.items():
        idx = np.asarray(indexes)
        azimuths = np.vstack([a for a, _r in rows])
        reach = np.repeat(np.array([r for _a, r in rows])[:, None], azimuths.shape[1], axis=1)
        x = np.repeat(lon[idx][:, None], azimuths.shape[1], axis=1)
        y = np.repeat(lat[idx][:, None], azimuths.shape[1], axis=1)
        ex, ey, _back = GEOD.fwd(x, y, azimuths, reach)
        if key < 0:  # a circle: closed on its first vertex
            xs = np.hstack([ex, ex[:, :1]])
            ys = np.hstack([ey, ey[:, :1]])
        else:  # a sector: from the device round the arc and back
            xs = np.hstack([lon[idx][:, None], ex, lon[idx][:, None]])
            ys = np.hstack([lat[idx][:, None], ey, lat[idx][:, None]])
        polygons = shapely.polygons(np.stack([xs, ys], axis=-1))
        polygons = shapely.set_srid(polygons, 4326)
        out[idx] = shapely.to_wkb(polygons, hex=True, include_srid=True)
    return out


# --- the import ----------------------------------------------------------------------------


def _read(path: Path, layer, encoding, source_crs, report):
    """(frame, lon, lat, source crs, first row number), or None when unreadable."""
    read = read_points(path, layer=layer, encoding=encoding, report=report)
    if read is None:
        return None
    frame, is_table = read
    try:
        if is_table:
            source = crs_service.normalise(source_crs) or crs_service.WGS84
        else:
            source = grid_imports.source_crs(frame, source_crs, report)
    except crs_service.UnknownCRS as exc:
        report.problems.append(Problem("unknown_crs", str(exc), field="crs"))
        return None
    if is_table:
        columns = grid_imports.resolve_fields(
            frame.columns, {"lon": None, "lat": None}, ("lon", "lat"), report
        )
        if report.errors:
            return None
        lon = pd.to_numeric(frame[columns["lon"]], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame[columns["lat"]], errors="coerce").to_numpy(float)
        return frame, lon, lat, source, 2, np.zeros(len(frame), dtype=bool)
    lon, lat, not_point = point_lonlat(frame.geometry.values, report)
    return frame, lon, lat, source, 1, not_point


def import_sensors(
    path: str | Path,
    *,
    district: Region | str | None = None,
    user=None,
    layer: str | None = None,
    encoding: str | None = None,
    source_crs: str | None = None,
    dry_run: bool = False,
    source_name: str | None = None,
) -> SensorImportReport:
    """Register (or correct) devices from a file, all or nothing; raises ImportAborted with
    the report when any row is bad. `district` (a region or its code) is where the devices
    must lie; by default the user's district, else any district of the platform."""
    path = Path(path)
    report = SensorImportReport(kind="sensor", source=source_name or str(path))
    district_id = _district_id(district, user, report)
    if report.errors:
        raise ImportAborted(report)
    read = _read(path, layer, encoding, source_crs, report)
    if read is None:
        raise ImportAborted(report)
    frame, lon, lat, source, first_row, not_point = read
    n = report.total = len(frame)
    rows = np.arange(first_row, first_row + n)
    columns = grid_imports.resolve_fields(
        frame.columns, {"code": None, "name": None}, ("code",), report
    )
    for name in COLUMN_GUESSES:
        if (found := _column(frame.columns, name)) is not None:
            columns[name] = found
    if "type" not in columns:
        report.problems.append(
            Problem("missing_field", _("no column for the sensor type (type)"), field="type")
        )
    if report.errors:
        raise ImportAborted(report)
    problems = _Problems(report, n)
    problems.bad |= not_point

    codes = grid_imports.text(frame[columns["code"]], number=True).to_numpy(object)
    type_codes = grid_imports.text(frame[columns["type"]]).to_numpy(object)
    names = (
        grid_imports.text(frame[columns["name"]]).to_numpy(object) if "name" in columns else None
    )
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if not code:
            problems.add(i, rows[i], "missing_value", "code is empty", "code")
        elif len(code) > CODE_LENGTH:
            problems.add(
                i,
                rows[i],
                "too_long",
                _("code has %(n)d characters, at most 64") % {"n": len(code)},
                "code",
            )
        elif code in seen:
            problems.add(
                i,
                rows[i],
                "duplicate_code",
                _("code %(code)s also on row %(row)d") % {"code": code, "row": seen[code]},
                "code",
                code,
            )
        else:
            seen[code] = int(rows[i])
        if names is not None and len(names[i]) > NAME_LENGTH:
            message = _("name is over %(max)d characters") % {"max": NAME_LENGTH}
            problems.add(i, rows[i], "too_long", message, "name")

    # Types, departments and gateways by code, one query each.
    if district_id is None:
        # An administrator's or a script's file for any district may use any district's
        # own types.
        known_types = {t.code: t for t in SensorType.objects.filter(active=True)}
    else:
        known_types = {t.code: t for t in types_for_district(district_id)}
    sensor_types = np.full(n, None, dtype=object)
    for i, code in enumerate(type_codes):
        sensor_type = known_types.get(code)
        if sensor_type is None:
            message = _("no sensor type '%(type)s'") % {"type": code}
            problems.add(i, rows[i], "unknown_type", message, "type", codes[i])
        sensor_types[i] = sensor_type
    department_ids = _lookup(
        frame, columns, "department", Department, district_id, rows, codes, problems
    )
    gateway_ids = _lookup(frame, columns, "gateway", Gateway, district_id, rows, codes, problems)
    statuses = np.full(n, None, dtype=object)
    if "status" in columns:
        for i, value in enumerate(grid_imports.text(frame[columns["status"]])):
            if not value:
                continue
            if value not in Status.values:
                problems.add(
                    i,
                    rows[i],
                    "invalid_status",
                    _("status '%(value)s' is not one of %(statuses)s")
                    % {"value": value, "statuses": ", ".join(Status.values)},
                    "status",
                    codes[i],
                )
            statuses[i] = value
    installed = np.full(n, None, dtype=object)
    if "installed_on" in columns:
        raw = grid_imports.text(frame[columns["installed_on"]])
        dates = pd.to_datetime(raw, errors="coerce", format="mixed")
        for i, (text, date) in enumerate(zip(raw, dates, strict=True)):
            if not text:
                continue
            if pd.isna(date):
                problems.add(
                    i,
                    rows[i],
                    "bad_date",
                    _("'%(value)s' is not a date (use YYYY-MM-DD)") % {"value": text},
                    "installed_on",
                    codes[i],
                )
            elif date.date() > today():
                problems.add(
                    i,
                    rows[i],
                    "future_date",
                    _("a device cannot be installed in the future"),
                    "installed_on",
                    codes[i],
                )
            else:
                installed[i] = date.date()

    # Properties: prop_ columns and the JSON column, coerced and checked against the schema.
    prop_columns = {
        str(c)[len(PROPERTY_PREFIX) :]: c
        for c in frame.columns
        if str(c).lower().startswith(PROPERTY_PREFIX)
    }
    prop_values = {name: frame[c].to_numpy(object) for name, c in prop_columns.items()}
    json_values = frame[columns["properties"]].to_numpy(object) if "properties" in columns else None
    properties: list[dict] = [{}] * n
    for i in range(n):
        sensor_type = sensor_types[i]
        if sensor_type is None:
            continue
        cells = {name: values[i] for name, values in prop_values.items()}
        found = _properties(
            sensor_type,
            json_values[i] if json_values is not None else None,
            cells,
            i,
            rows[i],
            problems,
        )
        if found is None:
            continue
        for problem in schema_problems(sensor_type, found, row=int(rows[i]), feature=codes[i]):
            problems.add(i, rows[i], problem.code, problem.message, problem.field, codes[i])
        properties[i] = found

    # Coordinates: degrees, then converted, then inside the district.
    missing = np.isnan(lon) | np.isnan(lat)
    for i in np.flatnonzero(missing & ~not_point):
        problems.add(
            i,
            rows[i],
            "missing_coordinates",
            _("longitude or latitude is empty or not a number"),
            "lon/lat" if first_row == 2 else "geometry",
            codes[i],
        )
    if source in (crs_service.WGS84, "EPSG:4490", *crs_service.OFFSET_SYSTEMS):
        problems.bad |= grid_imports.lonlat_range_problems(
            np.nan_to_num(lon), np.nan_to_num(lat), rows, report, "point", skip=missing
        )
    usable = ~(missing | problems.bad)
    if usable.any() and source != crs_service.WGS84:
        converted = crs_service.geometries_to_wgs84(
            shapely.points(lon[usable], lat[usable]), source
        )
        lon[usable], lat[usable] = shapely.get_x(converted), shapely.get_y(converted)
    area = grid_imports.district_area(district_id)
    problems.bad |= grid_imports.outside_district_problems(
        lon, lat, ~(missing | problems.bad), area, rows, report
    )

    existing = _existing(codes, sensor_types, user, rows, problems)
    problems.summarise()
    if report.errors:
        raise ImportAborted(report)

    roles = np.array([t.role for t in sensor_types], dtype=object)
    staged = pd.DataFrame(
        {
            "row": rows.astype(np.int64),
            "code": codes,
            "type_id": np.array([t.pk for t in sensor_types], dtype=np.int64),
            "role": roles,
            "name": np.where(names == "", None, names) if names is not None else None,
            "lon": lon,
            "lat": lat,
            "department_id": pd.array(department_ids, dtype="Int64"),
            "gateway_id": pd.array(gateway_ids, dtype="Int64"),
            "installed_on": pd.array(installed, dtype=object),
            "status": statuses,
            "properties": [json.dumps(p, ensure_ascii=False) for p in properties],
            "coverage": coverage_hex(roles, lon, lat, properties),
            "existing_id": pd.array([existing.get(c) for c in codes], dtype="Int64"),
        }
    )
    if names is None:
        staged["name"] = pd.Series([None] * n, dtype=object)
    staged["installed_on"] = pd.to_datetime(staged["installed_on"]).dt.date
    staged.attrs["district_id"] = district_id
    with transaction.atomic():
        inserted, updated, flagged = copy_sensors(staged)
        report.written, report.updated = inserted, updated
        report.flagged = len(flagged)
        for row in flagged[:LIST_LIMIT]:
            report.problems.append(
                Problem(
                    "outside_grid",
                    _("the point lies in no grid; kept and flagged for review"),
                    row=int(row),
                    field="geometry",
                    severity="warning",
                )
            )
        report.committed = not dry_run
        if dry_run:
            transaction.set_rollback(True)
    if report.committed:
        announce(Sensor)
    return report


def _district_id(district, user, report: ImportReport) -> int | None:
    if isinstance(district, Region):
        return district.pk
    if isinstance(district, str) and district:
        found = Region.objects.filter(code=district, level=Level.DISTRICT).first()
        if found is None:
            report.problems.append(
                Problem(
                    "unknown_district",
                    _("no district '%(code)s'") % {"code": district},
                    field="district",
                )
            )
            return None
        return found.pk
    if user is not None and not scoping.sees_everything(user):
        found = scoping.user_district(user)
        if found is None:
            report.problems.append(Problem("no_district", _("you work in no district")))
        return found
    return None


def _unknown(name: str) -> str:
    if name == "department":
        return _("no department '%(value)s'")
    return _("no gateway '%(value)s'")


def _lookup(frame, columns, name, model, district_id, rows, codes, problems) -> list:
    """Ids of the departments or gateways named by code (of the district when known)."""
    n = len(frame)
    if name not in columns:
        return [None] * n
    values = grid_imports.text(frame[columns[name]], number=True).tolist()
    wanted = {v for v in values if v}
    found = model.objects.filter(code__in=wanted)
    if district_id is not None:
        found = found.filter(district=district_id)
    ids = dict(found.values_list("code", "pk"))
    out = []
    for i, value in enumerate(values):
        if value and value not in ids:
            message = _unknown(name) % {"value": value}
            problems.add(i, rows[i], f"unknown_{name}", message, name, codes[i])
        out.append(ids.get(value) if value else None)
    return out


def _existing(codes, sensor_types, user, rows, problems) -> dict[str, int]:
    """Registered devices of the file's codes that the importer may correct: visible to the
    user and of the same type (a device's type is not changed by a file)."""
    registered = Sensor.objects.filter(code__in=[c for c in codes if c])
    visible = (
        set(registered.visible_to(user).values_list("pk", flat=True)) if user is not None else None
    )
    found = {
        code: (pk, type_id) for code, pk, type_id in registered.values_list("code", "pk", "type_id")
    }
    out = {}
    for i, code in enumerate(codes):
        if code not in found or sensor_types[i] is None:
            continue
        pk, type_id = found[code]
        if visible is not None and pk not in visible:
            problems.add(
                i,
                rows[i],
                "duplicate_code",
                _("a device %(code)s is registered outside your jurisdiction") % {"code": code},
                "code",
                code,
            )
        elif type_id != sensor_types[i].pk:
            problems.add(
                i,
                rows[i],
                "type_change",
                _("device %(code)s is registered with another type; a file does not change it")
                % {"code": code},
                "type",
                code,
            )
        else:
            out[code] = pk
    return out


__all__ = ["ImportAborted", "SensorImportReport", "coerce", "coverage_hex", "import_sensors"]
