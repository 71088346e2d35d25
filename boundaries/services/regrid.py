"""Whole re-gridding from a file: a complete new grid layout for a community or a street (the
421 -> 988 case) becomes one change set, with the same validation, preview and approval as a
redraw on the map.

Each feature of the file is a grid of the new layout, keyed by its code: the code of a
current grid of the region reshapes (or renames) that grid, a new code makes a new grid in
the community its code starts with, and every current grid of the region the file leaves out
is retired. The file's problems that no drawing can fix (unreadable geometry, bad or
duplicate codes) refuse the whole file; overlaps, gaps and small grids do not: they are the
change set's validation, fixed on the map afterwards.
"""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from django.db import transaction
from django.utils.translation import gettext as _

from boundaries.models import ChangeSet, ChangeSetEvent, ChangeSetItem, Kind
from boundaries.services import changesets
from boundaries.services.editing import default_name
from boundaries.services.geometry import PRECISION, snap
from boundaries.services.state import communities_of, current_grids
from grids.models import CODE_LENGTH, Grid, GridBoundary, Level, Region
from grids.problems import Problem, ProblemsError
from grids.services import crs as crs_service
from grids.services import imports
from grids.services.boundaries import code_problem, to_geos, to_shapely
from grids.services.geometry import check_polygons

NAME_MAX = ChangeSetItem._meta.get_field("name").max_length
COMMUNITY_CODE_LENGTH = CODE_LENGTH[Level.COMMUNITY]
# Problems listed per file: enough to fix a batch, not a flood for a file in the wrong CRS.
MAX_PROBLEMS = 500


@dataclass
class LayoutFeature:
    """One grid of the new layout as read from the file (row counts features from 1; geom
    None when the feature's geometry is refused)."""

    row: int
    code: str
    name: str
    geom: shapely.Geometry | None


def import_layout(
    *,
    user,
    region: Region,
    path: str | Path,
    title: str,
    code_field: str = "code",
    name_field: str = "name",
    layer: str | None = None,
    crs: str | None = None,
    valid_from: dt.date | None = None,
    parameters: imports.ApiParameters | None = None,
) -> ChangeSet:
    """A FILE change set (a draft of `user`) that turns the region's grids into the layout
    of the file. Raises ProblemsError naming every bad feature by row, code and field, and
    then writes nothing; 403/409 from creating the change set (who may author, conflicts).
    `parameters`: the API's form fields, which the messages' hints name (None: the command's
    options)."""
    path = Path(path)
    with imports.worded_for(parameters), transaction.atomic():
        change_set = changesets.create(
            user=user, region=region, title=title, valid_from=valid_from, kind=Kind.FILE
        )
        features, found = read_layout(
            path, code_field=code_field, name_field=name_field, layer=layer, crs=crs
        )
        communities = {c.code: c for c in communities_of(change_set)}
        found += code_problems(features, communities, region)
        errors = sorted((p for p in found if p.severity == "error"), key=lambda p: p.row or 0)
        if errors:
            raise ProblemsError(errors[:MAX_PROBLEMS])
        warnings = [p for p in found if p.severity == "warning"]
        counts = _write_items(change_set, features, communities)
        if conflicts := changesets.conflicts(change_set):
            error = ProblemsError(conflicts)
            error.status_code = 409
            raise error
        comment = _("%(file)s: %(reshape)d reshaped, %(new)d new, %(retire)d retired") % {
            "file": path.name,
            **counts,
        }
        if warnings:
            comment += "\n" + "\n".join(str(w) for w in warnings)
        ChangeSetEvent.objects.create(
            change_set=change_set, action="imported", by=user, comment=comment
        )
    return change_set


# What reading a broken file can raise beyond GDAL's own errors: Arrow refusing text that
# is not in the encoding it was told, and pyogrio indexing the layers of a data source that
# has none (a zipped shapefile whose .dbf or .shx is bogus or missing).
UNREADABLE = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    OSError,
    pa.ArrowException,
    UnicodeDecodeError,
    IndexError,
)
JSON_SUFFIXES = (".geojson", ".json")


