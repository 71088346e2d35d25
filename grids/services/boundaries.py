"""Creating regions and grids and changing their boundaries, with the tree's integrity rules:
a child lies inside its parent, siblings of one theme do not overlap (both within tolerances
in metres from settings), codes follow GB/T 2260 + 3 digits per level, and a boundary change
closes the old version and opens a new one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.utils.translation import gettext as _

from grids import changes, sql
from grids.models import (
    CODE_LENGTH,
    GRID_CODE_LENGTH,
    PARENT_LEVEL,
    Address,
    Building,
    Grid,
    GridBoundary,
    Household,
    Level,
    Region,
    RegionBoundary,
    Theme,
    Unit,
    User,
    today,
)
from grids.problems import Problem, ProblemsError
from grids.services.geometry import check_polygon
from grids.signals import announce, grid_area_changed

SRID = 4326


def to_shapely(geom) -> shapely.Geometry:
    if isinstance(geom, GEOSGeometry):
        return shapely.from_wkb(bytes(geom.wkb))
    return geom


def to_geos(geom: shapely.Geometry) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=SRID)


def code_problem(code: str, level: str | None, parent_code: str | None) -> Problem | None:
    """A code is the parent's code plus 3 digits (the district: 6 digits of GB/T 2260)."""
    expected = GRID_CODE_LENGTH if level is None else CODE_LENGTH[level]
    if not code or not code.isdigit() or len(code) != expected:
        return Problem(
            "bad_code",
            _("code must be %(n)d digits") % {"n": expected},
            field="code",
            feature=code,
        )
    if parent_code is not None and not code.startswith(parent_code):
        return Problem(
            "code_not_under_parent",
            _("code %(code)s does not start with its parent's code %(parent)s")
            % {"code": code, "parent": parent_code},
            field="code",
            feature=code,
        )
    return None


def integrity_problems(
    *, region_ids: Sequence[int] = (), grid_ids: Sequence[int] = (), on: dt.date | None = None
) -> list[Problem]:
    """Check written (not yet committed) nodes against the tree's rules on `on` and on every
    later day up to today on which any boundary changes: a back-dated version must fit the
    versions that came after it too."""
    on = on or today()
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for day in [on, *sql.boundary_change_dates(on, today())]:
        for problem in _problems_on(list(region_ids), list(grid_ids), day):
            key = (problem.code, problem.feature, problem.message)
            if key not in seen:
                seen.add(key)
                problems.append(problem)
    return problems


def _problems_on(region_ids: list[int], grid_ids: list[int], on: dt.date) -> list[Problem]:
    inside_tol = settings.GRIDLINE_CONTAINMENT_TOLERANCE_M
    overlap_tol = settings.GRIDLINE_OVERLAP_TOLERANCE_M
    problems: list[Problem] = []
    if region_ids:
        for row in sql.regions_outside_parent(region_ids, on, inside_tol):
            problems.append(_outside(*row, tol=inside_tol, on=on))
        problems += _overlaps(sql.regions_overlapping(region_ids, on, overlap_tol), overlap_tol)
    community_ids = list(
        Region.objects.filter(pk__in=region_ids, level=Level.COMMUNITY).values_list("pk", flat=True)
    )
    if grid_ids or community_ids:
        for row in sql.grids_outside_community(grid_ids, community_ids, on, inside_tol):
            problems.append(_outside(*row, tol=inside_tol, on=on))
    if grid_ids:
        problems += _overlaps(sql.grids_overlapping(grid_ids, on, overlap_tol), overlap_tol)
    return problems


def _outside(child: str, parent: str, x, y, missing: bool, *, tol: float, on) -> Problem:
    if missing:
        return Problem(
            "parent_missing",
            _("%(child)s: its parent %(parent)s has no boundary on %(on)s")
            % {"child": child, "parent": parent, "on": on},
            feature=child,
            field="valid_from",
        )
    return Problem(
        "outside_parent",
        _("%(child)s extends more than %(tol)s m outside its parent %(parent)s")
        % {"child": child, "tol": f"{tol:g}", "parent": parent},
        feature=child,
        field="geometry",
        location=(x, y) if x is not None else None,
    )


def _overlaps(rows: Iterable[tuple], tol: float) -> list[Problem]:
    seen: set[frozenset] = set()
    problems = []
    for code, other, x, y in rows:
        if frozenset((code, other)) in seen:
            continue
        seen.add(frozenset((code, other)))
        problems.append(
            Problem(
                "overlap",
                _("%(code)s overlaps its sibling %(other)s by more than %(tol)s m")
                % {"code": code, "other": other, "tol": f"{tol:g}"},
                feature=code,
                field="geometry",
                location=(x, y) if x is not None else None,
            )
        )
    return problems


