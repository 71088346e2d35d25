"""The coordinates of a file: its system, values that cannot be degrees, points not points,
and points far outside the district. Messages quote the file's own coordinates, which is
what a person finds in the file."""

from __future__ import annotations

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from pyproj import Transformer

from grids.models import Level, RegionBoundary
from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services.imports.options import api_parameters
from grids.services.imports.report import ImportReport

# Systems whose coordinates are degrees of longitude and latitude.
DEGREE_SYSTEMS = (crs_service.WGS84, "EPSG:4490", *crs_service.OFFSET_SYSTEMS)


def source_crs(frame, given_crs: str | None, report: ImportReport) -> str:
    """The CRS to convert from: the caller's word wins (files from Chinese web maps often
    carry GCJ-02 coordinates labelled WGS84); else the file's; else WGS84 with a warning.
    Raises crs.UnknownCRS when the caller's word names no system."""
    given = crs_service.normalise(given_crs)
    file_crs = getattr(frame, "crs", None)
    if given:
        if file_crs is not None and not file_crs.equals(
            "EPSG:4326" if given in crs_service.OFFSET_SYSTEMS else given
        ):
            report.problems.append(
                Problem(
                    "crs_override",
                    _("the file says %(file_crs)s, converting from %(given)s as asked")
                    % {"file_crs": file_crs.to_string(), "given": given},
                    severity="warning",
                )
            )
        return given
    if file_crs is not None:
        return file_crs.to_string()
    report.problems.append(
        Problem(
            "crs_assumed",
            _("the file names no coordinate system; assumed EPSG:4326 (WGS84)"),
            severity="warning",
        )
    )
    return crs_service.WGS84


def _not_degrees(label: str) -> str:
    """The sentence for what a caller checks (a "point" or a "coordinate"), whole, with the
    option that names the system: --source-crs, or the API's field."""
    if api_parameters() is not None:
        if label == "point":
            return _(
                "point (%(lon).1f, %(lat).1f) is not longitude/latitude: the file is "
                "probably in a projected system (metres); give it in the field %(parameter)s"
            )
        return _(
            "coordinate (%(lon).1f, %(lat).1f) is not longitude/latitude: the file is "
            "probably in a projected system (metres); give it in the field %(parameter)s"
        )
    if label == "point":
        return _(
            "point (%(lon).1f, %(lat).1f) is not longitude/latitude: "
            "the file is probably in a projected system (metres); pass --source-crs"
        )
    return _(
        "coordinate (%(lon).1f, %(lat).1f) is not longitude/latitude: "
        "the file is probably in a projected system (metres); pass --source-crs"
    )


def lonlat_range_problems(
    lon, lat, rows, report: ImportReport, label: str, skip: np.ndarray | None = None
) -> np.ndarray:
    """Coordinates that cannot be degrees; `skip` marks rows already reported otherwise."""
    bad = ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    parameter = api.crs if (api := api_parameters()) is not None else None
    if skip is not None:
        bad &= ~skip
    for i in np.flatnonzero(bad):
        report.problems.append(
            Problem(
                "wrong_crs",
                _not_degrees(label) % {"lon": lon[i], "lat": lat[i], "parameter": parameter},
                row=int(rows[i]),
                field="geometry",
                location=(float(lon[i]), float(lat[i])),
            )
        )
    return bad


def point_lonlat(points, report: ImportReport) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The x and y of a point layer's geometries (NaN where a feature is no point or has
    none), and which features are not points, each reported by row."""
    not_point = (shapely.get_type_id(points) != 0) & ~shapely.is_missing(points)
    for i in np.flatnonzero(not_point):
        report.problems.append(
            Problem(
                "not_point",
                _("expected a point, got %(type)s") % {"type": points[i].geom_type},
                row=int(i + 1),
                field="geometry",
            )
        )
    lon = np.where(not_point, np.nan, shapely.get_x(points))
    lat = np.where(not_point, np.nan, shapely.get_y(points))
    return lon, lat, not_point


def report_swapped(lon, lat, idx, district, rows, report: ImportReport, raw=None) -> np.ndarray:
    """Mark (and report) the points at `idx` that fall inside the district once longitude
    and latitude are swapped. `raw`: the file's own (lon, lat) to quote, when converted."""
    swapped = np.zeros(len(lon), dtype=bool)
    if district is None or len(idx) == 0:
        return swapped
    raw_lon, raw_lat = raw if raw is not None else (lon, lat)
    inside = shapely.contains_xy(district, lat[idx], lon[idx])
    for i in idx[inside]:
        report.problems.append(
            Problem(
                "swapped_lat_lon",
                _(
                    "(%(lon).6f, %(lat).6f) lies inside the district only with "
                    "longitude and latitude swapped"
                )
                % {"lon": raw_lon[i], "lat": raw_lat[i]},
                row=int(rows[i]),
                field="lon/lat",
                location=(float(raw_lon[i]), float(raw_lat[i])),
            )
        )
        swapped[i] = True
    return swapped


def outside_district_problems(
    lon, lat, ok, district, rows, report: ImportReport, raw=None
) -> np.ndarray:
    """Points far outside every district (in metres), unless swapping lat/lon explains them.
    `lon`, `lat` are WGS84; `raw` the file's own (lon, lat), quoted in the messages."""
    bad = np.zeros(len(lon), dtype=bool)
    if district is None or not ok.any():
        return bad
    raw_lon, raw_lat = raw if raw is not None else (lon, lat)
    centre = district.centroid
    metric = crs_service.local_metric_crs(centre.x, centre.y)
    to_metric = Transformer.from_crs(crs_service.WGS84, metric, always_xy=True)
    area = shapely.transform(district, lambda xy: np.column_stack(to_metric.transform(*xy.T)))
    shapely.prepare(area)
    idx = np.flatnonzero(ok)
    x, y = to_metric.transform(lon[idx], lat[idx])
    inside = shapely.contains_xy(area, x, y)
    outside = np.flatnonzero(~inside)
    distance = np.zeros(len(idx))
    if len(outside):
        distance[outside] = shapely.distance(area, shapely.points(x[outside], y[outside]))
    far = distance > settings.GRIDLINE_OUTSIDE_DISTRICT_M
    swapped = report_swapped(lon, lat, idx[far], district, rows, report, raw=(raw_lon, raw_lat))
    for j in np.flatnonzero(far):
        i = idx[j]
        if swapped[i]:
            continue
        report.problems.append(
            Problem(
                "far_outside_district",
                _(
                    "the point (%(lon).6f, %(lat).6f) is %(km).1f km outside the district: "
                    "wrong coordinate system or a typing error?"
                )
                % {"lon": raw_lon[i], "lat": raw_lat[i], "km": distance[j] / 1000},
                row=int(rows[i]),
                field="lon/lat",
                location=(float(raw_lon[i]), float(raw_lat[i])),
            )
        )
    bad[idx[far]] = True
    return bad


def district_area(district_id: int | None = None):
    """The current outline of one district, or of every district, prepared for point tests."""
    boundaries = RegionBoundary.objects.current().filter(
        region__level=Level.DISTRICT, region__valid_to__isnull=True
    )
    if district_id is not None:
        boundaries = boundaries.filter(region_id=district_id)
    geoms = [shapely.from_wkb(bytes(b.geom.wkb)) for b in boundaries]
    if not geoms:
        return None
    area = shapely.union_all(geoms)
    shapely.prepare(area)
    return area
