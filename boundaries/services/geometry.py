"""Geometry of boundary editing, in EPSG:4326 shapely: one precision grid for every written
boundary and overlay, areas on the WGS84 spheroid, buffers in metres, and GeoJSON in and out
with the import path's validity rule (grids.services.geometry.check_polygon)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pyproj
import shapely
import shapely.errors
from django.utils.translation import gettext as _
from shapely.geometry import LineString, MultiPolygon, Polygon

from grids import limits
from grids.problems import Problem, ProblemsError
from grids.services.geometry import check_polygon

# Degrees (about 1 mm on the ground): every boundary an edit writes is snapped to this grid
# and every overlay runs on it, so that the vertices of a shared edge are the same numbers
# on both sides and neighbours never get slivers from floating-point noise.
PRECISION = 1e-8

_GEOD = pyproj.Geod(ellps="WGS84")


def polygonal(geom: shapely.Geometry | None) -> MultiPolygon:
    """The polygonal part of a geometry as a MultiPolygon (empty when there is none): overlay
    results may carry lines or points where shapes only touch."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, shapely.GeometryCollection):
        polygons: list[Polygon] = []
        for part in geom.geoms:
            polygons.extend(polygonal(part).geoms)
        return MultiPolygon(polygons) if polygons else MultiPolygon()
    return MultiPolygon()


def snap(geom: shapely.Geometry | None) -> MultiPolygon:
    """The geometry on the PRECISION grid, polygonal parts only, as a MultiPolygon."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    return polygonal(shapely.set_precision(shapely.force_2d(geom), PRECISION))


def same(a: shapely.Geometry | None, b: shapely.Geometry | None) -> bool:
    """Whether two boundaries are the same ground on the PRECISION grid (boundaries written
    before the editor are not snapped, so exact equality would see changes nobody made)."""
    if a is None or b is None:
        return a is None and b is None
    if not (a.is_valid and b.is_valid):
        # GEOS cannot snap or compare the ground of an invalid geometry: only the very same
        # vertices are the same.
        return bool(shapely.equals_exact(a, b, tolerance=PRECISION))
    return bool(shapely.equals(snap(a), snap(b)))


def difference(a: shapely.Geometry, b: shapely.Geometry) -> MultiPolygon:
    return polygonal(shapely.difference(a, b, grid_size=PRECISION))


def intersection(a: shapely.Geometry, b: shapely.Geometry) -> MultiPolygon:
    return polygonal(shapely.intersection(a, b, grid_size=PRECISION))


def union_all(geoms: Iterable[shapely.Geometry | None]) -> MultiPolygon:
    present = [g for g in geoms if g is not None and not g.is_empty]
    if not present:
        return MultiPolygon()
    return polygonal(shapely.union_all(present, grid_size=PRECISION))


def coverage_union(geoms: Iterable[shapely.Geometry | None]) -> MultiPolygon:
    """The union of grids that should tile their community: GEOS's coverage union when they
    do (edge-matched, no overlaps; many times faster), the general overlay otherwise."""
    present = [g for g in geoms if g is not None and not g.is_empty]
    if not present:
        return MultiPolygon()
    if shapely.coverage_is_valid(present):
        return polygonal(shapely.coverage_union_all(present))
    return union_all(present)


def parts(geom: shapely.Geometry | None) -> list[Polygon]:
    return list(polygonal(geom).geoms)


def border_m(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Length in metres of the edges two areas share (0 when they meet at points only)."""
    shared = shapely.intersection(a.boundary, b.boundary, grid_size=PRECISION)
    lines = [
        g
        for g in shapely.get_parts(shapely.line_merge(shapely.get_parts(shared)))
        if g.geom_type in ("LineString", "LinearRing", "MultiLineString")
    ]
    return sum(_GEOD.geometry_length(line) for line in lines)


