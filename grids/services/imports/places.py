"""What the importers of buildings and units share: the file read as rows of text with a
point (and for buildings a footprint) in WGS84, each row checked by the place's own service
check (grids.services.basedata), and the checked rows written in bulk by grids.sql.places.

Where a place is: a point layer's point, a polygon layer's footprint (the point being its
point on surface, as the services key it), or lon/lat columns of CSV/XLSX."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import transaction
from django.utils.translation import gettext as _

from grids.models import today
from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services.basedata.keying import announce_past
from grids.services.imports.columns import check_targets, resolve_fields, text
from grids.services.imports.coordinates import district_area, outside_district_problems
from grids.services.imports.coordinates import source_crs as file_crs
from grids.services.imports.reading import read_points
from grids.services.imports.report import ImportReport, NullProgress, Progress
from grids.signals import announce
from grids.sql.places import PlaceLoad, copy_places, staged_columns

# Codes and whole numbers a spreadsheet may have stored as numbers (6 read as "6.0").
NUMBER_LIKE = ("client_key", "code", "floors", "built_year", "employees", "building_code")


@dataclass
class PlaceRows:
    """A file's rows as the row checks want them: text per field, and the geometry."""

    rows: np.ndarray  # the row number a person sees (spreadsheet rows from 2, features from 1)
    cells: dict[str, pd.Series]  # field → text
    geometries: np.ndarray  # shapely geometries in 4326, None where there is none
    raw: dict[int, tuple[float, float]] = field(default_factory=dict)  # row → source lon/lat

    def geos(self, i: int) -> tuple[GEOSGeometry | None, Point | None]:
        """(footprint, point) of row i as GEOS geometries for the services' row checks."""
        shape = self.geometries[i]
        if shape is None:
            return None, None
        geom = GEOSGeometry(memoryview(shapely.to_wkb(shape)), srid=4326)
        return (None, geom) if isinstance(geom, Point) else (geom, None)

    def values(self, i: int) -> dict:
        return {name: cells.iat[i] for name, cells in self.cells.items()}


def read_places(
    path: str | Path,
    *,
    kind: str,
    known: tuple[str, ...],
    guesses: dict[str, list[str]],
    required: tuple[str, ...],
    layer: str | None,
    fields: dict[str, str] | None,
    source_crs: str | None,
    encoding: str | None,
    report: ImportReport,
    located: bool = True,
) -> PlaceRows | None:
    """The file's rows with their fields resolved and geometries in 4326; None when it cannot
    be used (the reasons in the report). `located` False: a table's lon/lat are optional."""
    check_targets(fields, known, report)
    try:
        given_crs = crs_service.normalise(source_crs)
    except crs_service.UnknownCRS as exc:
        report.problems.append(Problem("unknown_crs", str(exc), field="source_crs"))
    if report.errors:
        return None
    read = read_points(Path(path), layer=layer, encoding=encoding, report=report)
    if read is None:
        return None
    frame, is_table = read
    report.total = len(frame)
    wanted = {**dict.fromkeys(known), **(fields or {})}
    if not is_table:
        wanted.pop("lon", None)
        wanted.pop("lat", None)
    need = (*required, "lon", "lat") if is_table and located else required
    columns = resolve_fields(frame.columns, wanted, need, report, guesses=guesses)
    if report.errors:
        return None
    first = 2 if is_table else 1
    rows = np.arange(first, first + len(frame))
    cells = {
        name: text(frame[column], number=name in NUMBER_LIKE)
        for name, column in columns.items()
        if name not in ("lon", "lat")
    }
    n = len(frame)
    if is_table and not {"lon", "lat"} <= set(columns):
        source = given_crs or crs_service.WGS84
        geometries = np.full(n, None, dtype=object)
    elif is_table:
        lon = pd.to_numeric(text(frame[columns["lon"]]), errors="coerce").to_numpy(float)
        lat = pd.to_numeric(text(frame[columns["lat"]]), errors="coerce").to_numpy(float)
        source = given_crs or crs_service.WGS84
        geometries = shapely.points(lon, lat)
        geometries[np.isnan(lon) | np.isnan(lat)] = None
    else:
        source = file_crs(frame, source_crs, report)
        geometries = np.asarray(frame.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geometries)
    points = np.flatnonzero(kinds == 0)
    raw = dict(
        zip(
            rows[points].tolist(),
            zip(
                shapely.get_x(geometries[points]).tolist(),
                shapely.get_y(geometries[points]).tolist(),
                strict=True,
            ),
            strict=True,
        )
    )
    present = ~shapely.is_missing(geometries)
    if present.any() and source != crs_service.WGS84:
        geometries[present] = crs_service.geometries_to_wgs84(geometries[present], source)
    polygons = np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
    if polygons.any() and kind != "building":
        for i in np.flatnonzero(polygons):
            report.problems.append(
                Problem(
                    "not_a_point",
                    _("this feature is a polygon; a point is needed"),
                    row=int(rows[i]),
                    field="geometry",
                )
            )
        return None
    return PlaceRows(rows=rows, cells=cells, geometries=geometries, raw=raw)


