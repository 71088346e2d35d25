"""One level of the tree (district, street, community or grid) from a boundary file.

The import runs in one transaction: it is written, checked against the tree's rules in
PostGIS, and rolled back unless `commit` is set and no error was found (a dry run sees what
a commit would do; the rolled-back rows use up ids, which leaves gaps and nothing else).
Codes already in the platform are errors, or with `update` new boundary versions; a file
without codes can have them generated (`generate_codes`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.db import transaction
from django.utils.translation import gettext as _

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
    rekey_area,
    to_geos,
    to_shapely,
)
from grids.services.geometry import check_polygons
from grids.services.imports import alignment
from grids.services.imports.codes import generate_codes as make_codes
from grids.services.imports.columns import BOUNDARY_FIELDS, check_targets, resolve_fields, text
from grids.services.imports.coordinates import (
    DEGREE_SYSTEMS,
    lonlat_range_problems,
)
from grids.services.imports.coordinates import (
    source_crs as file_crs,
)
from grids.services.imports.reading import read_file
from grids.services.imports.report import ImportReport, NullProgress, Progress
from grids.signals import announce

GRID = "grid"
LEVELS = (*Level.values, GRID)


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
    generate_codes: bool = False,
    update: bool = False,
    commit: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one level of the tree (district, street, community or grid) from a file."""
    path = Path(path)
    progress = progress or NullProgress()
    report = ImportReport(kind=level, source=str(path))
    if level not in LEVELS:
        report.problems.append(
            Problem(
                "bad_level",
                _("level must be one of %(levels)s") % {"levels": ", ".join(LEVELS)},
                field="level",
            )
        )
        return report
    check_targets(fields, BOUNDARY_FIELDS, report)
    try:
        crs_service.normalise(source_crs)
    except crs_service.UnknownCRS as exc:
        report.problems.append(Problem("unknown_crs", str(exc), field="source_crs"))
    if generate_codes and level == Level.DISTRICT:
        report.problems.append(
            Problem(
                "cannot_generate",
                _("district codes are GB/T 2260 codes and cannot be generated"),
                field="code",
            )
        )
    if report.errors:
        return report
    progress.stage("reading", None)
    frame = read_file(path, layer=layer, encoding=encoding, report=report)
    if frame is None:
        return report
    report.total = len(frame)
    wanted = {"name": None, "code": None, "parent_code": None, **(fields or {})}
    required = ("name",) if generate_codes else ("name", "code")
    columns = resolve_fields(frame.columns, wanted, required, report)
    if report.errors:
        return report
    source = file_crs(frame, source_crs, report)
    table = pd.DataFrame(
        {
            "row": np.arange(1, len(frame) + 1),
            "code": text(frame[columns["code"]], number=True) if "code" in columns else "",
            "name": text(frame[columns["name"]]),
        }
    )
    if "parent_code" in columns:
        table["parent_code"] = text(frame[columns["parent_code"]], number=True)
    return load_boundaries(
        table,
        np.asarray(frame.geometry.values, dtype=object),
        level=level,
        source_crs=source,
        theme=theme,
        valid_from=valid_from,
        repair=repair,
        generate_codes=generate_codes,
        update=update,
        commit=commit,
        progress=progress,
        report=report,
    )


def _raw_points(geoms: np.ndarray) -> list[tuple[float, float] | None]:
    """A point of each feature in the file's own coordinates, for the problem report."""
    points = shapely.point_on_surface(geoms)
    return [None if p is None or p.is_empty else (float(p.x), float(p.y)) for p in points.tolist()]


