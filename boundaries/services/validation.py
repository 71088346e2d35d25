"""Validation as you draw: every rule a change set must pass before it can be submitted,
approved and applied, with the problems drawn on the map (overlaps red, gaps orange, with
their area in square metres).

Only communities the change set changes are checked: the others keep the boundaries the
tree's integrity check accepted when they were written. Pieces smaller than
GRIDLINE_SLIVER_M2 are rounding and ignored, unless the apply's integrity check
(grids.services.boundaries.integrity_problems) would refuse them: validation never passes
what the apply then refuses."""

from __future__ import annotations

from collections import defaultdict

import shapely
from django.conf import settings
from django.utils.translation import gettext as _

from boundaries.models import ChangeSet, Status
from boundaries.services import geometry
from boundaries.services.state import ProposedGrid, communities_of, proposed
from grids.models import Grid, Level, Region, RegionBoundary
from grids.problems import Problem
from grids.services.boundaries import code_problem, to_shapely
from grids.services.geometry import check_polygon


def validate(change_set: ChangeSet, grids: list[ProposedGrid] | None = None) -> list[Problem]:
    """Every problem of the change set as it stands: errors block submit, approval and
    apply; warnings are shown and let it pass. `grids`: its proposed state, when the caller
    has it already."""
    # Imported at call time: changesets imports this module on submit and approve.
    from boundaries.services import changesets

    if change_set.status == Status.APPLIED:
        raise changesets.refuse(
            "already_applied",
            _("the change set is applied: its boundaries are the current ones"),
            field="status",
        )
    problems = changesets.stale(change_set) + changesets.conflicts(change_set)
    grids = proposed(change_set) if grids is None else grids
    if not _changes_anything(change_set, grids):
        problems.append(
            Problem(
                "nothing_changed",
                _("the change set changes no grid yet"),
                field="geometry",
                severity="warning",
            )
        )
    region = change_set.region
    full_coverage = _district(region).full_coverage
    by_community: dict[int, list[ProposedGrid]] = defaultdict(list)
    for grid in grids:
        by_community[grid.community_id].append(grid)
    community_ids = {c.pk for c in communities_of(change_set)} | set(by_community)
    communities = Region.objects.in_bulk(community_ids)
    boundaries = {
        b.region_id: to_shapely(b.geom)
        for b in RegionBoundary.objects.current().filter(region__in=community_ids)
    }
    problems += _code_problems(grids, communities)
    for community_id in sorted(by_community, key=lambda pk: communities[pk].code):
        members = by_community[community_id]
        if not any(grid.changed for grid in members):
            continue
        problems += _community_problems(
            communities[community_id],
            boundaries.get(community_id),
            members,
            full_coverage=full_coverage,
        )
    return problems


def summary(problems: list[Problem]) -> dict[str, int]:
    errors = sum(1 for p in problems if p.severity == "error")
    return {"errors": errors, "warnings": len(problems) - errors}


def _district(region: Region) -> Region:
    while region.level != Level.DISTRICT and region.parent_id is not None:
        region = region.parent
    return region


def _changes_anything(change_set: ChangeSet, grids: list[ProposedGrid]) -> bool:
    """Whether any item differs from the grid as it is: a new or retired grid, another
    boundary, or another name."""
    names = dict(
        change_set.items.filter(grid__isnull=False).values_list("grid__code", "grid__name")
    )
    for grid in grids:
        if grid.action in ("new", "retire"):
            return True
        if grid.action == "reshape" and (
            grid.name != names.get(grid.code)
            or grid.current is None
            or not geometry.same(grid.geom, grid.current)
        ):
            return True
    return False


def _drawn(
    code: str,
    message: str,
    piece: shapely.Geometry,
    *,
    feature: str | None,
    severity: str = "error",
    area: float | None = None,
) -> Problem:
    """A problem with its ground: the map draws `piece` and labels it with its area."""
    largest = max(geometry.parts(piece), key=lambda p: p.area, default=piece)
    return Problem(
        code,
        message,
        feature=feature,
        field="geometry",
        severity=severity,
        location=geometry.point_on_surface(largest),
        area_m2=round(geometry.area_m2(piece) if area is None else area, 2),
        geometry=geometry.to_geojson(piece),
    )