def area_m2(geom: shapely.Geometry | None) -> float:
    """Area in square metres on the WGS84 spheroid (geodesic, not planar degrees)."""
    if geom is None or geom.is_empty:
        return 0.0
    total = 0.0
    for polygon in polygonal(geom).geoms:
        # Ring orientation decides the sign of a geodesic area: count each ring's size and
        # take the holes off.
        total += _ring_area(polygon.exterior)
        for hole in polygon.interiors:
            total -= _ring_area(hole)
    return total


def _ring_area(ring) -> float:
    xy = shapely.get_coordinates(ring)
    area, _perimeter = _GEOD.polygon_area_perimeter(xy[:, 0], xy[:, 1])
    return abs(area)


def to_geojson(geom: shapely.Geometry) -> dict:
    return json.loads(shapely.to_geojson(geom))


def _problem(code: str, message: str, label: str | None, field: str, location=None) -> Problem:
    return Problem(code, message, feature=label, field=field, location=location)


def _unclosed_ring(value: dict) -> list | None:
    """The first ring of a GeoJSON Polygon/MultiPolygon whose last position is not its
    first: shapely would close it silently, drawing an edge the author never drew."""
    kind, coordinates = value.get("type"), value.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    for polygon in polygons or []:
        for ring in polygon if isinstance(polygon, list) else []:
            if isinstance(ring, list) and len(ring) >= 2 and list(ring[0]) != list(ring[-1]):
                return ring
    return None


def _parse(value, *, label: str | None, field: str) -> shapely.Geometry:
    """A GeoJSON geometry or Feature (dict or text) as shapely, with its coordinates within
    longitude/latitude range; validity is the caller's rule."""
    if isinstance(value, str | bytes):
        try:
            value = limits.load_json(value)
        except ValueError as exc:
            raise ProblemsError(
                [_problem("invalid_geometry", _("not GeoJSON: %s") % exc, label, field)]
            ) from exc
    if not isinstance(value, dict):
        raise ProblemsError(
            [_problem("invalid_geometry", _("expected a GeoJSON geometry"), label, field)]
        )
    if value.get("type") == "Feature":
        value = value.get("geometry")
        if not isinstance(value, dict):
            raise ProblemsError(
                [_problem("empty_geometry", _("the feature has no geometry"), label, field)]
            )
    if ring := _unclosed_ring(value):
        raise ProblemsError(
            [
                Problem(
                    "invalid_geometry",
                    _("a ring must end where it starts (GeoJSON, RFC 7946 3.1.6)"),
                    feature=label,
                    field=field,
                    location=(float(ring[0][0]), float(ring[0][1])),
                )
            ]
        )
    try:
        geom = shapely.geometry.shape(value)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ProblemsError(
            [
                _problem(
                    "invalid_geometry",
                    _("cannot read the GeoJSON geometry: %s") % (str(exc) or type(exc).__name__),
                    label,
                    field,
                )
            ]
        ) from exc
    except shapely.errors.GEOSException as exc:
        raise ProblemsError(
            [_problem("invalid_geometry", _("invalid geometry: %s") % exc, label, field)]
        ) from exc
    coords = shapely.get_coordinates(geom)
    bad = ~np.isfinite(coords).all(axis=1)
    bad |= (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    if bad.any():
        x, y = coords[int(np.argmax(bad))]
        raise ProblemsError(
            [
                _problem(
                    "bad_coordinates",
                    _("coordinates must be longitude and latitude in degrees (EPSG:4326)"),
                    label,
                    field,
                    location=(float(x), float(y)),
                )
            ]
        )
    return geom


def from_geojson(value, *, label: str | None = None) -> MultiPolygon:
    """A drawn boundary (GeoJSON Polygon, MultiPolygon or a Feature of one, as a dict or
    text) as a MultiPolygon on the PRECISION grid. An invalid geometry is refused with GEOS's
    reason and location, never repaired behind the author's back."""
    geom = _parse(value, label=label, field="geometry")
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ProblemsError(
            [
                _problem(
                    "not_polygon",
                    _("expected a polygon, got %s") % geom.geom_type,
                    label,
                    "geometry",
                )
            ]
        )
    fixed, problem = check_polygon(geom, label=label)
    if problem is not None:
        raise ProblemsError([problem])
    snapped = snap(fixed)
    if snapped.is_empty:
        raise ProblemsError(
            [_problem("empty_geometry", _("the polygon is too small to draw"), label, "geometry")]
        )
    return snapped


def line_from_geojson(value, *, label: str | None = None) -> LineString:
    """A split line: a GeoJSON LineString (or a Feature of one) with two distinct points at
    least."""
    geom = _parse(value, label=label, field="line")
    if not isinstance(geom, LineString):
        raise ProblemsError(
            [_problem("not_line", _("expected a line, got %s") % geom.geom_type, label, "line")]
        )
    geom = shapely.force_2d(geom)
    if len(np.unique(shapely.get_coordinates(geom), axis=0)) < 2:
        raise ProblemsError(
            [
                _problem(
                    "invalid_geometry",
                    _("a line needs at least two different points"),
                    label,
                    "line",
                )
            ]
        )
    return geom


@lru_cache(maxsize=64)
def _local_crs(lon: float, lat: float) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    crs = pyproj.CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"
    )
    return (
        pyproj.Transformer.from_crs(4326, crs, always_xy=True),
        pyproj.Transformer.from_crs(crs, 4326, always_xy=True),
    )


