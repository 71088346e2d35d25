"""Getting regions, grids and households in from the files people actually have.

Formats: Shapefile (UTF-8 or GBK attributes, with or without a .cpg), GeoPackage, GeoJSON,
KML, and for households also CSV/XLSX with lon/lat columns. Source coordinates may be any EPSG
system (CGCS2000 = EPSG:4490 included) or the GCJ-02 / BD-09 offsets of Chinese web maps.

Every import runs in one transaction: it is written, checked against the tree's rules, and
rolled back unless `commit` is set and no error was found (a dry run sees exactly what a
commit would do). Every bad feature is reported with its row, field and reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyogrio
import shapely
from django.conf import settings
from django.db import transaction
from pyproj import Transformer

from grids import sql
from grids.models import (
    CODE_LENGTH,
    PARENT_LEVEL,
    Grid,
    GridBoundary,
    Household,
    Level,
    Region,
    RegionBoundary,
    Theme,
    today,
)
from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services.boundaries import (
    code_problem,
    future_date_problem,
    integrity_problems,
    to_geos,
)
from grids.services.geometry import check_polygons
from grids.signals import announce

GRID = "grid"
LEVELS = (*Level.values, GRID)
VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".kml", ".kmz", ".zip", ".fgb"}
TABLE_SUFFIXES = {".csv", ".xlsx", ".xls"}

# Column names people use for each field, tried in order when no mapping is given.
FIELD_GUESSES = {
    "name": ["name", "名称", "mc", "grid_name", "wgmc"],
    "code": ["code", "编码", "代码", "dm", "grid_code", "wgbm"],
    "parent_code": ["parent_code", "parent", "上级编码", "sjbm", "pcode"],
    "address": ["address", "地址", "标准地址", "addr", "dz"],
    "lon": ["lon", "lng", "longitude", "经度", "x"],
    "lat": ["lat", "latitude", "纬度", "y"],
    "client_key": ["client_key", "key", "编号", "fwbm"],
    "registered_on": ["registered_on", "registered", "登记日期"],
}


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NullProgress:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass
class ImportReport:
    kind: str
    source: str = ""
    total: int = 0
    written: int = 0
    skipped_existing: int = 0
    flagged: int = 0
    committed: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "source": self.source,
            "total": self.total,
            "written": self.written,
            "skipped_existing": self.skipped_existing,
            "flagged": self.flagged,
            "committed": self.committed,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }


class ImportAborted(Exception):
    """A file that cannot be read at all (its problems are in the report)."""

    def __init__(self, report: ImportReport):
        super().__init__("; ".join(str(p) for p in report.errors[:5]))
        self.report = report


# ---------------------------------------------------------------------------- reading files


def _shapefile_encoding(path: Path) -> str | None:
    """GDAL honours a .cpg or the .dbf's language driver byte; without either it would read
    GBK (the usual encoding of Chinese shapefiles) as Latin-1. Try UTF-8 strictly, then GBK."""
    if path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists():
        return None
    candidates = (path.with_suffix(".dbf"), path.with_suffix(".DBF"))
    dbf = next((p for p in candidates if p.exists()), None)
    if dbf is None:
        return None
    with dbf.open("rb") as handle:
        header = handle.read(32)
        if len(header) > 29 and header[29] != 0:
            return None
        records = handle.read()
    try:
        records.decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None):
    """A GeoDataFrame from any vector format GDAL reads; its CRS may be None."""
    kwargs = {}
    if layer:
        kwargs["layer"] = layer
    if encoding is None and path.suffix.lower() == ".shp":
        encoding = _shapefile_encoding(path)
    if encoding:
        kwargs["encoding"] = encoding
    # Through Arrow: columns arrive as arrays, several times faster than row by row.
    return pyogrio.read_dataframe(path, use_arrow=True, **kwargs)


def read_table(path: Path, *, layer: str | None = None, encoding: str | None = None):
    if path.suffix.lower() == ".csv":
        try:
            return pd.read_csv(
                path, dtype=str, encoding=encoding or "utf-8-sig", keep_default_na=False
            )
        except UnicodeDecodeError:
            if encoding:
                raise
            return pd.read_csv(path, dtype=str, encoding="gb18030", keep_default_na=False)
    return pd.read_excel(path, sheet_name=layer or 0, dtype=str).fillna("")


def read_points(path: Path, *, layer: str | None, encoding: str | None, report: ImportReport):
    """A point file: (frame, is_table), a table being CSV/XLSX with lon/lat columns; None
    when it cannot be read, with the reason added to the report."""
    is_table = path.suffix.lower() in TABLE_SUFFIXES
    try:
        frame = (read_table if is_table else read_vector)(path, layer=layer, encoding=encoding)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        OSError,
        ValueError,
    ) as exc:
        report.problems.append(Problem("unreadable", f"cannot read {path.name}: {exc}"))
        return None
    return frame, is_table


def _text(column: pd.Series, *, number: bool = False) -> pd.Series:
    """Cell values as stripped text; a missing value is "" (not "nan"), and a code read as a
    number loses its ".0"."""
    text = column.astype(object).where(column.notna(), "").astype(str).str.strip()
    return text.str.replace(r"\.0$", "", regex=True) if number else text


def _resolve_fields(
    columns, wanted: dict[str, str | None], required: tuple[str, ...], report: ImportReport
) -> dict[str, str]:
    """Map our field names to the file's columns: given mapping first, then guesses."""
    lower = {str(c).lower(): c for c in columns if c != "geometry"}
    resolved = {}
    for name in wanted:
        given = wanted[name]
        if given:
            if given in columns:
                resolved[name] = given
            elif given.lower() in lower:
                resolved[name] = lower[given.lower()]
            else:
                report.problems.append(
                    Problem(
                        "missing_field",
                        f"column {given!r} (for {name}) is not in the file; "
                        f"columns are {', '.join(map(str, lower.values()))}",
                        field=given,
                    )
                )
            continue
        for guess in FIELD_GUESSES.get(name, []):
            if guess.lower() in lower:
                resolved[name] = lower[guess.lower()]
                break
        else:
            if name in required:
                report.problems.append(
                    Problem(
                        "missing_field",
                        f"no column for {name}; map one with --field "
                        f"{name}=COLUMN (columns are {', '.join(map(str, lower.values()))})",
                        field=name,
                    )
                )
    return resolved