def _code_problems(grids: list[ProposedGrid], communities: dict[int, Region]) -> list[Problem]:
    """New grids follow the code scheme (community code + 3 digits) and take a code no grid
    ever had: codes of retired grids are never reused."""
    problems: list[Problem] = []
    new = [g for g in grids if g.action == "new"]
    if not new:
        return problems
    taken = set(Grid.objects.filter(code__in=[g.code for g in new]).values_list("code", flat=True))
    counts: dict[str, int] = defaultdict(int)
    for grid in grids:
        counts[grid.code] += 1
    for grid in new:
        community = communities.get(grid.community_id)
        if problem := code_problem(grid.code, None, community.code if community else None):
            problems.append(problem)
        elif grid.code in taken or counts[grid.code] > 1:
            problems.append(
                Problem(
                    "duplicate_code",
                    _("code %(code)s is already used by another grid: codes are never reused")
                    % {"code": grid.code},
                    feature=grid.code,
                    field="code",
                )
            )
    return problems


def _community_problems(
    community: Region,
    boundary: shapely.Geometry | None,
    members: list[ProposedGrid],
    *,
    full_coverage: bool,
) -> list[Problem]:
    problems: list[Problem] = []
    sliver = settings.GRIDLINE_SLIVER_M2
    min_area = settings.GRIDLINE_GRID_MIN_AREA_M2
    drawn: list[ProposedGrid] = []
    for grid in members:
        if grid.geom is None:
            continue
        if grid.changed:
            _fixed, problem = check_polygon(grid.geom, label=grid.code)
            if problem is not None:
                # Overlays on an invalid boundary are meaningless (GEOS may even refuse):
                # this grid is left out of the checks below until it is redrawn.
                problems.append(problem)
                continue
            problems += _own_problems(grid, min_area=min_area, sliver=sliver)
        drawn.append(grid)
    problems += _overlaps(drawn, sliver=sliver)
    if boundary is None:
        problems.append(
            Problem(
                "parent_missing",
                _("community %(code)s has no current boundary") % {"code": community.code},
                feature=community.code,
                field="geometry",
            )
        )
        return problems
    for grid in drawn:
        if grid.changed:
            problems += _outside(grid, community, boundary, sliver=sliver)
    problems += _gaps(community, boundary, members, drawn, sliver=sliver, error=full_coverage)
    return problems


def _own_problems(grid: ProposedGrid, *, min_area: float, sliver: float) -> list[Problem]:
    problems = []
    area = geometry.area_m2(grid.geom)
    if area < min_area:
        problems.append(
            _drawn(
                "too_small",
                _("grid %(code)s is %(area).0f m², less than the minimum of %(min).0f m²")
                % {"code": grid.code, "area": area, "min": min_area},
                grid.geom,
                feature=grid.code,
                area=area,
            )
        )
    pieces = geometry.parts(grid.geom)
    if len(pieces) > 1:
        pieces.sort(key=geometry.area_m2, reverse=True)
        detached = geometry.union_all(pieces[1:])
        problems.append(
            _drawn(
                "multipart",
                _("grid %(code)s is in %(n)d separate parts")
                % {"code": grid.code, "n": len(pieces)},
                detached,
                feature=grid.code,
                severity="warning",
            )
        )
    return problems


