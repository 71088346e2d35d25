"""The import itself: the file read and every row checked (all or nothing), then the devices
written in one COPY (new) or update (corrected) by sensors.sql.imports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.db import transaction
from django.utils.translation import gettext as _

from grids.models import Department, Region, today
from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services import imports as grid_imports
from grids.services.imports import ImportAborted, point_lonlat, read_points
from grids.signals import announce
from sensors.models import Gateway, Sensor, SensorType, Status
from sensors.services.imports.cells import (
    CODE_LENGTH,
    COLUMN_GUESSES,
    LIST_LIMIT,
    NAME_LENGTH,
    PROPERTY_PREFIX,
    RowProblems,
    SensorImportReport,
    column_for,
    row_properties,
)
from sensors.services.imports.coverage import coverage_hex
from sensors.services.imports.lookups import correctable, district_id_for, ids_by_code
from sensors.services.registry import schema_problems, types_for_district
from sensors.sql.imports import copy_sensors


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
    district_id = district_id_for(district, user, report)
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
        if (found := column_for(frame.columns, name)) is not None:
            columns[name] = found
    if "type" not in columns:
        report.problems.append(
            Problem("missing_field", _("no column for the sensor type (type)"), field="type")
        )
    if report.errors:
        raise ImportAborted(report)
    problems = RowProblems(report, n)
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
    department_ids = ids_by_code(
        frame, columns, "department", Department, district_id, rows, codes, problems
    )
    gateway_ids = ids_by_code(
        frame, columns, "gateway", Gateway, district_id, rows, codes, problems
    )
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
        found = row_properties(
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

    existing = correctable(codes, sensor_types, user, rows, problems)
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