def load_boundaries(
    table: pd.DataFrame,
    geoms: np.ndarray,
    *,
    level: str,
    source_crs: str = crs_service.WGS84,
    theme: str = Theme.GOVERNANCE,
    valid_from: dt.date | None = None,
    repair: bool = False,
    generate_codes: bool = False,
    update: bool = False,
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
    table = table.reset_index(drop=True).copy()
    rows = table["row"].to_numpy()
    geoms = np.asarray(geoms, dtype=object)
    with np.errstate(invalid="ignore"):
        raw_points = _raw_points(geoms)
    # Range of raw coordinates: a projected file read as degrees is the commonest wrong CRS.
    if source_crs in DEGREE_SYSTEMS:
        bounds = shapely.bounds(geoms)
        with np.errstate(invalid="ignore"):
            lon = np.nan_to_num(
                np.where(np.abs(bounds[:, 0]) > np.abs(bounds[:, 2]), bounds[:, 0], bounds[:, 2])
            )
            lat = np.nan_to_num(
                np.where(np.abs(bounds[:, 1]) > np.abs(bounds[:, 3]), bounds[:, 1], bounds[:, 3])
            )
        out_of_range = lonlat_range_problems(lon, lat, rows, report, "coordinate")
    else:
        out_of_range = np.zeros(len(geoms), dtype=bool)
    usable = ~out_of_range
    if usable.any():
        geoms[usable] = crs_service.geometries_to_wgs84(geoms[usable], source_crs)
    if generate_codes:
        make_codes(table, geoms, usable, level=level, on=valid_from, report=report)
    labels = [f"{c} {n}" for c, n in zip(table["code"], table["name"], strict=True)]
    fixed, geometry_problems = check_polygons(geoms, repair=repair, labels=labels)
    # Problems found after conversion carry WGS84 locations: quote the file's own point
    # instead, unless the file is in WGS84 (or CGCS2000, the same to a few centimetres).
    own = source_crs in (crs_service.WGS84, "EPSG:4490")
    for i, problem in geometry_problems:
        if usable[i]:
            report.problems.append(_with_row(problem, rows[i], raw_points[i], own=own))
            usable[i] = False
    if usable.any() and source_crs in (crs_service.WGS84, "EPSG:4490"):
        alignment.check_boundaries(fixed[usable], source_crs, report)

    codes = table["code"].tolist()
    parent_codes = table["parent_code"].tolist() if "parent_code" in table else [None] * len(table)
    seen: dict[str, int] = {}
    existing = _existing(level, codes)
    known = np.zeros(len(codes), dtype=bool)
    for i, code in enumerate(codes):
        parent_code = parent_codes[i] or _parent_code_from(code, level)
        parent_codes[i] = parent_code
        where = {"row": int(rows[i]), "feature": code or None, "location": raw_points[i]}
        if not table["name"].iloc[i]:
            report.problems.append(
                Problem("missing_value", _("name is empty"), field="name", **where)
            )
            usable[i] = False
        problem = code_problem(
            code, None if level == GRID else level, parent_code if level != Level.DISTRICT else None
        )
        if problem:
            report.problems.append(_with_row(problem, rows[i], raw_points[i], value=code))
            usable[i] = False
        if code in seen:
            report.problems.append(
                Problem(
                    "duplicate_code",
                    _("code %(code)s also on row %(row)d") % {"code": code, "row": seen[code]},
                    field="code",
                    value=code,
                    **where,
                )
            )
            usable[i] = False
        seen.setdefault(code, int(rows[i]))
        node = existing.get(code)
        if node is not None:
            if update and node.valid_to is None:
                known[i] = True
            else:
                report.problems.append(
                    Problem(
                        "duplicate_code",
                        _known_code(node.valid_to, update)
                        % {"code": code, "retired": node.valid_to},
                        field="code",
                        value=code,
                        **where,
                    )
                )
                usable[i] = False
        progress.advance(1)

    parents = _parents(level, {p for p in parent_codes if p}, valid_from)
    if level != Level.DISTRICT:
        for i, parent_code in enumerate(parent_codes):
            if usable[i] and not known[i] and parent_code not in parents:
                report.problems.append(
                    Problem(
                        "unknown_parent",
                        _("parent %(code)s does not exist (import the level above first)")
                        % {"code": parent_code},
                        row=int(rows[i]),
                        field="parent_code",
                        feature=codes[i],
                        value=parent_code,
                        location=raw_points[i],
                    )
                )
                usable[i] = False

    if report.errors:
        return report
    progress.stage("writing", len(table))
    with transaction.atomic():
        sql.lock_tree(shared=False)
        new = ~known
        ids = _write_boundaries(
            level,
            table[new],
            fixed[new],
            np.array(parent_codes, dtype=object)[new],
            parents,
            theme,
            valid_from,
        )
        updated_ids, changed_area = _update_boundaries(
            level, table, fixed, known, existing, rows, raw_points, valid_from, report
        )
        progress.advance(len(ids) + len(updated_ids))
        progress.stage("checking the tree", None)
        row_of = dict(zip(codes, rows.tolist(), strict=True))
        point_of = dict(zip(codes, raw_points, strict=True))
        checked = [*ids, *updated_ids]
        for problem in (
            integrity_problems(grid_ids=checked, on=valid_from)
            if level == GRID
            else integrity_problems(region_ids=checked, on=valid_from)
        ):
            report.problems.append(
                _with_row(
                    problem, row_of.get(problem.feature), point_of.get(problem.feature), own=own
                )
            )
        if level == GRID and theme == Theme.GOVERNANCE and not report.errors:
            if new.any():
                area = shapely.union_all(fixed[new])
                sql.reassign_places(bytes(to_geos(area).ewkb), valid_from)
            if changed_area is not None and not changed_area.is_empty:
                rekey_area(bytes(to_geos(changed_area).ewkb), valid_from)
        report.written = 0 if report.errors else len(ids)
        if report.errors:
            report.updated = report.unchanged = 0
        report.committed = commit and not report.errors
        if report.committed:
            announce(Grid if level == GRID else Region)
            announce(Household)
        else:
            transaction.set_rollback(True)
    return report


def _with_row(problem: Problem, row, location=None, value=None, own=True) -> Problem:
    """The problem with its row, the file's value and a location in the file's coordinates
    (the problem's own when `own`: found in the file's coordinates)."""
    keep = own and problem.location is not None
    return replace(
        problem,
        row=int(row) if row is not None else None,
        location=problem.location if keep else (location or problem.location if own else location),
        value=problem.value if value is None else value,
    )


def _parent_code_from(code: str, level: str) -> str | None:
    if level == Level.DISTRICT or not code:
        return None
    length = CODE_LENGTH[PARENT_LEVEL[level]] if level != GRID else CODE_LENGTH[Level.COMMUNITY]
    return code[:length]


def _existing(level: str, codes: list[str]) -> dict[str, Region | Grid]:
    model = Grid if level == GRID else Region
    return {node.code: node for node in model.objects.filter(code__in=codes)}


def _parents(level: str, codes: set[str], on: dt.date) -> dict[str, Region]:
    if level == Level.DISTRICT:
        return {}
    parent_level = Level.COMMUNITY if level == GRID else PARENT_LEVEL[level]
    return {
        r.code: r for r in Region.objects.valid_on(on).filter(level=parent_level, code__in=codes)
    }


# A boundary within this of the stored one (degrees, ~1 cm) is unchanged: a file exported
# from the platform and imported again makes no new versions.
SAME_SHAPE = 1e-7


def _update_boundaries(level, table, geoms, known, existing, rows, points, valid_from, report):
    """New boundary versions (and names) for the known codes whose boundary or name differ;
    returns the ids of the nodes changed and, for grids, the area whose points move."""
    is_grid = level == GRID
    versions = GridBoundary if is_grid else RegionBoundary
    owner = "grid" if is_grid else "region"
    changed_ids, changed_area = [], None
    for i in np.flatnonzero(known):
        node = existing[table["code"].iloc[i]]
        name = table["name"].iloc[i]
        current = (
            versions.objects.select_for_update()
            .filter(**{owner: node}, valid_to__isnull=True)
            .first()
        )
        old = to_shapely(current.geom) if current is not None else shapely.MultiPolygon()
        where = {"row": int(rows[i]), "feature": node.code, "location": points[i]}
        same_shape = current is not None and shapely.equals_exact(
            shapely.normalize(old), shapely.normalize(geoms[i]), SAME_SHAPE
        )
        if same_shape and name == node.name:
            report.unchanged += 1
            report.problems.append(
                Problem("unchanged", _("boundary and name as stored"), severity="info", **where)
            )
            continue
        if current is not None and valid_from < current.valid_from:
            report.problems.append(
                Problem(
                    "before_current_version",
                    _(
                        "the current boundary is valid from %(current)s; "
                        "--valid-from %(given)s is earlier"
                    )
                    % {"current": current.valid_from, "given": valid_from},
                    field="valid_from",
                    value=str(valid_from),
                    **where,
                )
            )
            continue
        what = []
        if not same_shape:
            if current is not None:
                current.valid_to = valid_from
                current.save(update_fields=["valid_to"])
            versions.objects.create(
                **{owner: node}, geom=to_geos(geoms[i]), valid_from=valid_from, reason="import"
            )
            what.append(_("new boundary version from %(day)s") % {"day": valid_from})
            if is_grid:
                diff = shapely.symmetric_difference(old, geoms[i])
                changed_area = diff if changed_area is None else shapely.union(changed_area, diff)
        if name != node.name:
            what.append(_("renamed from '%(old)s' to '%(new)s'") % {"old": node.name, "new": name})
        fields = {"name": name}
        if is_grid:
            fields["version"] = node.version + 1
        type(node).objects.filter(pk=node.pk).update(**fields)
        changed_ids.append(node.pk)
        report.updated += 1
        report.problems.append(Problem("updated", _("; ").join(what), severity="info", **where))
    return changed_ids, changed_area


def _known_code(retired_on, update: bool) -> str:
    """A code the platform has: retired or not, with the --update hint unless it was given."""
    if retired_on and update:
        return _("code %(code)s already exists in the platform (retired on %(retired)s)")
    if retired_on:
        return _(
            "code %(code)s already exists in the platform (retired on %(retired)s); pass "
            "--update to give it a new boundary version"
        )
    if update:
        return _("code %(code)s already exists in the platform")
    return _(
        "code %(code)s already exists in the platform; pass --update to give it a new "
        "boundary version"
    )


def _write_boundaries(level, table, geoms, parent_codes, parents, theme, valid_from) -> list[int]:
    names = table["name"].tolist()
    codes = table["code"].tolist()
    if not codes:
        return []
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