def _not_utf8_json(path: Path) -> Problem | None:
    """GeoJSON is UTF-8 by definition (RFC 7946) and GDAL reads it so; a file saved in GBK
    would fail deep in Arrow. Say so, and what to do."""
    if path.suffix.lower() not in JSON_SUFFIXES or not path.is_file():
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return Problem(
            "not_utf8",
            _(
                "%(file)s is not UTF-8 text (GBK?): a GeoJSON file is always UTF-8; save it "
                "again as UTF-8 (in QGIS: Export, encoding UTF-8)"
            )
            % {"file": path.name},
            field="file",
        )
    return None


def read_layout(
    path: Path,
    *,
    code_field: str = "code",
    name_field: str = "name",
    layer: str | None = None,
    crs: str | None = None,
) -> tuple[list[LayoutFeature], list[Problem]]:
    """The features of a layout file in WGS84 with their geometry checked (the foundation's
    readers: any format GDAL reads, Shapefiles in GBK, any CRS incl. GCJ-02/BD-09). Returns
    every feature (geom None where it is bad) and the problems found by feature; raises
    ProblemsError for a file that cannot be read at all."""
    report = imports.ImportReport(kind="grid", source=str(path))
    if problem := _not_utf8_json(path):
        raise ProblemsError([problem])
    try:
        frame = imports.read_vector(path, layer=layer)
    except UNREADABLE as exc:
        message = _("cannot read %(file)s: %(reason)s") % {
            "file": path.name,
            "reason": str(exc) or type(exc).__name__,
        }
        code = getattr(exc, "code", "unreadable")
        raise ProblemsError([Problem(code, message, field="file")]) from exc
    if len(frame) == 0:
        # An empty layout would retire every grid of the region.
        raise ProblemsError([Problem("empty_file", _("%s has no features") % path.name)])
    # The defaults let the foundation's guesses (编码, 名称, wgbm ...) find the columns.
    wanted = {
        "code": None if code_field == "code" else code_field,
        "name": None if name_field == "name" else name_field,
    }
    columns = imports.resolve_fields(frame.columns, wanted, ("code",), report)
    try:
        source = imports.source_crs(frame, crs, report)
    except crs_service.UnknownCRS as exc:
        report.problems.append(Problem("unknown_crs", str(exc), field="crs"))
    if report.errors:
        raise ProblemsError(report.errors)

    rows = np.arange(1, len(frame) + 1)
    codes = imports.text(frame[columns["code"]], number=True).tolist()
    names = (
        imports.text(frame[columns["name"]]).tolist() if "name" in columns else [""] * len(frame)
    )
    geoms = np.asarray(frame.geometry.values, dtype=object)
    usable = np.ones(len(frame), dtype=bool)
    if source in (crs_service.WGS84, "EPSG:4490", *crs_service.OFFSET_SYSTEMS):
        # A projected file read as degrees is the commonest wrong CRS: say so per feature.
        bounds = shapely.bounds(geoms)
        with np.errstate(invalid="ignore"):
            lon = np.nan_to_num(np.abs(bounds[:, [0, 2]])).max(axis=1)
            lat = np.nan_to_num(np.abs(bounds[:, [1, 3]])).max(axis=1)
        usable &= ~imports.lonlat_range_problems(lon, lat, rows, report, "coordinate")
    if usable.any():
        geoms[usable] = crs_service.geometries_to_wgs84(geoms[usable], source)
    labels = [code or None for code in codes]
    fixed, geometry_problems = check_polygons(geoms, labels=labels)
    for i, problem in geometry_problems:
        if usable[i]:
            report.problems.append(replace(problem, row=int(rows[i])))
            usable[i] = False
    features = []
    for i in range(len(frame)):
        snapped = snap(fixed[i]) if usable[i] else None
        features.append(LayoutFeature(int(rows[i]), codes[i], names[i], snapped))
        if snapped is not None and snapped.is_empty:
            features[-1].geom = None
            report.problems.append(
                Problem(
                    "empty_geometry",
                    _("the polygon is too small to keep (under a millimetre)"),
                    row=int(rows[i]),
                    field="geometry",
                    feature=labels[i],
                )
            )
    return features, report.problems