def _metric(geom: shapely.Geometry) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """Transformers to and from a transverse Mercator centred near the geometry: over a
    community its scale error is far below a millimetre per metre. Centres are rounded so
    that neighbouring checks share one transformer."""
    x, y = shapely.get_coordinates(shapely.centroid(shapely.envelope(geom)))[0]
    return _local_crs(round(float(x), 2), round(float(y), 2))


def _project(geom: shapely.Geometry, transformer: pyproj.Transformer) -> shapely.Geometry:
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def _around(geom: shapely.Geometry, margin: float) -> Polygon:
    minx, miny, maxx, maxy = geom.bounds
    return shapely.box(minx - margin, miny - margin, maxx + margin, maxy + margin)


def thicker_than(
    geom: shapely.Geometry, metres: float, *, inside: shapely.Geometry | None = None
) -> bool:
    """Whether any part of `geom` lies more than `metres` inside `inside` (default: inside
    itself, i.e. survives a negative buffer of `metres`). This is the integrity check's test
    for an overlap (a sibling meeting the checked grid shrunk by the tolerance), so a piece
    that is thin by this test would pass the apply too."""
    if geom is None or geom.is_empty:
        return False
    to_m, _back = _metric(geom)
    piece = _project(geom, to_m)
    container = piece if inside is None else _project(inside, to_m)
    # Ground farther than 2 * metres from the piece cannot change the answer: clipping keeps
    # the buffer small for a piece at the edge of a large grid.
    container = shapely.intersection(container, _around(piece, 2 * metres + 1))
    shrunk = shapely.buffer(container, -metres)
    return bool(not shrunk.is_empty and shapely.intersects(shrunk, piece))


def farther_than(geom: shapely.Geometry, region: shapely.Geometry, metres: float) -> bool:
    """Whether any part of `geom` lies more than `metres` outside `region`: the integrity
    check's test for a grid outside its community (covered by the community widened by the
    tolerance)."""
    if geom is None or geom.is_empty:
        return False
    to_m, _back = _metric(geom)
    piece = _project(geom, to_m)
    near = shapely.intersection(_project(region, to_m), _around(piece, 2 * metres + 1))
    return not shapely.covers(shapely.buffer(near, metres), piece)


def interiors_meet(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    """Whether two areas share ground, not only an edge or a point (cheaper than an
    overlay: neighbours always touch)."""
    return bool(shapely.relate_pattern(a, b, "T********"))


def point_on_surface(geom: shapely.Geometry) -> tuple[float, float]:
    point = shapely.point_on_surface(geom)
    return (float(point.x), float(point.y))
