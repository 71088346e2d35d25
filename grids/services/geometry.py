"""Checking and (only when asked) repairing boundary geometries, with shapely on the same
GEOS that Django loads, so the import path and the single-edit path share one rule."""

from __future__ import annotations

import re

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from grids.problems import Problem

_REASON_AT = re.compile(r"^(?P<reason>.*?)\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)")


def _polygonal_part(geom: shapely.Geometry) -> MultiPolygon | None:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, shapely.GeometryCollection):
        polygons = [part for part in geom.geoms if isinstance(part, Polygon | MultiPolygon)]
        if polygons:
            merged = shapely.union_all(polygons)
            return _polygonal_part(merged)
    return None


def check_polygons(
    geoms: np.ndarray, *, repair: bool = False, labels: list[str] | None = None
) -> tuple[np.ndarray, list[tuple[int, Problem]]]:
    """Return 2-D MultiPolygons for every usable geometry and a problem for every other.

    An invalid geometry is rejected with GEOS's reason and location (IsValidReason) unless
    `repair` is set, in which case GEOS MakeValid keeps its polygonal part.
    """
    out = np.empty(len(geoms), dtype=object)
    problems: list[tuple[int, Problem]] = []
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    valid = shapely.is_valid(geoms)
    reasons = shapely.is_valid_reason(geoms)
    for i, geom in enumerate(geoms):
        label = labels[i] if labels else None
        if geom is None or shapely.is_empty(geom):
            problems.append(
                (
                    i,
                    Problem(
                        "empty_geometry",
                        "the feature has no geometry",
                        feature=label,
                        field="geometry",
                    ),
                )
            )
            continue
        if not valid[i]:
            if not repair:
                match = _REASON_AT.match(reasons[i] or "")
                reason = match.group("reason") if match else reasons[i]
                location = (float(match.group("x")), float(match.group("y"))) if match else None
                problems.append(
                    (
                        i,
                        Problem(
                            "invalid_geometry",
                            f"invalid geometry: {reason}",
                            feature=label,
                            field="geometry",
                            location=location,
                        ),
                    )
                )
                continue
            geom = shapely.make_valid(geom)
        polygonal = _polygonal_part(geom)
        if polygonal is None or polygonal.is_empty:
            problems.append(
                (
                    i,
                    Problem(
                        "not_polygon",
                        f"expected a polygon, got {geom.geom_type}",
                        feature=label,
                        field="geometry",
                    ),
                )
            )
            continue
        out[i] = polygonal
    return out, problems


def check_polygon(geom: shapely.Geometry, *, repair: bool = False, label: str | None = None):
    """The single-geometry form of check_polygons: (MultiPolygon | None, Problem | None)."""
    fixed, problems = check_polygons(
        np.array([geom], dtype=object), repair=repair, labels=[label] if label else None
    )
    return fixed[0], (problems[0][1] if problems else None)