def _source_crs(frame, source_crs: str | None, report: ImportReport) -> str:
    """The CRS to convert from: the caller's word wins (files from Chinese web maps often
    carry GCJ-02 coordinates labelled WGS84); else the file's; else WGS84 with a warning."""
    given = crs_service.normalise(source_crs)
    file_crs = getattr(frame, "crs", None)
    if given:
        if file_crs is not None and not file_crs.equals(
            "EPSG:4326" if given in crs_service.OFFSET_SYSTEMS else given
        ):
            report.problems.append(
                Problem(
                    "crs_override",
                    f"the file says {file_crs.to_string()}, converting from {given} as asked",
                    severity="warning",
                )
            )
        return given
    if file_crs is not None:
        return file_crs.to_string()
    report.problems.append(
        Problem(
            "crs_assumed",
            "the file names no coordinate system; assumed EPSG:4326 (WGS84)",
            severity="warning",
        )
    )
    return crs_service.WGS84


def _lonlat_range_problems(
    lon, lat, rows, report: ImportReport, label: str, skip: np.ndarray | None = None
) -> np.ndarray:
    """Coordinates that cannot be degrees; `skip` marks rows already reported otherwise."""
    bad = ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if skip is not None:
        bad &= ~skip
    for i in np.flatnonzero(bad)[:200]:
        report.problems.append(
            Problem(
                "wrong_crs",
                f"{label} ({lon[i]:.1f}, {lat[i]:.1f}) is not longitude/latitude: "
                "the file is probably in a projected system (metres); pass --source-crs",
                row=int(rows[i]),
                field="geometry",
            )
        )
    return bad


