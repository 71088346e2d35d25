"""Is the file in GCJ-02 or BD-09 although it says WGS84? Files exported from Chinese web
maps (Gaode, Tencent: GCJ-02; Baidu: BD-09) often carry the offset coordinates labelled as
WGS84, and land 300-700 m off. Where the platform already holds boundaries or households
near the file, compare how well the file lines up with them as declared and after undoing
each offset; when an offset explains the file clearly better, warn with the measured figures
and the likely system. A warning, not an error: the import cannot know, the person can."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Polygon
from django.utils.translation import gettext as _
from pyproj import Transformer

from grids.models import GridBoundary, Household, RegionBoundary, Theme
from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services.imports.report import ImportReport

# A point or vertex "lines up" within this many metres of an existing one; the offsets are
# hundreds of metres, the noise of digitised data a few metres.
NEAR_M = 30.0
SAMPLE = 1000
# Fewer points or vertices than this say nothing either way.
MIN_SAMPLE = 20
REFERENCE_LIMIT = 200_000
# Degrees around the file's extent in which existing features are compared (the offsets are
# under 0.01°).
MARGIN = 0.02
# An offset is named when it lines up at least this share of the sample, and this much more
# than the file as declared.
MIN_SCORE = 0.5
MIN_GAIN = 0.3
CANDIDATES = {
    crs_service.GCJ02: crs_service.gcj02_to_wgs84,
    crs_service.BD09: crs_service.bd09_to_wgs84,
}


@dataclass(frozen=True)
class Fit:
    system: str
    score: float  # share of the sample that lines up
    median_m: float | None  # median distance to the nearest existing feature


def _sample(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[keep], lat[keep]
    if len(lon) > SAMPLE:
        # Evenly through the file: the same sample every run.
        idx = np.linspace(0, len(lon) - 1, SAMPLE).astype(int)
        lon, lat = lon[idx], lat[idx]
    return lon, lat


def _box(lon, lat) -> Polygon:
    return Polygon.from_bbox(
        (lon.min() - MARGIN, lat.min() - MARGIN, lon.max() + MARGIN, lat.max() + MARGIN)
    )


def _candidates(lon, lat, declared: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {declared: (lon, lat)}
    for system, convert in CANDIDATES.items():
        out[system] = convert(lon, lat)
    return out


def _offset_message(what: str, median: bool) -> str:
    """The warning as one sentence per reference (households, grids, boundaries)."""
    if what == "households" and median:
        return _(
            "the file lines up with the platform's households after undoing a %(system)s "
            "offset of about %(shift)s m: %(score)s of the sample within %(near)s m against "
            "%(declared_score)s as %(declared)s (median distance %(median_declared)s m as "
            "declared, %(median_shifted)s m after the shift). It is probably %(system)s "
            "coordinates labelled %(declared)s: check, and import with --source-crs %(system)s"
        )
    if what == "grids":
        return _(
            "the file lines up with the platform's grids (share of points in a grid) after "
            "undoing a %(system)s offset of about %(shift)s m: %(score)s of the sample within "
            "%(near)s m against %(declared_score)s as %(declared)s. It is probably %(system)s "
            "coordinates labelled %(declared)s: check, and import with --source-crs %(system)s"
        )
    return _(
        "the file lines up with the platform's boundaries after undoing a %(system)s offset "
        "of about %(shift)s m: %(score)s of the sample within %(near)s m against "
        "%(declared_score)s as %(declared)s. It is probably %(system)s coordinates labelled "
        "%(declared)s: check, and import with --source-crs %(system)s"
    )


def _judge(fits: list[Fit], declared: str, shift_m: dict[str, float], what: str, report):
    as_declared = fits[0]
    best = max(fits[1:], key=lambda f: f.score)
    if best.score < MIN_SCORE or best.score - as_declared.score < MIN_GAIN:
        return None
    values = {
        "system": best.system,
        "shift": f"{shift_m[best.system]:.0f}",
        "score": f"{best.score:.0%}",
        "near": f"{NEAR_M:.0f}",
        "declared_score": f"{as_declared.score:.0%}",
        "declared": declared,
        "median_declared": f"{as_declared.median_m or 0:.0f}",
        "median_shifted": f"{best.median_m or 0:.0f}",
    }
    problem = Problem(
        "likely_offset",
        _offset_message(what, best.median_m is not None) % values,
        field="source_crs",
        value=declared,
        severity="warning",
    )
    report.problems.append(problem)
    return problem


def _metric(lon, lat):
    centre_lon, centre_lat = float(np.mean(lon)), float(np.mean(lat))
    metric = crs_service.local_metric_crs(centre_lon, centre_lat)
    return Transformer.from_crs(crs_service.WGS84, metric, always_xy=True)


def _shifts(lon, lat, candidates, to_metric) -> dict[str, float]:
    x0, y0 = to_metric.transform(lon, lat)
    out = {}
    for system, (clon, clat) in candidates.items():
        x1, y1 = to_metric.transform(clon, clat)
        out[system] = float(np.median(np.hypot(x1 - x0, y1 - y0)))
    return out


def check_points(lon: np.ndarray, lat: np.ndarray, declared: str, report: ImportReport):
    """Household points (WGS84 as declared) against the households already there, or, where
    there are none nearby, against the governance grids (the share that falls in a grid)."""
    lon, lat = _sample(np.asarray(lon, float), np.asarray(lat, float))
    if len(lon) < MIN_SAMPLE:
        return None
    area = _box(lon, lat)
    candidates = _candidates(lon, lat, declared)
    to_metric = _metric(lon, lat)
    wkb = list(
        Household.objects.filter(location__intersects=area)
        .annotate(wkb=AsWKB("location"))
        .values_list("wkb", flat=True)[:REFERENCE_LIMIT]
    )
    fits = []
    if len(wkb) >= 10:
        ref = shapely.from_wkb([bytes(w) for w in wkb])
        rx, ry = to_metric.transform(shapely.get_x(ref), shapely.get_y(ref))
        tree = shapely.STRtree(shapely.points(rx, ry))
        for system, (clon, clat) in candidates.items():
            x, y = to_metric.transform(clon, clat)
            points = shapely.points(x, y)
            _idx, distance = tree.query_nearest(points, return_distance=True, all_matches=False)
            fits.append(Fit(system, float(np.mean(distance <= NEAR_M)), float(np.median(distance))))
        what = "households"
    else:
        grids = [
            shapely.from_wkb(bytes(b.geom.wkb))
            for b in GridBoundary.objects.current().filter(
                geom__intersects=area, grid__theme=Theme.GOVERNANCE, grid__valid_to__isnull=True
            )
        ]
        if not grids:
            return None
        cover = shapely.union_all(grids)
        shapely.prepare(cover)
        for system, (clon, clat) in candidates.items():
            inside = shapely.contains_xy(cover, clon, clat)
            fits.append(Fit(system, float(np.mean(inside)), None))
        what = "grids"
    return _judge(fits, declared, _shifts(lon, lat, candidates, to_metric), what, report)


def check_boundaries(geoms: np.ndarray, declared: str, report: ImportReport):
    """Boundary vertices (WGS84 as declared) against the lines of the boundaries already
    there: a file of streets, communities or grids shares most of its edges with them."""
    coords = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    if len(coords) == 0:
        return None
    lon, lat = _sample(coords[:, 0], coords[:, 1])
    if len(lon) < MIN_SAMPLE:
        return None
    area = _box(lon, lat)
    lines = [
        shapely.from_wkb(bytes(b.geom.wkb)).boundary
        for model in (RegionBoundary, GridBoundary)
        for b in model.objects.current().filter(geom__intersects=area)
    ]
    if not lines:
        return None
    to_metric = _metric(lon, lat)
    edges = shapely.transform(
        shapely.union_all(lines), lambda xy: np.column_stack(to_metric.transform(*xy.T))
    )
    shapely.prepare(edges)
    candidates = _candidates(lon, lat, declared)
    fits = []
    for system, (clon, clat) in candidates.items():
        x, y = to_metric.transform(clon, clat)
        distance = shapely.distance(edges, shapely.points(x, y))
        fits.append(Fit(system, float(np.mean(distance <= NEAR_M)), float(np.median(distance))))
    shifts = _shifts(lon, lat, candidates, to_metric)
    return _judge(fits, declared, shifts, "boundaries", report)
