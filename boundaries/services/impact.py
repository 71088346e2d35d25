"""What a change set would move: households, residents, sensors, open incidents and open
tasks, counted per old -> new grid, and the pieces of ground that change grid, for the map.

Located rows (grids.keyed.KeyedPoints) are found only inside the changed area and keyed to
the proposed grids by the same rule the apply uses (the smallest code on a shared edge);
rows that follow their grid (KeyedToGrid) go with a retired grid to its successor."""

from __future__ import annotations

from collections import defaultdict

import shapely
from django.conf import settings
from django.db import transaction

from boundaries import sql
from boundaries.models import ChangeSet, Status
from boundaries.services import geometry
from boundaries.services.state import ProposedGrid, proposed
from grids import keyed
from grids.models import today
from grids.services.boundaries import to_geos


def changed_area(grids: list[ProposedGrid]) -> shapely.MultiPolygon:
    """The ground whose grid may change: what each changed grid gains or loses."""
    pieces = []
    for grid in grids:
        if grid.changed:
            old = grid.current if grid.current is not None else shapely.MultiPolygon()
            new = grid.geom if grid.geom is not None else shapely.MultiPolygon()
            pieces.append(shapely.symmetric_difference(old, new, grid_size=geometry.PRECISION))
    return geometry.union_all(pieces)


def successors(grids: list[ProposedGrid]) -> dict[str, ProposedGrid | None]:
    """{code of a retired grid: the proposed grid taking the largest share of its ground, or
    None when no grid takes any}: where its tasks and staff go."""
    kept = [g for g in grids if g.geom is not None and not g.geom.is_empty]
    result: dict[str, ProposedGrid | None] = {}
    for grid in grids:
        if grid.action != "retire":
            continue
        best, best_m2 = None, settings.GRIDLINE_SLIVER_M2
        for other in kept:
            if not shapely.intersects(grid.current, other.geom):
                continue
            m2 = geometry.area_m2(geometry.intersection(grid.current, other.geom))
            if m2 > best_m2:
                best, best_m2 = other, m2
        result[grid.code] = best
    return result


def ewkb(geom: shapely.Geometry) -> bytes:
    return bytes(to_geos(geom).ewkb)


def _pieces(grids: list[ProposedGrid]) -> list[tuple[str | None, str | None, shapely.Geometry]]:
    """(from code, to code, ground) for every piece of ground that changes grid; None: no grid
    (a gap before or after)."""
    olds = [g for g in grids if g.current is not None and not g.current.is_empty]
    news = [g for g in grids if g.geom is not None and not g.geom.is_empty]
    pieces = []
    if olds and news:
        tree = shapely.STRtree([g.geom for g in news])
        pairs = tree.query([g.current for g in olds], predicate="intersects")
        for i, j in zip(*pairs, strict=True):
            old, new = olds[int(i)], news[int(j)]
            if old.code == new.code or not (old.changed or new.changed):
                continue
            pieces.append((old.code, new.code, geometry.intersection(old.current, new.geom)))
    everything_new = geometry.union_all(g.geom for g in news)
    everything_old = geometry.union_all(g.current for g in olds)
    for old in olds:
        if old.changed:
            pieces.append((old.code, None, geometry.difference(old.current, everything_new)))
    for new in news:
        if new.changed:
            pieces.append((None, new.code, geometry.difference(new.geom, everything_old)))
    return pieces


def preview(change_set: ChangeSet, grids: list[ProposedGrid] | None = None) -> dict:
    """{"rows": [{"from", "to", <key>: n for each registered kind}], "totals": {<key>: n},
    "areas": FeatureCollection of the pieces changing grid (from, to, area_m2)}.

    For an applied change set: the table it was applied with (the grids have moved on, so a
    fresh preview would compare the new boundaries with themselves)."""
    kinds = keyed.all_keyed()
    if change_set.status == Status.APPLIED:
        stored = change_set.applied_summary.get("impact", {})
        return {
            "rows": stored.get("rows", []),
            "totals": stored.get("totals", {}),
            "areas": {"type": "FeatureCollection", "features": []},
            "labels": {k.key: str(k.label) for k in kinds},
        }
    grids = proposed(change_set) if grids is None else grids
    keys = [k.key for k in kinds]
    rows: dict[tuple[str | None, str | None], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(keys, 0)
    )
    features = []
    for source, target, ground in _pieces(grids):
        m2 = geometry.area_m2(ground)
        if m2 < settings.GRIDLINE_SLIVER_M2:
            continue
        rows[(source, target)]  # a piece with nothing on it is still a line of the table
        features.append(
            {
                "type": "Feature",
                "geometry": geometry.to_geojson(ground),
                "properties": {"from": source, "to": target, "area_m2": round(m2, 1)},
            }
        )
    area = changed_area(grids)
    if not area.is_empty:
        with transaction.atomic():
            sql.create_proposed(
                (
                    g.grid_id,
                    g.code,
                    None if g.geom is None or g.geom.is_empty else ewkb(geometry.polygonal(g.geom)),
                )
                for g in grids
            )
            located = [k for k in kinds if isinstance(k, keyed.KeyedPoints)]
            on = change_set.valid_from or today()
            for key, _old_id, old_code, new_code, n in sql.points_moving(located, ewkb(area), on):
                rows[(old_code, new_code)][key] += int(n or 0)
            sql.drop_proposed()
    retired = {g.grid_id: g.code for g in grids if g.action == "retire"}
    heirs = successors(grids)
    for kind in kinds:
        if isinstance(kind, keyed.KeyedToGrid):
            for grid_id, n in sql.following(kind, list(retired)).items():
                heir = heirs[retired[grid_id]]
                rows[(retired[grid_id], heir.code if heir else None)][kind.key] += n
    for code, heir in heirs.items():
        rows[(code, heir.code if heir else None)]
    table = [
        {"from": source, "to": target, **counts}
        for (source, target), counts in sorted(
            rows.items(), key=lambda item: (item[0][0] or "", item[0][1] or "")
        )
    ]
    totals = {key: sum(row[key] for row in table) for key in keys}
    return {
        "rows": table,
        "totals": totals,
        "areas": {"type": "FeatureCollection", "features": features},
        "labels": {k.key: str(k.label) for k in kinds},
    }