def future_date_problem(valid_from: dt.date) -> Problem | None:
    """Boundaries start today or earlier: a version in the future would key nobody yet and
    make the single and bulk paths disagree."""
    if valid_from > today():
        return Problem(
            "future_date", _("a boundary cannot start in the future"), field="valid_from"
        )
    return None


def _polygon_or_raise(geom, *, repair: bool, label: str) -> GEOSGeometry:
    fixed, problem = check_polygon(to_shapely(geom), repair=repair, label=label)
    if problem:
        raise ProblemsError([problem])
    return to_geos(fixed)


@transaction.atomic
def create_region(
    *,
    level: str,
    code: str,
    name: str,
    geom,
    parent: Region | None = None,
    valid_from: dt.date | None = None,
    repair: bool = False,
) -> Region:
    valid_from = valid_from or today()
    sql.lock_tree(shared=False)
    problems = [p for p in [future_date_problem(valid_from)] if p]
    if (parent is None) != (level == Level.DISTRICT) or (
        parent is not None and parent.level != PARENT_LEVEL[level]
    ):
        problems.append(
            Problem(
                "bad_parent",
                _("a %(level)s needs a parent of the level above")
                % {"level": Level(level).label if level in Level.values else level},
                field="parent",
                feature=code,
            )
        )
    if problem := code_problem(code, level, parent.code if parent else None):
        problems.append(problem)
    if Region.objects.filter(code=code).exists():
        problems.append(
            Problem(
                "duplicate_code",
                _("code %(code)s already exists") % {"code": code},
                field="code",
                feature=code,
            )
        )
    if problems:
        raise ProblemsError(problems)
    boundary = _polygon_or_raise(geom, repair=repair, label=code)
    region = Region.objects.create(
        level=level, code=code, name=name, parent=parent, valid_from=valid_from
    )
    RegionBoundary.objects.create(region=region, geom=boundary, valid_from=valid_from)
    if problems := integrity_problems(region_ids=[region.pk], on=valid_from):
        raise ProblemsError(problems)
    announce(Region)
    return region


@transaction.atomic
def create_grid(
    *,
    code: str,
    name: str,
    community: Region,
    geom,
    theme: str = Theme.GOVERNANCE,
    valid_from: dt.date | None = None,
    repair: bool = False,
    **attributes,
) -> Grid:
    valid_from = valid_from or today()
    sql.lock_tree(shared=False)
    problems = [p for p in [future_date_problem(valid_from)] if p]
    if community.level != Level.COMMUNITY:
        problems.append(
            Problem(
                "bad_parent",
                _("a grid's parent must be a community"),
                field="community",
                feature=code,
            )
        )
    if problem := code_problem(code, None, community.code):
        problems.append(problem)
    if Grid.objects.filter(code=code).exists():
        problems.append(
            Problem(
                "duplicate_code",
                _("code %(code)s already exists") % {"code": code},
                field="code",
                feature=code,
            )
        )
    if problems:
        raise ProblemsError(problems)
    boundary = _polygon_or_raise(geom, repair=repair, label=code)
    grid = Grid.objects.create(
        code=code,
        name=name,
        community=community,
        theme=theme,
        valid_from=valid_from,
        **attributes,
    )
    GridBoundary.objects.create(grid=grid, geom=boundary, valid_from=valid_from)
    if problems := integrity_problems(grid_ids=[grid.pk], on=valid_from):
        raise ProblemsError(problems)
    if theme == Theme.GOVERNANCE:
        rekey_area(bytes(boundary.ewkb), valid_from)
    announce(Grid)
    return grid


@dataclass(frozen=True)
class BoundaryChange:
    node: Region | Grid
    geom: object
    expected_version: int | None = None


