"""Households from a point layer, or from CSV/XLSX with lon/lat columns: every household
field a file may carry (address, point, client key, member count, registered and removed
dates), each value checked and a bad one named by row, field and value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.db import transaction
from django.utils.translation import gettext as _

from grids import sql
from grids.changes import data_changed_since
from grids.models import Building, Household, today
from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services.imports import alignment
from grids.services.imports.columns import HOUSEHOLD_FIELDS, check_targets, resolve_fields, text
from grids.services.imports.coordinates import (
    DEGREE_SYSTEMS,
    district_area,
    lonlat_range_problems,
    outside_district_problems,
    point_lonlat,
    report_swapped,
)
from grids.services.imports.coordinates import (
    source_crs as file_crs,
)
from grids.services.imports.gridkeys import NO_GRID, grids_of_points
from grids.services.imports.reading import read_points
from grids.services.imports.report import ImportReport, NullProgress, Progress
from grids.signals import announce

MAX_MEMBERS = 32767  # what the member_count column holds
# Column names of resident data (one row per person): not read by this import, said so.
RESIDENT_COLUMNS = {
    "姓名",
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "出生日期",
    "性别",
    "联系电话",
}


def import_households(
    path: str | Path,
    *,
    layer: str | None = None,
    fields: dict[str, str] | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    commit: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Households from a point layer, or from CSV/XLSX with lon/lat columns."""
    path = Path(path)
    progress = progress or NullProgress()
    report = ImportReport(kind="household", source=str(path))
    check_targets(fields, HOUSEHOLD_FIELDS, report)
    try:
        given_crs = crs_service.normalise(source_crs)
    except crs_service.UnknownCRS as exc:
        report.problems.append(Problem("unknown_crs", str(exc), field="source_crs"))
    if report.errors:
        return report
    progress.stage("reading", None)
    read = read_points(path, layer=layer, encoding=encoding, report=report)
    if read is None:
        return report
    frame, is_table = read
    report.total = len(frame)
    # Spreadsheet rows as a person sees them (header on row 1); features numbered from 1.
    first_row = 2 if is_table else 1
    optional = ("client_key", "member_count", "registered_on", "removed_on", "building_code")
    wanted = {"address": None, **dict.fromkeys(optional), **(fields or {})}
    if is_table:
        wanted = {"lon": None, "lat": None, **wanted}
    required = ("address", "lon", "lat") if is_table else ("address",)
    columns = resolve_fields(frame.columns, wanted, required, report)
    if report.errors:
        return report
    left_out = sorted(RESIDENT_COLUMNS & {str(c) for c in frame.columns})
    if left_out:
        report.problems.append(
            Problem(
                "resident_columns",
                _(
                    "columns %(columns)s hold resident data, which this import does not read "
                    "(it imports households): import them with import_residents"
                )
                % {"columns": ", ".join(left_out)},
                severity="warning",
            )
        )
    if is_table:
        lon_text, lat_text = text(frame[columns["lon"]]), text(frame[columns["lat"]])
        lon = pd.to_numeric(lon_text, errors="coerce").to_numpy(float)
        lat = pd.to_numeric(lat_text, errors="coerce").to_numpy(float)
        source = given_crs or crs_service.WGS84
    else:
        source = file_crs(frame, source_crs, report)
        lon, lat, _not_point = point_lonlat(frame.geometry.values, report)
        lon_text = lat_text = None
    rows = np.arange(first_row, first_row + len(frame))
    table = pd.DataFrame(
        {"row": rows, "address": text(frame[columns["address"]]), "lon": lon, "lat": lat}
    )
    if lon_text is not None:
        table["lonlat_text"] = lon_text + ", " + lat_text
    if "client_key" in columns:
        table["client_key"] = text(frame[columns["client_key"]], number=True)
    if "member_count" in columns:
        table["member_count"] = _members(text(frame[columns["member_count"]]), rows, report)
    for name in ("registered_on", "removed_on"):
        if name in columns:
            table[name] = _dates(text(frame[columns[name]]), rows, name, report)
    if "building_code" in columns:
        table["building_id"] = _buildings(
            text(frame[columns["building_code"]], number=True), rows, report
        )
    return load_households(
        table, source_crs=source, commit=commit, progress=progress, report=report
    )


def _members(values: pd.Series, rows, report: ImportReport) -> pd.Series:
    """Whole numbers of people, 0 for an empty cell; NaN (reported) for anything else."""
    numbers = pd.to_numeric(values, errors="coerce")
    whole = numbers.notna() & (numbers == numbers.round())
    ok = (values == "") | (whole & (numbers >= 0) & (numbers <= MAX_MEMBERS))
    for i in np.flatnonzero(~ok.to_numpy()):
        report.problems.append(
            Problem(
                "bad_number",
                _(
                    "'%(value)s' is not a number of members (a whole number from 0 to "
                    "%(max)d, in digits)"
                )
                % {"value": values.iloc[i], "max": MAX_MEMBERS},
                row=int(rows[i]),
                field="member_count",
                value=values.iloc[i],
            )
        )
    return numbers.where(ok & (values != ""), 0).where(ok)