# --------------------------------------------------------------------- regions and grids


def import_boundaries(
    path: str | Path,
    *,
    level: str,
    layer: str | None = None,
    fields: dict[str, str] | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    theme: str = Theme.GOVERNANCE,
    valid_from: dt.date | None = None,
    repair: bool = False,
    commit: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one level of the tree (district, street, community or grid) from a file."""
    path = Path(path)
    progress = progress or NullProgress()
    report = ImportReport(kind=level, source=str(path))
    if level not in LEVELS:
        report.problems.append(
            Problem("bad_level", f"level must be one of {', '.join(LEVELS)}", field="level")
        )
        return report
    progress.stage("reading", None)
    try:
        frame = read_vector(path, layer=layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        report.problems.append(Problem("unreadable", f"cannot read {path.name}: {exc}"))
        return report
    report.total = len(frame)
    wanted = {"name": None, "code": None, "parent_code": None, **(fields or {})}
    columns = _resolve_fields(frame.columns, wanted, ("name", "code"), report)
    if report.errors:
        return report
    source = _source_crs(frame, source_crs, report)
    table = pd.DataFrame(
        {
            "row": np.arange(1, len(frame) + 1),
            "code": _text(frame[columns["code"]], number=True),
            "name": _text(frame[columns["name"]]),
        }
    )
    if "parent_code" in columns:
        table["parent_code"] = _text(frame[columns["parent_code"]], number=True)
    geoms = frame.geometry.values
    return load_boundaries(
        table,
        np.asarray(geoms, dtype=object),
        level=level,
        source_crs=source,
        theme=theme,
        valid_from=valid_from,
        repair=repair,
        commit=commit,
        progress=progress,
        report=report,
    )


def load_boundaries(
    table: pd.DataFrame,
    geoms: np.ndarray,
    *,
    level: str,
    source_crs: str = crs_service.WGS84,
    theme: str = Theme.GOVERNANCE,
    valid_from: dt.date | None = None,
    repair: bool = False,
    commit: bool = False,
    progress: Progress | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Check and write boundaries given as a table (row, code, name[, parent_code]) and an
    array of shapely geometries. Used by the file importer and the demo district."""
    progress = progress or NullProgress()
    report = report or ImportReport(kind=level, total=len(table))
    valid_from = valid_from or today()
    if problem := future_date_problem(valid_from):
        report.problems.append(problem)
        return report
    progress.stage("checking", len(table))
    rows = table["row"].to_numpy()
    geoms = np.asarray(geoms, dtype=object)
    # Range of raw coordinates: a projected file read as degrees is the commonest wrong CRS.
    if source_crs in (crs_service.WGS84, "EPSG:4490", *crs_service.OFFSET_SYSTEMS):
        bounds = shapely.bounds(geoms)
        with np.errstate(invalid="ignore"):
            lon = np.nan_to_num(
                np.where(np.abs(bounds[:, 0]) > np.abs(bounds[:, 2]), bounds[:, 0], bounds[:, 2])
            )
            lat = np.nan_to_num(
                np.where(np.abs(bounds[:, 1]) > np.abs(bounds[:, 3]), bounds[:, 1], bounds[:, 3])
            )
        out_of_range = _lonlat_range_problems(lon, lat, rows, report, "coordinate")
    else:
        out_of_range = np.zeros(len(geoms), dtype=bool)
    usable = ~out_of_range
    if usable.any():
        geoms[usable] = crs_service.geometries_to_wgs84(geoms[usable], source_crs)
    labels = [f"{c} {n}" for c, n in zip(table["code"], table["name"], strict=True)]
    fixed, geometry_problems = check_polygons(geoms, repair=repair, labels=labels)
    for i, problem in geometry_problems:
        if usable[i]:
            report.problems.append(_with_row(problem, rows[i]))
            usable[i] = False

    codes = table["code"].tolist()
    parent_codes = table["parent_code"].tolist() if "parent_code" in table else [None] * len(table)
    seen: dict[str, int] = {}
    existing = _existing_codes(level, codes)
    for i, code in enumerate(codes):
        parent_code = parent_codes[i] or _parent_code_from(code, level)
        parent_codes[i] = parent_code
        if not table["name"].iloc[i]:
            report.problems.append(
                Problem(
                    "missing_value", "name is empty", row=int(rows[i]), field="name", feature=code
                )
            )
            usable[i] = False
        problem = code_problem(
            code, None if level == GRID else level, parent_code if level != Level.DISTRICT else None
        )
        if problem:
            report.problems.append(_with_row(problem, rows[i]))
            usable[i] = False
        if code in seen:
            report.problems.append(
                Problem(
                    "duplicate_code",
                    f"code {code} also on row {seen[code]}",
                    row=int(rows[i]),
                    field="code",
                    feature=code,
                )
            )
            usable[i] = False
        seen.setdefault(code, int(rows[i]))
        if code in existing:
            report.problems.append(
                Problem(
                    "duplicate_code",
                    f"code {code} already exists in the platform",
                    row=int(rows[i]),
                    field="code",
                    feature=code,
                )
            )
            usable[i] = False
        progress.advance(1)

    parents = _parents(level, {p for p in parent_codes if p}, valid_from)
    if level != Level.DISTRICT:
        for i, parent_code in enumerate(parent_codes):
            if usable[i] and parent_code not in parents:
                report.problems.append(
                    Problem(
                        "unknown_parent",
                        f"parent {parent_code} does not exist (import the level above first)",
                        row=int(rows[i]),
                        field="parent_code",
                        feature=codes[i],
                    )
                )
                usable[i] = False

    if report.errors:
        return report
    progress.stage("writing", len(table))
    with transaction.atomic():
        sql.lock_tree(shared=False)
        ids = _write_boundaries(level, table, fixed, parent_codes, parents, theme, valid_from)
        progress.advance(len(ids))
        progress.stage("checking the tree", None)
        row_of = dict(zip(codes, rows.tolist(), strict=True))
        for problem in (
            integrity_problems(grid_ids=ids, on=valid_from)
            if level == GRID
            else integrity_problems(region_ids=ids, on=valid_from)
        ):
            report.problems.append(_with_row(problem, row_of.get(problem.feature)))
        if level == GRID and theme == Theme.GOVERNANCE and not report.errors:
            area = shapely.union_all(fixed[usable])
            sql.reassign_households(bytes(to_geos(area).ewkb), valid_from)
        report.written = 0 if report.errors else len(ids)
        report.committed = commit and not report.errors
        if report.committed:
            announce(Grid if level == GRID else Region)
            announce(Household)
        else:
            transaction.set_rollback(True)
    return report


def _with_row(problem: Problem, row) -> Problem:
    return replace(problem, row=int(row) if row is not None else None)


def _parent_code_from(code: str, level: str) -> str | None:
    if level == Level.DISTRICT or not code:
        return None
    length = CODE_LENGTH[PARENT_LEVEL[level]] if level != GRID else CODE_LENGTH[Level.COMMUNITY]
    return code[:length]


def _existing_codes(level: str, codes: list[str]) -> set[str]:
    model = Grid if level == GRID else Region
    return set(model.objects.filter(code__in=codes).values_list("code", flat=True))


def _parents(level: str, codes: set[str], on: dt.date) -> dict[str, Region]:
    if level == Level.DISTRICT:
        return {}
    parent_level = Level.COMMUNITY if level == GRID else PARENT_LEVEL[level]
    return {
        r.code: r for r in Region.objects.valid_on(on).filter(level=parent_level, code__in=codes)
    }


def _write_boundaries(level, table, geoms, parent_codes, parents, theme, valid_from) -> list[int]:
    names = table["name"].tolist()
    codes = table["code"].tolist()
    if level == GRID:
        colours = table["colour"].tolist() if "colour" in table else ["blue"] * len(codes)
        nodes = Grid.objects.bulk_create(
            [
                Grid(
                    code=code,
                    name=name,
                    community=parents[parent_codes[i]],
                    theme=theme,
                    colour=colours[i],
                    valid_from=valid_from,
                )
                for i, (code, name) in enumerate(zip(codes, names, strict=True))
            ]
        )
        GridBoundary.objects.bulk_create(
            [
                GridBoundary(grid=node, geom=to_geos(geom), valid_from=valid_from)
                for node, geom in zip(nodes, geoms, strict=True)
            ],
            batch_size=500,
        )
    else:
        nodes = Region.objects.bulk_create(
            [
                Region(
                    level=level,
                    code=code,
                    name=name,
                    parent=parents.get(parent_codes[i]) if level != Level.DISTRICT else None,
                    valid_from=valid_from,
                )
                for i, (code, name) in enumerate(zip(codes, names, strict=True))
            ]
        )
        RegionBoundary.objects.bulk_create(
            [
                RegionBoundary(region=node, geom=to_geos(geom), valid_from=valid_from)
                for node, geom in zip(nodes, geoms, strict=True)
            ],
            batch_size=500,
        )
    return [node.pk for node in nodes]


# ------------------------------------------------------------------------------ households


def point_lonlat(points, report: ImportReport) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The x and y of a point layer's geometries (NaN where a feature is no point or has
    none), and which features are not points, each reported by row."""
    not_point = (shapely.get_type_id(points) != 0) & ~shapely.is_missing(points)
    for i in np.flatnonzero(not_point)[:200]:
        report.problems.append(
            Problem(
                "not_point",
                f"expected a point, got {points[i].geom_type}",
                row=int(i + 1),
                field="geometry",
            )
        )
    lon = np.where(not_point, np.nan, shapely.get_x(points))
    lat = np.where(not_point, np.nan, shapely.get_y(points))
    return lon, lat, not_point


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
    progress.stage("reading", None)
    read = read_points(path, layer=layer, encoding=encoding, report=report)
    if read is None:
        return report
    frame, is_table = read
    report.total = len(frame)
    # Spreadsheet rows as a person sees them (header on row 1); features numbered from 1.
    first_row = 2 if is_table else 1
    wanted = {"address": None, "client_key": None, "registered_on": None, **(fields or {})}
    if is_table:
        wanted = {"lon": None, "lat": None, **wanted}
    required = ("address", "lon", "lat") if is_table else ("address",)
    columns = _resolve_fields(frame.columns, wanted, required, report)
    if report.errors:
        return report
    if is_table:
        lon = pd.to_numeric(frame[columns["lon"]], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame[columns["lat"]], errors="coerce").to_numpy(float)
        source = crs_service.normalise(source_crs) or crs_service.WGS84
    else:
        source = _source_crs(frame, source_crs, report)
        lon, lat, _not_point = point_lonlat(frame.geometry.values, report)
    table = pd.DataFrame(
        {
            "row": np.arange(first_row, first_row + len(frame)),
            "address": _text(frame[columns["address"]]),
            "lon": lon,
            "lat": lat,
        }
    )
    if "client_key" in columns:
        table["client_key"] = _text(frame[columns["client_key"]], number=True)
    if "registered_on" in columns:
        raw = _text(frame[columns["registered_on"]])
        table["registered_on"] = pd.to_datetime(raw, errors="coerce", format="mixed").dt.date
        unreadable = (raw != "") & table["registered_on"].isna()
        for i in np.flatnonzero(unreadable.to_numpy())[:200]:
            report.problems.append(
                Problem(
                    "bad_date",
                    f"{raw.iloc[i]!r} is not a date (use YYYY-MM-DD)",
                    row=int(first_row + i),
                    field="registered_on",
                )
            )
    return load_households(
        table, source_crs=source, commit=commit, progress=progress, report=report
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
    client_key, member_count, registered_on. Used by the importer and the demo district."""
    progress = progress or NullProgress()
    report = report or ImportReport(kind="household", total=len(table))
    progress.stage("checking", len(table))
    n = len(table)
    rows = table["row"].to_numpy()
    lon = table["lon"].to_numpy(float, copy=True)
    lat = table["lat"].to_numpy(float, copy=True)
    bad = np.zeros(n, dtype=bool)

    missing = np.isnan(lon) | np.isnan(lat)
    for i in np.flatnonzero(missing)[:200]:
        report.problems.append(
            Problem(
                "missing_coordinates",
                "longitude or latitude is empty or not a number",
                row=int(rows[i]),
                field="lon/lat",
            )
        )
    bad |= missing
    addresses = table["address"].to_numpy(object)
    empty = (addresses == "") | pd.isna(addresses)
    for i in np.flatnonzero(empty)[:200]:
        report.problems.append(
            Problem("missing_value", "address is empty", row=int(rows[i]), field="address")
        )
    bad |= empty
    # Values the columns cannot hold, and registrations in the future, by row.
    limits = {
        "address": Household._meta.get_field("address").max_length,
        "client_key": Household._meta.get_field("client_key").max_length,
    }
    for name, limit in limits.items():
        if name in table:
            lengths = table[name].fillna("").astype(str).str.len().to_numpy()
            for i in np.flatnonzero(lengths > limit)[:200]:
                report.problems.append(
                    Problem(
                        "too_long",
                        f"{name} has {lengths[i]} characters, at most {limit}",
                        row=int(rows[i]),
                        field=name,
                    )
                )
            bad |= lengths > limit
    if "registered_on" in table:
        dates = pd.to_datetime(table["registered_on"], errors="coerce")
        future = (dates.dt.date > today()).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(future)[:200]:
            report.problems.append(
                Problem(
                    "future_date",
                    "a household cannot be registered in the future",
                    row=int(rows[i]),
                    field="registered_on",
                )
            )
        bad |= future
    district = _district_area()
    if source_crs in (crs_service.WGS84, "EPSG:4490", *crs_service.OFFSET_SYSTEMS):
        # East of 90°E a swapped pair has "latitude" > 90: say so before calling it a CRS error.
        maybe_swapped = np.flatnonzero(
            ~missing & (np.abs(lat) > 90) & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
        )
        swapped = _report_swapped(lon, lat, maybe_swapped, district, rows, report)
        bad |= swapped
        bad |= _lonlat_range_problems(
            np.nan_to_num(lon), np.nan_to_num(lat), rows, report, "point", skip=missing | swapped
        )
    keys = table["client_key"].to_numpy(object) if "client_key" in table else None
    if keys is not None:
        keys = np.where((keys == "") | pd.isna(keys), None, keys)
        seen: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key is None:
                continue
            if key in seen:
                report.problems.append(
                    Problem(
                        "duplicate_key",
                        f"key {key} also on row {seen[key]}",
                        row=int(rows[i]),
                        field="client_key",
                    )
                )
                bad[i] = True
            else:
                seen[key] = int(rows[i])
    ok = ~bad
    if ok.any() and source_crs != crs_service.WGS84:
        points = shapely.points(lon[ok], lat[ok])
        points = crs_service.geometries_to_wgs84(points, source_crs)
        lon[ok], lat[ok] = shapely.get_x(points), shapely.get_y(points)
    bad |= _outside_district_problems(lon, lat, ok, district, rows, report)
    progress.advance(n)
    if report.errors:
        return report

    members = (
        table["member_count"].to_numpy(int) if "member_count" in table else np.zeros(n, dtype=int)
    )
    registered = (
        table["registered_on"].to_numpy(object)
        if "registered_on" in table
        else np.full(n, None, dtype=object)
    )
    staged = pd.DataFrame(
        {
            "row": rows.astype(np.int64),
            "address": addresses,
            "lon": lon,
            "lat": lat,
            "client_key": np.full(n, None, dtype=object) if keys is None else keys,
            "member_count": members,
            "registered_on": np.where(pd.isna(registered), today(), registered),
        }
    )
    progress.stage("writing", n)
    with transaction.atomic():
        report.written, flagged_rows = sql.copy_households(staged, progress=progress.advance)
        # Every row was written but those whose client key is already there.
        report.skipped_existing = n - report.written
        report.flagged = len(flagged_rows)
        for row in flagged_rows[:200]:
            report.problems.append(
                Problem(
                    "outside_grid",
                    "the point lies in no grid; kept and flagged for review",
                    row=int(row),
                    field="geometry",
                    severity="warning",
                )
            )
        report.committed = commit
        if commit:
            announce(Household)
        else:
            transaction.set_rollback(True)
    return report