@transaction.atomic
def change_boundaries(
    changes: Sequence[BoundaryChange],
    *,
    valid_from: dt.date | None = None,
    reason: str = "",
    repair: bool = False,
) -> int:
    """Redraw one or more boundaries together (a redraw usually moves a shared edge of two
    neighbours). Closes each open version, opens a new one from `valid_from`, checks the tree
    and re-keys the households in the changed area. Returns how many households moved.

    A grid changed since the caller read it (`expected_version`) makes the whole change fail.
    """
    valid_from = valid_from or today()
    if problem := future_date_problem(valid_from):
        raise ProblemsError([problem])
    sql.lock_tree(shared=False)
    changed_area = None
    region_ids, grid_ids = [], []
    for change in changes:
        node = change.node
        label = node.code
        boundary = _polygon_or_raise(change.geom, repair=repair, label=label)
        versions = (RegionBoundary if isinstance(node, Region) else GridBoundary).objects
        owner = {"region": node} if isinstance(node, Region) else {"grid": node}
        current = versions.select_for_update().filter(**owner, valid_to__isnull=True).first()
        if isinstance(node, Grid):
            locked = Grid.objects.select_for_update().get(pk=node.pk)
            if change.expected_version is not None and locked.version != change.expected_version:
                raise ProblemsError(
                    [
                        Problem(
                            "stale_version",
                            _(
                                "grid %(grid)s was changed by someone else (version "
                                "%(version)d, you edited %(edited)d); reload and redraw"
                            )
                            % {
                                "grid": label,
                                "version": locked.version,
                                "edited": change.expected_version,
                            },
                            field="version",
                            feature=label,
                        )
                    ]
                )
            Grid.objects.filter(pk=node.pk).update(version=locked.version + 1)
            grid_ids.append(node.pk)
        else:
            region_ids.append(node.pk)
        if current is not None:
            if valid_from < current.valid_from:
                raise ProblemsError(
                    [
                        Problem(
                            "before_current_version",
                            _("%(code)s: the current boundary is valid from %(date)s")
                            % {"code": label, "date": current.valid_from},
                            field="valid_from",
                            feature=label,
                        )
                    ]
                )
            old = to_shapely(current.geom)
            current.valid_to = valid_from
            current.save(update_fields=["valid_to"])
        else:
            old = shapely.MultiPolygon()
        versions.create(**owner, geom=boundary, valid_from=valid_from, reason=reason)
        if isinstance(node, Grid):
            diff = shapely.symmetric_difference(old, to_shapely(boundary))
            changed_area = diff if changed_area is None else shapely.union(changed_area, diff)
    if problems := integrity_problems(region_ids=region_ids, grid_ids=grid_ids, on=valid_from):
        raise ProblemsError(problems)
    for model in {Region if region_ids else None, Grid if grid_ids else None} - {None}:
        announce(model)
    if changed_area is None or changed_area.is_empty:
        return 0
    return rekey_area(bytes(to_geos(changed_area).ewkb), valid_from)["households"]


def rekey_area(area_ewkb: bytes, on: dt.date) -> dict[str, int]:
    """After new governance boundaries are written, inside their transaction: everything
    keyed to grids that lies in `area` (EWKB) re-keyed from `on`: grids' own kinds here
    (households, buildings, units, standard addresses, with their grid histories) and the
    other apps' rows by their receivers of grid_area_changed. Returns how many moved, per kind
    (grids' kinds always; each receiver may answer a dict of counts)."""
    # Valid from a past day: every keyed thing's grid changed from then on (sent on commit).
    changes.data_changed_since(changes.ALL, on)
    moved = sql.reassign_places(area_ewkb, on)
    for model, key in (
        (Household, "households"),
        (Building, "buildings"),
        (Unit, "units"),
        (Address, "addresses"),
    ):
        if moved.get(key):
            announce(model)
    for _receiver, response in grid_area_changed.send(sender=Grid, area=area_ewkb, on=on):
        if isinstance(response, dict):
            for key, n in response.items():
                moved[key] = moved.get(key, 0) + n
    return moved


def change_boundary(node: Region | Grid, geom, **kwargs) -> int:
    expected = kwargs.pop("expected_version", None)
    return change_boundaries([BoundaryChange(node, geom, expected)], **kwargs)


def hand_over_staff(successors: dict[int, int | None]) -> int:
    """Grids retired by a boundary change ({retired id: successor id or None}): their grid
    workers' jurisdiction, their workers and, where the successor has none, their leader go
    to the successor. Call inside the change's transaction. Staff of a grid retired with no
    successor stay on it (a grid worker must have a grid) for a person to place them.
    Returns how many users changed jurisdiction."""
    moved = 0
    heirs = {pk: heir for pk, heir in successors.items() if heir is not None}
    if not heirs:
        return 0
    grids = Grid.objects.in_bulk([*heirs, *heirs.values()])
    # Saved one by one: a user's save drops their cached copy (grids.auth.forget_user).
    for user in User.objects.filter(grid__in=list(heirs)):
        user.grid_id = heirs[user.grid_id]
        user.save(update_fields=["grid"])
        moved += 1
    for old_id, new_id in heirs.items():
        old, new = grids[old_id], grids[new_id]
        new.workers.add(*old.workers.all())
        if new.leader_id is None and old.leader_id is not None:
            Grid.objects.filter(pk=new_id).update(leader=old.leader_id)
    return moved