def far_outside(staged: pd.DataFrame, read: PlaceRows, report: ImportReport) -> np.ndarray:
    """Rows of `staged` (row, lon, lat) whose point is far outside the district: errors (a
    wrong CRS or swapped coordinates), as for households."""
    if staged.empty:
        return np.zeros(0, dtype=bool)
    lon, lat = staged["lon"].to_numpy(float), staged["lat"].to_numpy(float)
    numbers = staged["row"].to_numpy()
    # A footprint's point is quoted in WGS84: the file has no point of its own to quote.
    raw = [read.raw.get(row, (x, y)) for row, x, y in zip(numbers, lon, lat, strict=True)]
    raw_lon = np.array([xy[0] for xy in raw])
    raw_lat = np.array([xy[1] for xy in raw])
    ok = np.ones(len(staged), dtype=bool)
    return outside_district_problems(
        lon, lat, ok, district_area(), numbers, report, raw=(raw_lon, raw_lat)
    )


def repeated(staged: pd.DataFrame, name: str, report: ImportReport, label: str) -> np.ndarray:
    """Rows repeating an earlier row's `name` value (a key or code): errors."""
    values = staged[name]
    given = values.notna() & (values != "")
    twice = (given & values.duplicated(keep="first")).to_numpy()
    if twice.any():
        first = staged[given].drop_duplicates(name).set_index(name)["row"]
        for row, value in zip(staged["row"][twice], values[twice], strict=True):
            report.problems.append(
                Problem(
                    "duplicate_key",
                    _("%(what)s %(value)s also on row %(row)d")
                    % {"what": label, "value": value, "row": first[value]},
                    row=int(row),
                    field=name,
                    value=value,
                )
            )
    return twice


def write_places(
    load: PlaceLoad,
    model,
    subject: str,
    staged: pd.DataFrame,
    *,
    commit: bool,
    progress: Progress | None,
    report: ImportReport,
) -> ImportReport:
    """COPY the checked rows, key them to grids, insert (a dry run counts); a re-imported
    place (same key) is left as it is. Nothing is written unless `commit`."""
    progress = progress or NullProgress()
    progress.stage("writing", len(staged))
    staged = staged[list(staged_columns(load))]
    with transaction.atomic():
        inserted, kept, flagged = copy_places(
            load, staged, progress=progress.advance, dry=not commit
        )
        report.written = inserted
        report.skipped_existing = len(kept)
        report.flagged = len(flagged)
        for row in flagged:
            report.problems.append(
                Problem(
                    "outside_grid",
                    _("the point lies in no grid; kept and flagged for review"),
                    row=int(row),
                    field="geometry",
                    severity="warning",
                )
            )
        report.committed = commit
        if not commit:
            transaction.set_rollback(True)
            return report
        announce(model)
        past = [d for d in staged["registered_on"] if d is not None and d < today()]
        past += [d for d in staged["removed_on"] if d is not None and d < today()]
        announce_past(subject, *past)
    return report


def problems_of(report: ImportReport, problems: list[Problem]) -> bool:
    """Add a row's problems (the checks name the row); True when one is an error."""
    report.problems.extend(problems)
    return any(problem.severity == "error" for problem in problems)


def cell_date(value: str, row: int, name: str, report: ImportReport):
    """A date cell as the service check wants it (a date, None when empty); an unreadable
    one is reported here with the row, field and value."""
    if not value:
        return None
    date = pd.to_datetime(value, errors="coerce", format="mixed")
    if pd.isna(date):
        report.problems.append(
            Problem(
                "bad_date",
                _("'%(value)s' is not a date (use YYYY-MM-DD)") % {"value": value},
                row=row,
                field=name,
                value=value,
            )
        )
        return None
    return date.date()