def _buildings(codes: pd.Series, rows, report: ImportReport) -> pd.Series:
    """The building of each row by its code (房屋编码); an unknown code is an error."""
    known = dict(Building.objects.filter(code__in=set(codes) - {""}).values_list("code", "pk"))
    for i in np.flatnonzero(((codes != "") & ~codes.isin(known)).to_numpy()):
        report.problems.append(
            Problem(
                "unknown_building",
                _("no building has the code %(code)s (import the buildings first)")
                % {"code": codes.iloc[i]},
                row=int(rows[i]),
                field="building_code",
                value=codes.iloc[i],
            )
        )
    return codes.map(known).astype("Int64")


def _dates(values: pd.Series, rows, name: str, report: ImportReport) -> pd.Series:
    dates = pd.to_datetime(values, errors="coerce", format="mixed").dt.date
    unreadable = (values != "") & dates.isna()
    for i in np.flatnonzero(unreadable.to_numpy()):
        report.problems.append(
            Problem(
                "bad_date",
                _("'%(value)s' is not a date (use YYYY-MM-DD)") % {"value": values.iloc[i]},
                row=int(rows[i]),
                field=name,
                value=values.iloc[i],
            )
        )
    return dates


def _row_problem(report, code, message, row, field, value=None, location=None):
    report.problems.append(
        Problem(code, message, row=int(row), field=field, value=value, location=location)
    )