def _overlaps(drawn: list[ProposedGrid], *, sliver: float) -> list[Problem]:
    """Ground in two grids of the community, for every pair with a changed grid."""
    problems: list[Problem] = []
    if not drawn:
        return problems
    tolerance = settings.GRIDLINE_OVERLAP_TOLERANCE_M
    geoms = [grid.geom for grid in drawn]
    tree = shapely.STRtree(geoms)
    for i, grid in enumerate(drawn):
        if not grid.changed:
            continue
        for j in tree.query(grid.geom, predicate="intersects"):
            other = drawn[int(j)]
            if int(j) == i or (other.changed and int(j) < i):
                continue
            if not geometry.interiors_meet(grid.geom, other.geom):
                continue
            shared = geometry.intersection(grid.geom, other.geom)
            kept = [
                piece
                for piece in shared.geoms
                if geometry.area_m2(piece) >= sliver
                or geometry.thicker_than(piece, tolerance, inside=grid.geom)
                or geometry.thicker_than(piece, tolerance, inside=other.geom)
            ]
            if not kept:
                continue
            piece = geometry.union_all(kept)
            area = geometry.area_m2(piece)
            problems.append(
                _drawn(
                    "overlap",
                    _("grid %(code)s overlaps grid %(other)s by %(area).0f m²")
                    % {"code": grid.code, "other": other.code, "area": area},
                    piece,
                    feature=grid.code,
                    area=area,
                )
            )
    return problems


def _outside(
    grid: ProposedGrid, community: Region, boundary: shapely.Geometry, *, sliver: float
) -> list[Problem]:
    tolerance = settings.GRIDLINE_CONTAINMENT_TOLERANCE_M
    if shapely.covered_by(grid.geom, boundary):
        return []
    outside = geometry.difference(grid.geom, boundary)
    kept = [
        piece
        for piece in outside.geoms
        if geometry.area_m2(piece) >= sliver or geometry.farther_than(piece, boundary, tolerance)
    ]
    if not kept:
        return []
    piece = geometry.union_all(kept)
    area = geometry.area_m2(piece)
    return [
        _drawn(
            "outside_community",
            _("grid %(code)s extends %(area).0f m² outside its community %(community)s")
            % {"code": grid.code, "area": area, "community": community.code},
            piece,
            feature=grid.code,
            area=area,
        )
    ]


def _gaps(
    community: Region,
    boundary: shapely.Geometry,
    members: list[ProposedGrid],
    drawn: list[ProposedGrid],
    *,
    sliver: float,
    error: bool,
) -> list[Problem]:
    """Ground of the community in no grid. Ground the change set uncovers is an error when
    the district requires full coverage (a warning otherwise); ground already uncovered
    before is a warning, the place to draw a new grid."""
    covered = geometry.coverage_union(grid.geom for grid in drawn)
    uncovered = geometry.difference(boundary, covered)
    pieces = [piece for piece in uncovered.geoms if geometry.area_m2(piece) >= sliver]
    if not pieces:
        return []
    before = geometry.coverage_union(grid.current for grid in members)
    problems: list[Problem] = []
    for piece in pieces:
        given_up = geometry.intersection(piece, before)
        if geometry.area_m2(given_up) >= sliver:
            problems.append(_new_gap(given_up, community, members, error=error))
        still = geometry.difference(piece, before)
        if geometry.area_m2(still) >= sliver:
            problems.append(
                _drawn(
                    "gap",
                    _("%(area).0f m² of community %(community)s are in no grid")
                    % {"area": geometry.area_m2(still), "community": community.code},
                    still,
                    feature=community.code,
                    severity="warning",
                )
            )
    return problems


def _new_gap(
    piece: shapely.Geometry, community: Region, members: list[ProposedGrid], *, error: bool
) -> Problem:
    """Ground a grid gave up that no grid takes: named after the grid it belonged to."""
    owner = max(
        (grid for grid in members if grid.current is not None),
        key=lambda grid: (
            geometry.area_m2(geometry.intersection(piece, grid.current))
            if shapely.intersects(piece, grid.current)
            else 0.0
        ),
    )
    area = geometry.area_m2(piece)
    return _drawn(
        "gap",
        _("%(area).0f m² of community %(community)s given up by grid %(code)s are in no grid")
        % {"area": area, "community": community.code, "code": owner.code},
        piece,
        feature=owner.code,
        severity="error" if error else "warning",
        area=area,
    )
