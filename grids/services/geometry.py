"""Checking and (only when asked) repairing boundary geometries, with shapely on the same
GEOS that Django loads, so the import path and the single-edit path share one rule."""

from __future__ import annotations

import re

import numpy as np
import shapely
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from shapely.geometry import MultiPolygon, Polygon

from grids.problems import Problem

_REASON_AT = re.compile(r"^(?P<reason>.*?)\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)")
# GEOS's reasons (IsValidOp) in the reader's language; one GEOS adds later stays as GEOS
# words it, as data.
GEOS_REASONS = {
    "Self-intersection": pgettext_lazy("GEOS reason", "Self-intersection"),
    "Ring Self-intersection": pgettext_lazy("GEOS reason", "Ring Self-intersection"),
    "Too few points in geometry component": pgettext_lazy(
        "GEOS reason", "Too few points in geometry component"
    ),
    "Hole lies outside shell": pgettext_lazy("GEOS reason", "Hole lies outside shell"),
    "Nested holes": pgettext_lazy("GEOS reason", "Nested holes"),
    "Nested shells": pgettext_lazy("GEOS reason", "Nested shells"),
    "Interior is disconnected": pgettext_lazy("GEOS reason", "Interior is disconnected"),
    "Duplicate Rings": pgettext_lazy("GEOS reason", "Duplicate Rings"),
    "Invalid Coordinate": pgettext_lazy("GEOS reason", "Invalid Coordinate"),
    "Ring is not closed": pgettext_lazy("GEOS reason", "Ring is not closed"),
}


def geos_reason(reason: str) -> str:
    """GEOS's reason for an invalid geometry, translated when it is one we know."""
    known = GEOS_REASONS.get(reason.strip())
    return str(known) if known is not None else reason.strip()


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
                        _("the feature has no geometry"),
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
                            # GEOS's reason ("Self-intersection") is data: the
                            # sentence around it is the reader's language.
                            _("invalid geometry: %(reason)s") % {"reason": geos_reason(reason)},
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
                        _("expected a polygon, got %(type)s") % {"type": geom.geom_type},
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
