"""Camera coverage of grids (issue #6, item 5): the share of a grid's area that at least one
camera's view sector covers, for the coverage-gap map and planning.

Every installed camera counts, whatever its status: coverage is a planning figure (where is
no camera at all), and a camera offline today is repaired, not replaced elsewhere. The
figures are kept in `GridCoverage` and recomputed in one statement for many grids: when a
camera is created, moved, re-aimed or deleted (the grids its old and new sector meet are
marked stale by `mark_stale_for`) and when boundaries change (sensors.sql.grids), by the job
`refresh_coverage` every five minutes.
"""

from __future__ import annotations

from django.db import transaction

from grids.models import Grid, Region
from sensors.models import GridCoverage, Role, Sensor
from sensors.sql import coverage as sql


def refresh_coverage(grid_ids: list[int] | None = None) -> int:
    """Recompute the coverage of the given grids (None: every current grid); the number of
    grids computed."""
    with transaction.atomic():
        sql.lock(shared=False)
        return sql.refresh(None if grid_ids is None else list(grid_ids))


def refresh_stale() -> int:
    """Recompute the grids marked stale and those never computed; the number computed."""
    with transaction.atomic():
        sql.lock(shared=False)
        grid_ids = sql.stale_grids()
        return sql.refresh(grid_ids) if grid_ids else 0


def mark_stale_for(sensor: Sensor, old_sector: bytes | None = None) -> int:
    """Mark stale the coverage of the grids a camera's sector meets now and met before the
    change (`old_sector`, EWKB); the number of figures marked."""
    if sensor.role != Role.CAMERA:
        return 0
    sectors = [bytes(sensor.coverage.ewkb)] if sensor.coverage is not None else []
    if old_sector is not None:
        sectors.append(old_sector)
    if not sectors:
        return 0
    # Held until the camera's transaction commits: a refresh running now finishes first.
    sql.lock(shared=True)
    return sql.mark_stale(sectors)


def coverage_of(user, region: Region | None = None) -> tuple[list[dict], dict]:
    """Per current grid the user can see (under `region` if given): the coverage figures,
    None where not computed yet; and the totals over those grids. One query."""
    grids = Grid.objects.visible_to(user).current()
    if region is not None:
        grids = grids.under(region)
    rows = list(
        grids.order_by("code").values_list(
            "pk",
            "code",
            "name",
            "camera_coverage__share",
            "camera_coverage__covered_m2",
            "camera_coverage__area_m2",
            "camera_coverage__cameras",
            "camera_coverage__stale",
        )
    )
    results = []
    area = covered = 0.0
    computed = gaps = 0
    for pk, code, name, share, covered_m2, area_m2, cameras, stale in rows:
        done = share is not None
        results.append(
            {
                "id": pk,
                "code": code,
                "name": name,
                "share": None if not done else round(share, 4),
                "covered_m2": None if not done else round(covered_m2, 1),
                "area_m2": None if not done else round(area_m2, 1),
                "cameras": cameras,
                "gap": (share == 0) if done else None,
                "stale": bool(stale) or not done,
            }
        )
        if done:
            computed += 1
            gaps += share == 0
            area += area_m2
            covered += covered_m2
    totals = {
        "grids": len(rows),
        "computed": computed,
        "gaps": gaps,
        "area_m2": round(area, 1),
        "covered_m2": round(covered, 1),
        "share": round(covered / area, 4) if area else None,
    }
    return results, totals


def figures(grid_ids: list[int]) -> dict[int, float]:
    """{grid id: share covered} of the grids whose figure is computed."""
    return dict(GridCoverage.objects.filter(grid__in=grid_ids).values_list("grid_id", "share"))