def load_households(
    table: pd.DataFrame,
    *,
    source_crs: str = crs_service.WGS84,
    commit: bool = False,
    progress: Progress | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Check and write households given as a table with row, address, lon, lat and optional
    client_key, member_count, registered_on, removed_on. Used by the importer and the demo
    district. A dry run counts what a commit would write without inserting anything."""
    progress = progress or NullProgress()
    report = report or ImportReport(kind="household", total=len(table))
    progress.stage("checking", len(table))
    n = len(table)
    rows = table["row"].to_numpy()
    raw_lon = table["lon"].to_numpy(float, copy=True)
    raw_lat = table["lat"].to_numpy(float, copy=True)
    lon, lat = raw_lon.copy(), raw_lat.copy()
    bad = np.zeros(n, dtype=bool)
    lonlat_text = table.get("lonlat_text")

    missing = np.isnan(lon) | np.isnan(lat)
    for i in np.flatnonzero(missing):
        _row_problem(
            report,
            "missing_coordinates",
            _("longitude or latitude is empty or not a number"),
            rows[i],
            "lon/lat",
            value=None if lonlat_text is None else lonlat_text.iloc[i],
        )
    bad |= missing
    addresses = table["address"].to_numpy(object)
    empty = (addresses == "") | pd.isna(addresses)
    for i in np.flatnonzero(empty):
        _row_problem(report, "missing_value", _("address is empty"), rows[i], "address")
    bad |= empty
    # Values the columns cannot hold, and dates in the future, by row.
    limits = {
        "address": Household._meta.get_field("address").max_length,
        "client_key": Household._meta.get_field("client_key").max_length,
    }
    for name, limit in limits.items():
        if name in table:
            values = table[name].fillna("").astype(str)
            lengths = values.str.len().to_numpy()
            for i in np.flatnonzero(lengths > limit):
                _row_problem(
                    report,
                    "too_long",
                    _("%(field)s has %(n)d characters, at most %(max)d")
                    % {"field": name, "n": lengths[i], "max": limit},
                    rows[i],
                    name,
                    value=values.iloc[i],
                )
            bad |= lengths > limit
    if "member_count" in table:
        bad |= table["member_count"].isna().to_numpy()
    bad |= _date_problems(table, rows, report)
    district = district_area()
    if source_crs in DEGREE_SYSTEMS:
        # East of 90°E a swapped pair has "latitude" > 90: say so before calling it a CRS error.
        maybe_swapped = np.flatnonzero(
            ~missing & (np.abs(lat) > 90) & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
        )
        swapped = report_swapped(lon, lat, maybe_swapped, district, rows, report)
        bad |= swapped
        bad |= lonlat_range_problems(
            np.nan_to_num(lon), np.nan_to_num(lat), rows, report, "point", skip=missing | swapped
        )
    keys = table["client_key"].to_numpy(object) if "client_key" in table else None
    if keys is not None:
        keys = np.where((keys == "") | pd.isna(keys), None, keys)
        # Only the rows whose key came before are walked in Python (a million keys once).
        repeated = pd.Series(keys).duplicated(keep=False).to_numpy() & (keys != None)  # noqa: E711
        seen: dict[str, int] = {}
        for i in np.flatnonzero(repeated):
            key = keys[i]
            if key in seen:
                _row_problem(
                    report,
                    "duplicate_key",
                    _("key %(key)s also on row %(row)d") % {"key": key, "row": seen[key]},
                    rows[i],
                    "client_key",
                    value=key,
                )
                bad[i] = True
            else:
                seen[key] = int(rows[i])
    ok = ~bad
    if ok.any() and source_crs != crs_service.WGS84:
        points = shapely.points(lon[ok], lat[ok])
        points = crs_service.geometries_to_wgs84(points, source_crs)
        lon[ok], lat[ok] = shapely.get_x(points), shapely.get_y(points)
    bad |= outside_district_problems(lon, lat, ok, district, rows, report, raw=(raw_lon, raw_lat))
    ok = ~bad
    if ok.any() and source_crs in (crs_service.WGS84, "EPSG:4490"):
        alignment.check_points(lon[ok], lat[ok], source_crs, report)
    progress.advance(n)
    if report.errors:
        return report

    members = (
        table["member_count"].to_numpy(int) if "member_count" in table else np.zeros(n, dtype=int)
    )

    def dates(name):
        values = table[name].to_numpy(object) if name in table else np.full(n, None, object)
        return np.where(pd.isna(values), None, values)

    registered = dates("registered_on")
    staged = pd.DataFrame(
        {
            "row": rows.astype(np.int64),
            "address": addresses,
            "lon": lon,
            "lat": lat,
            "client_key": np.full(n, None, dtype=object) if keys is None else keys,
            "member_count": members,
            "registered_on": np.where(pd.isna(registered), today(), registered),
            "removed_on": dates("removed_on"),
            "building_id": (
                pd.array(table["building_id"], dtype="Int64")
                if "building_id" in table
                else pd.array([None] * n, dtype="Int64")
            ),
        }
    )
    progress.stage("writing", n)
    with transaction.atomic():
        # The tree lock (shared) before the boundaries are read: no boundary changes until
        # the rows keyed under them are committed.
        sql.lock_tree(shared=True)
        grid_ids = grids_of_points(lon, lat)
        staged["grid_id"] = pd.array(np.where(grid_ids == NO_GRID, None, grid_ids), "Int64")
        written = sql.copy_keyed_households(staged, progress=progress.advance, dry=not commit)
        if written is None:
            # Another transaction wrote one of the keys meanwhile: the staged path skips
            # it with ON CONFLICT.
            written, flagged_rows = sql.copy_households(
                staged.drop(columns="grid_id"), progress=progress.advance, dry=not commit
            )
        else:
            flagged_rows = rows[grid_ids == NO_GRID].tolist()
        report.written = written
        # Every row was written but those whose client key is already there.
        report.skipped_existing = n - report.written
        report.flagged = len(flagged_rows)
        for row in flagged_rows:
            report.problems.append(
                Problem(
                    "outside_grid",
                    _("the point lies in no grid; kept and flagged for review"),
                    row=int(row),
                    field="geometry",
                    severity="warning",
                    location=_raw_location(rows, raw_lon, raw_lat, row),
                )
            )
        report.committed = commit
        if commit:
            announce(Household)
            # Past-dated rows change past days' figures (grids.changes; sent on commit).
            days = [d for d in (*staged["registered_on"], *staged["removed_on"]) if d]
            if days:
                data_changed_since("households", min(days))
        else:
            transaction.set_rollback(True)
    return report


def _raw_location(rows, raw_lon, raw_lat, row) -> tuple[float, float] | None:
    i = int(np.searchsorted(rows, row))
    if i < len(rows) and rows[i] == row:
        return float(raw_lon[i]), float(raw_lat[i])
    return None


def _date_problems(table: pd.DataFrame, rows, report: ImportReport) -> np.ndarray:
    """Dates in the future, and removals before registration."""
    bad = np.zeros(len(table), dtype=bool)
    day = today()
    columns = {}
    for name, what in (
        ("registered_on", _("a household cannot be registered in the future")),
        ("removed_on", _("a household cannot be removed in the future")),
    ):
        if name not in table:
            continue
        dates = pd.to_datetime(table[name], errors="coerce")
        columns[name] = dates
        future = (dates.dt.date > day).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(future):
            _row_problem(
                report,
                "future_date",
                what,
                rows[i],
                name,
                value=str(dates.iloc[i].date()),
            )
        bad |= future
    if len(columns) == 2:
        before = (columns["removed_on"] < columns["registered_on"]).fillna(False).to_numpy(bool)
        for i in np.flatnonzero(before & ~bad):
            _row_problem(
                report,
                "removed_before_registered",
                _("removed on %(removed)s, before it was registered on %(registered)s")
                % {
                    "removed": columns["removed_on"].iloc[i].date(),
                    "registered": columns["registered_on"].iloc[i].date(),
                },
                rows[i],
                "removed_on",
                value=str(columns["removed_on"].iloc[i].date()),
            )
        bad |= before
    return bad