def code_problems(
    features: list[LayoutFeature], communities: dict[str, Region], region: Region
) -> list[Problem]:
    """Refuse codes that break the scheme, lie under a community outside the region, repeat
    in the file or belong to another grid (codes are never reused); names that are too
    long."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    current = {g.code for g in current_grids([c.pk for c in communities.values()])}
    taken = set(
        Grid.objects.filter(code__in=[f.code for f in features])
        .exclude(code__in=current)
        .values_list("code", flat=True)
    )
    for feature in features:
        code, row = feature.code, feature.row
        if not code:
            problems.append(Problem("missing_value", _("code is empty"), row=row, field="code"))
            continue
        if problem := code_problem(code, None, None):
            problems.append(replace(problem, row=row))
            continue
        community_code = code[:COMMUNITY_CODE_LENGTH]
        if community_code not in communities:
            problems.append(
                Problem(
                    "code_not_under_parent",
                    _(
                        "code %(code)s is under %(community)s, which is not a community "
                        "of %(region)s"
                    )
                    % {"code": code, "community": community_code, "region": region},
                    row=row,
                    field="code",
                    feature=code,
                )
            )
        if code in seen:
            problems.append(
                Problem(
                    "duplicate_code",
                    _("code %(code)s also on row %(row)d") % {"code": code, "row": seen[code]},
                    row=row,
                    field="code",
                    feature=code,
                )
            )
        seen.setdefault(code, row)
        if code in taken:
            problems.append(
                Problem(
                    "duplicate_code",
                    _(
                        "code %s belongs to another grid (retired or of another theme); codes "
                        "are never reused"
                    )
                    % code,
                    row=row,
                    field="code",
                    feature=code,
                )
            )
        if len(feature.name) > NAME_MAX:
            problems.append(
                Problem(
                    "too_long",
                    _("name has %(n)d characters, at most %(max)d")
                    % {"n": len(feature.name), "max": NAME_MAX},
                    row=row,
                    field="name",
                    feature=code,
                )
            )
    return problems


def same_boundary(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    """Equal up to PRECISION: every vertex of each within PRECISION of the other."""
    return bool(shapely.equals(a, b) or shapely.hausdorff_distance(a, b) <= PRECISION)


def _write_items(
    change_set: ChangeSet, features: list[LayoutFeature], communities: dict[str, Region]
) -> dict[str, int]:
    """Bulk-create one item per grid the layout changes; returns how many of each action."""
    grids = {g.code: g for g in current_grids([c.pk for c in communities.values()])}
    boundaries = {
        b.grid_id: to_shapely(b.geom)
        for b in GridBoundary.objects.current().filter(grid__in=[g.pk for g in grids.values()])
    }
    items: list[ChangeSetItem] = []
    counts = {"reshape": 0, "new": 0, "retire": 0}
    in_file = set()
    for feature in features:
        in_file.add(feature.code)
        grid = grids.get(feature.code)
        if grid is None:
            items.append(
                ChangeSetItem(
                    change_set=change_set,
                    community=(community := communities[feature.code[:COMMUNITY_CODE_LENGTH]]),
                    code=feature.code,
                    name=feature.name or default_name(community, feature.code),
                    geom=to_geos(feature.geom),
                )
            )
            counts["new"] += 1
            continue
        name = feature.name or grid.name
        current = boundaries.get(grid.pk)
        if name == grid.name and current is not None and same_boundary(feature.geom, snap(current)):
            continue
        items.append(ChangeSetItem.of_grid(change_set, grid, to_geos(feature.geom), name=name))
        counts["reshape"] += 1
    for code, grid in grids.items():
        if code not in in_file:
            items.append(ChangeSetItem.of_grid(change_set, grid, None))
            counts["retire"] += 1
    ChangeSetItem.objects.bulk_create(items, batch_size=500)
    return counts