def _report_swapped(lon, lat, idx, district, rows, report: ImportReport) -> np.ndarray:
    """Mark (and report) the points at `idx` that fall inside the district once longitude
    and latitude are swapped."""
    swapped = np.zeros(len(lon), dtype=bool)
    if district is None or len(idx) == 0:
        return swapped
    inside = shapely.contains_xy(district, lat[idx], lon[idx])
    for i in idx[inside]:
        if swapped.sum() < 200:
            report.problems.append(
                Problem(
                    "swapped_lat_lon",
                    f"({lon[i]:.6f}, {lat[i]:.6f}) lies inside the district only with "
                    "longitude and latitude swapped",
                    row=int(rows[i]),
                    field="lon/lat",
                )
            )
        swapped[i] = True
    return swapped


def _outside_district_problems(lon, lat, ok, district, rows, report: ImportReport) -> np.ndarray:
    """Points far outside every district (in metres), unless swapping lat/lon explains them."""
    bad = np.zeros(len(lon), dtype=bool)
    if district is None or not ok.any():
        return bad
    centre = district.centroid
    metric = crs_service.local_metric_crs(centre.x, centre.y)
    to_metric = Transformer.from_crs(crs_service.WGS84, metric, always_xy=True)
    area = shapely.transform(district, lambda xy: np.column_stack(to_metric.transform(*xy.T)))
    shapely.prepare(area)
    idx = np.flatnonzero(ok)
    x, y = to_metric.transform(lon[idx], lat[idx])
    inside = shapely.contains_xy(area, x, y)
    outside = np.flatnonzero(~inside)
    distance = np.zeros(len(idx))
    if len(outside):
        distance[outside] = shapely.distance(area, shapely.points(x[outside], y[outside]))
    far = distance > settings.GRIDLINE_OUTSIDE_DISTRICT_M
    swapped = _report_swapped(lon, lat, idx[far], district, rows, report)
    for j in np.flatnonzero(far)[:200]:
        i = idx[j]
        if swapped[i]:
            continue
        report.problems.append(
            Problem(
                "far_outside_district",
                f"the point is {distance[j] / 1000:.1f} km outside the district: wrong "
                "coordinate system or a typing error?",
                row=int(rows[i]),
                field="lon/lat",
                location=(float(lon[i]), float(lat[i])),
            )
        )
    bad[idx[far]] = True
    return bad


def _district_area(district_id: int | None = None):
    """The current outline of one district, or of every district, prepared for point tests."""
    boundaries = RegionBoundary.objects.current().filter(
        region__level=Level.DISTRICT, region__valid_to__isnull=True
    )
    if district_id is not None:
        boundaries = boundaries.filter(region_id=district_id)
    geoms = [shapely.from_wkb(bytes(b.geom.wkb)) for b in boundaries]
    if not geoms:
        return None
    area = shapely.union_all(geoms)
    shapely.prepare(area)
    return area
