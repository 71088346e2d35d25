"""OGC API – Features Part 2: the coordinate reference systems /ogc/ reads and writes in.

Stored geometry is WGS 84 longitude/latitude (SRID 4326, the axis order of OGC CRS84). A
client may ask for CRS84, EPSG:4326, EPSG:4490 (CGCS2000, China's national datum) or the
CGCS2000 Gauss-Krüger zones that cover its district, for output (`crs`), for a bbox
(`bbox-crs`), for CQL2 literals (`filter-crs`) and for features it sends (`Content-Crs`).

Part 2 requires coordinates in the axis order the CRS defines: EPSG:4326 and EPSG:4490 are
latitude first, and the EPSG Gauss-Krüger CRSs are northing ("X") first. PostGIS keeps x =
longitude / easting, so those CRSs are flipped on the way out and on the way in (`flip`).
Only CRS84 is longitude first; it is the default and what every client gets unasked.

CGCS2000 and WGS 84 agree to a few centimetres (an ITRF realisation each); EPSG publishes no
transformation between them and PROJ (which PostGIS and pyproj both call) uses a null
"ballpark" one, so 4326 → 4490 changes no number and is skipped here rather than run per row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import Transform
from django.contrib.gis.geos import GEOSGeometry
from django.core.cache import cache as django_cache
from django.db.models import Expression, F, Func
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pyproj import Transformer

from grids import scoping
from grids.limits import finite_problem, lonlat_problem
from grids.models import Level, Region, RegionBoundary
from grids.services.boundaries import to_geos, to_shapely
from grids.services.crs import geometries_to_wgs84
from ogc import conformance
from ogc.errors import OgcError

STORAGE_SRID = 4326
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/%d"
CONFORMANCE = ("http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",)
# The per-error code of every refusal here (the body's top-level code follows the status:
# InvalidParameterValue for a 400, ogc.errors).
_DEFAULT_CODE = "invalid"

DEGREE_DECIMALS = 7  # ~1 cm of latitude
METRE_DECIMALS = 3

# The EPSG codes of the CGCS2000 Gauss-Krüger CRSs, per zone (tests check each against PROJ
# and PostGIS's spatial_ref_sys). "Prefixed": the zone number leads the easting (zone 35:
# 35 500 000 m on the central meridian), as Chinese surveys usually write it; "CM": plain
# 500 000 m on the central meridian.
GK3_ZONES = range(25, 46)  # 3-degree zones: central meridian 3 × zone, 75°E .. 135°E
GK3_PREFIXED, GK3_CM = 4513, 4534  # + (zone - 25)
GK6_ZONES = range(13, 24)  # 6-degree zones: central meridian 6 × zone - 3, 75°E .. 135°E
GK6_PREFIXED, GK6_CM = 4491, 4502  # + (zone - 13)
# A Gauss-Krüger easting lies within this of the false easting (the zone's own band): wider
# than any Chinese zone is at the equator, narrow enough to tell a prefixed easting (35 587
# 399 m) from a plain one (587 399 m), the commonest mix-up.
EASTING_HALF_WIDTH = 500_000.0
# China lies between the equator and 53.6°N (5 940 000 m); past ~60°N a zone's band folds
# over itself in lon/lat (a bbox there would be a self-intersecting polygon).
NORTHING_RANGE = (0.0, 6_500_000.0)
BBOX_EDGE_POINTS = 16  # per side of a projected bbox: its edges are curves in lon/lat

# The axes as messages name them (grids.limits.lonlat_problem says "lon" / "lat").
AXIS_NAMES = {
    "lon": gettext_lazy("longitude"),
    "lat": gettext_lazy("latitude"),
    "northing": gettext_lazy("northing"),
    "easting": gettext_lazy("easting"),
}
ZONES_CACHE_SECONDS = 600  # boundaries move across a zone edge rarely; a new district waits


@dataclass(frozen=True)
class Crs:
    """One CRS offered. `flip`: its first axis is latitude or northing, so coordinates are
    swapped relative to PostGIS's x/y. `zone`/`meridian`/`prefixed` for Gauss-Krüger."""

    uri: str
    srid: int
    flip: bool
    decimals: int
    kind: str  # "crs84" | "geographic" | "gk3" | "gk6"
    zone: int | None = None
    meridian: int | None = None
    prefixed: bool = False

    @property
    def projected(self) -> bool:
        return self.kind in ("gk3", "gk6")

    @property
    def curie(self) -> str:
        return "OGC:CRS84" if self.kind == "crs84" else f"EPSG:{self.srid}"

    @property
    def false_easting(self) -> float:
        return (self.zone * 1_000_000 if self.prefixed else 0) + 500_000.0

    @property
    def axes(self) -> tuple[str, str]:
        if self.kind == "crs84":
            return ("lon", "lat")
        return ("lat", "lon") if self.kind == "geographic" else ("northing", "easting")

    @property
    def title(self) -> str:
        """A short name in the reader's language (gettext at access time)."""
        if self.kind == "crs84":
            return _("WGS 84 longitude/latitude (CRS84)")
        if self.srid == STORAGE_SRID:
            return _("WGS 84 latitude/longitude (EPSG:4326)")
        if self.kind == "geographic":
            return _("CGCS2000 latitude/longitude (EPSG:4490)")
        values = {"zone": self.zone, "cm": self.meridian, "code": self.curie}
        if self.kind == "gk3" and self.prefixed:
            text = _("CGCS2000 3-degree Gauss-Krüger zone %(zone)d, CM %(cm)d°E (%(code)s)")
        elif self.kind == "gk3":
            text = _("CGCS2000 3-degree Gauss-Krüger CM %(cm)d°E, no zone prefix (%(code)s)")
        elif self.prefixed:
            text = _("CGCS2000 6-degree Gauss-Krüger zone %(zone)d, CM %(cm)d°E (%(code)s)")
        else:
            text = _("CGCS2000 6-degree Gauss-Krüger CM %(cm)d°E, no zone prefix (%(code)s)")
        return text % values


conformance.declare(*CONFORMANCE)

DEFAULT = Crs(CRS84_URI, STORAGE_SRID, flip=False, decimals=DEGREE_DECIMALS, kind="crs84")
STORAGE = DEFAULT  # Part 2 `storageCrs`: what the columns hold, in CRS84 axis order


def _catalogue() -> dict[str, Crs]:
    found = [
        DEFAULT,
        Crs(EPSG_URI % 4326, 4326, flip=True, decimals=DEGREE_DECIMALS, kind="geographic"),
        Crs(EPSG_URI % 4490, 4490, flip=True, decimals=DEGREE_DECIMALS, kind="geographic"),
    ]
    for kind, zones, width, codes in (
        ("gk3", GK3_ZONES, 3, (GK3_PREFIXED, GK3_CM)),
        ("gk6", GK6_ZONES, 6, (GK6_PREFIXED, GK6_CM)),
    ):
        for zone in zones:
            meridian = 3 * zone if width == 3 else 6 * zone - 3
            for first, prefixed in zip(codes, (True, False), strict=True):
                srid = first + zone - zones.start
                found.append(
                    Crs(EPSG_URI % srid, srid, True, METRE_DECIMALS, kind, zone, meridian, prefixed)
                )
    return {crs.uri: crs for crs in found}


CATALOGUE = _catalogue()  # every CRS `parse` knows, by URI
BY_SRID = {crs.srid: crs for crs in CATALOGUE.values() if crs.kind != "crs84"}

_URI = re.compile(
    r"https?://www\.opengis\.net/def/crs/(?:EPSG/0/(?P<epsg>\d{1,6})|OGC/1\.3/(?P<ogc>CRS84))"
)
# "EPSG:4490" and the safe CURIE "[EPSG:4490]" (brackets both or neither), and the old URNs.
_CURIE = re.compile(
    r"(?P<open>\[?)(?:EPSG:(?P<epsg>\d{1,6})|OGC:(?P<ogc>CRS84))(?P<close>\]?)", re.IGNORECASE
)
_URN = re.compile(
    r"urn:ogc:def:crs:(?:EPSG:[\d.]*:(?P<epsg>\d{1,6})|OGC:1\.3:(?P<ogc>CRS84))", re.IGNORECASE
)


def _shown(value: str) -> str:
    return value if len(value) <= 80 else value[:77] + "..."


def parse(uri: str, field: str, allowed: Iterable[str] | None = None) -> Crs:
    """The CRS a parameter (`crs`, `bbox-crs`, `filter-crs`) or header (`Content-Crs`) names.
    `allowed`: the URIs the collection offers (its `crs` list), when narrower than all the
    CRSs known here. Anything else is a 400 naming `field`."""
    text = (uri or "").strip()
    if text.startswith("<") and text.endswith(">"):  # a Content-Crs header's form
        text = text[1:-1].strip()
    match = _URI.fullmatch(text) or _URN.fullmatch(text) or _CURIE.fullmatch(text)
    crs = None
    if match and (match.re is not _CURIE or bool(match["open"]) == bool(match["close"])):
        crs = DEFAULT if match["ogc"] else BY_SRID.get(int(match["epsg"]))
    if crs is None:
        raise OgcError(
            400,
            _DEFAULT_CODE,
            field,
            _(
                "'%(value)s' is not a coordinate reference system this server offers; each "
                'collection lists the ones it does in its "crs" member (CRS84, EPSG:4326, '
                "EPSG:4490 and the CGCS2000 Gauss-Krüger zones of the district), as URIs "
                "such as %(example)s"
            )
            % {"value": _shown(text), "example": EPSG_URI % 4490},
        )
    if allowed is not None and crs.uri not in set(allowed):
        raise OgcError(
            400,
            _DEFAULT_CODE,
            field,
            _(
                '%(crs)s is not offered for this collection; its "crs" member lists the '
                "coordinate reference systems that are"
            )
            % {"crs": crs.curie},
        )
    return crs


def content_crs_header(crs: Crs) -> str:
    return f"<{crs.uri}>"


# --- the zones a district uses -----------------------------------------------------------------


def gk3_zone(lon: float) -> int:
    return math.floor((lon + 1.5) / 3)


def gk6_zone(lon: float) -> int:
    return math.floor(lon / 6) + 1


def zones_for(centre: float, west: float, east: float) -> list[Crs]:
    """The Gauss-Krüger CRSs for an area: the 3-degree zones its extent touches (the centre's
    first, then a neighbour it straddles into), then the 6-degree ones, each in the prefixed
    and the central-meridian form. Zones outside China's (75°E..135°E) have no EPSG code."""
    found = []
    for zone_of, zones, prefixed, plain in (
        (gk3_zone, GK3_ZONES, GK3_PREFIXED, GK3_CM),
        (gk6_zone, GK6_ZONES, GK6_PREFIXED, GK6_CM),
    ):
        centre_zone = zone_of(centre)
        touched = range(zone_of(west), zone_of(east) + 1)
        for zone in sorted(touched, key=lambda z: (abs(z - centre_zone), z)):
            if zone in zones:
                found += [BY_SRID[first + zone - zones.start] for first in (prefixed, plain)]
    return found


def _district_extents(district_id: int | None) -> list[tuple[float, float, float]]:
    """(centre lon, west, east) of the current boundary of one district, or of every one."""
    rows = RegionBoundary.objects.current().filter(region__level=Level.DISTRICT)
    if district_id is not None:
        rows = rows.filter(region_id=district_id)
    # The envelope only: five points per district, not its boundary.
    rows = rows.annotate(
        box=Func(F("geom"), function="ST_Envelope", output_field=GeometryField(srid=4326))
    ).values_list("box", flat=True)
    extents = []
    for box in rows:
        west, _south, east, _north = box.extent
        extents.append(((west + east) / 2, west, east))
    return extents


def supported(district=None) -> list[str]:
    """The URIs a collection offers for `crs` and `bbox-crs`: CRS84 first, EPSG:4326, EPSG:4490,
    then the Gauss-Krüger zones of `district` (a Region or its id; None: of every district
    in the database, for users above the districts). Cached: called per collection document."""
    if isinstance(district, Region) and district.level != Level.DISTRICT:
        district = scoping.district_above(district)
    district_id = getattr(district, "pk", district)
    key = f"ogc:crs:zones:{district_id if district_id is not None else 'all'}"
    uris = django_cache.get(key)
    if uris is None:
        zones: list[Crs] = []
        for centre, west, east in _district_extents(district_id):
            zones += [crs for crs in zones_for(centre, west, east) if crs not in zones]
        if district_id is None:  # west to east, 3-degree before 6-degree
            zones.sort(key=lambda crs: (crs.kind, crs.zone, not crs.prefixed))
        uris = [DEFAULT.uri, EPSG_URI % 4326, EPSG_URI % 4490] + [crs.uri for crs in zones]
        django_cache.set(key, uris, ZONES_CACHE_SECONDS)
    return list(uris)


# --- output ------------------------------------------------------------------------------------


def geometry_expression(expr, crs: Crs) -> Expression:
    """A 4326 geometry (a column name or expression) as coordinates in `crs`, in its axis
    order, for SQL output (ST_AsGeoJSON of it)."""
    if isinstance(expr, str):
        expr = F(expr)
    if crs.srid == 4490:
        # PROJ's 4326 → 4490 is a no-op: label it, don't run PROJ per row.
        expr = Func(expr, crs.srid, function="ST_SetSRID", output_field=GeometryField(srid=4490))
    elif crs.srid != STORAGE_SRID:
        expr = Transform(expr, crs.srid)
    if crs.flip:
        expr = Func(expr, function="ST_FlipCoordinates", output_field=GeometryField(srid=crs.srid))
    return expr


# --- input -------------------------------------------------------------------------------------


@cache
def _to_lonlat(srid: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{srid}", "EPSG:4326", always_xy=True)


def _refuse(field: str, message: str, code: str = _DEFAULT_CODE) -> OgcError:
    return OgcError(400, code, field, message)


def _lonlat_refusal(lon: np.ndarray, lat: np.ndarray, field: str, what: str, code: str):
    """A 400 for the first point that is not finite lon/lat in range (grids.limits' rule)."""
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    x, y = float(lon[i]), float(lat[i])
    axis, reason = lonlat_problem(x, y) or ("lon", _("is not a finite number"))
    return _refuse(
        field,
        _("%(what)s: %(axis)s %(reason)s (%(lon)s, %(lat)s as longitude, latitude)")
        % {"what": what, "axis": AXIS_NAMES[axis], "reason": reason, "lon": x, "lat": y},
        code,
    )


def _easting_refusal(crs: Crs, eastings: np.ndarray, field: str, code: str):
    low, high = crs.false_easting - EASTING_HALF_WIDTH, crs.false_easting + EASTING_HALF_WIDTH
    outside = (eastings < low) | (eastings > high)
    if not outside.any():
        return None
    other = BY_SRID[crs.srid + (11 if crs.kind == "gk6" else 21) * (-1 if not crs.prefixed else 1)]
    return _refuse(
        field,
        _(
            "easting %(easting)s is outside %(crs)s (%(low)d to %(high)d m); eastings "
            "%(form)s are %(other)s"
        )
        % {
            "easting": float(eastings[int(np.argmax(outside))]),
            "crs": crs.curie,
            "low": low,
            "high": high,
            "form": _("with the zone number in front")
            if other.prefixed
            else _("without the zone number"),
            "other": other.curie,
        },
        code,
    )


def _northing_refusal(northings: np.ndarray, field: str, code: str):
    # Past the pole or south of the equator the inverse projection still answers, elsewhere.
    outside = (northings < NORTHING_RANGE[0]) | (northings > NORTHING_RANGE[1])
    if not outside.any():
        return None
    return _refuse(
        field,
        _("northing %(northing)s is outside %(low)d to %(high)d m")
        % {
            "northing": float(northings[int(np.argmax(outside))]),
            "low": NORTHING_RANGE[0],
            "high": NORTHING_RANGE[1],
        },
        code,
    )


def _corners(values: list[float], crs: Crs, field: str) -> tuple[float, float, float, float]:
    """A bbox's (x0, y0, x1, y1) in PostGIS order (x: longitude or easting), checked."""
    if len(values) not in (4, 6):
        raise _refuse(
            field, _("a bbox has 4 numbers (or 6 with heights), not %(n)d") % {"n": len(values)}
        )
    for value in values:
        problem = finite_problem(value)
        if problem:
            raise _refuse(field, _("%(value)s %(reason)s") % {"value": value, "reason": problem})
    half = len(values) // 2  # 6 numbers: the third and sixth are heights
    low, high = [values[0], values[1]], [values[half], values[half + 1]]
    if crs.flip:  # latitude or northing first
        low, high = low[::-1], high[::-1]
    if crs.kind == "crs84" and low[0] > high[0]:
        raise _refuse(
            field,
            _(
                "the bbox crosses the antimeridian (west %(west)s > east %(east)s); no "
                "district here does, so it is refused: send west ≤ east"
            )
            % {"west": low[0], "east": high[0]},
        )
    names = crs.axes[::-1] if crs.flip else crs.axes  # in x, y order
    for i, name in enumerate(names):
        if low[i] > high[i]:
            raise _refuse(
                field,
                _("the lower %(axis)s %(low)s is above the upper %(high)s")
                % {"axis": AXIS_NAMES[name], "low": low[i], "high": high[i]},
            )
    return low[0], low[1], high[0], high[1]


def _outline(x0: float, y0: float, x1: float, y1: float, points: int):
    """The box's outline, `points` per side, as (xs, ys): a closed ring, or for a box with no
    area the line (or point) it is, since a polygon without area is invalid to GEOS."""
    t = np.linspace(0.0, 1.0, points, endpoint=False)
    if x0 == x1 or y0 == y1:
        t = np.append(t, 1.0) if (x0, y0) != (x1, y1) else t[:1]
        return x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
    dx, dy, ones = x1 - x0, y1 - y0, np.ones_like(t)
    xs = np.concatenate([x0 + dx * t, x1 * ones, x1 - dx * t, x0 * ones])
    ys = np.concatenate([y0 * ones, y0 + dy * t, y1 * ones, y1 - dy * t])
    return np.append(xs, x0), np.append(ys, y0)


def bbox_polygon(values: list[float], crs: Crs, field: str = "bbox") -> GEOSGeometry:
    """A `bbox` (4 numbers, or 6 with heights, which are ignored) in `crs`'s axis order, as a
    polygon in SRID 4326 (a line or point when it has no width or height). With `bbox-crs`
    EPSG:4326 that is latitude first."""
    x0, y0, x1, y1 = _corners(values, crs, field)
    if not crs.projected:
        for x, y in ((x0, y0), (x1, y1)):
            found = lonlat_problem(x, y)
            if found:
                raise _refuse(
                    field,
                    _("%(axis)s %(reason)s") % {"axis": AXIS_NAMES[found[0]], "reason": found[1]},
                )
        # EPSG:4490 → 4326 is PROJ's no-op (module docstring): the numbers stay.
        lon, lat = _outline(x0, y0, x1, y1, 1)
    else:
        # A client's view may run past the zone: keep to the zone's band (nothing stored lies
        # beyond it in this CRS), refuse a box wholly outside (the wrong form of easting).
        low, high = crs.false_easting - EASTING_HALF_WIDTH, crs.false_easting + EASTING_HALF_WIDTH
        if x1 < low or x0 > high:
            raise _easting_refusal(crs, np.array([x0 if x0 > high else x1]), field, _DEFAULT_CODE)
        if y1 < NORTHING_RANGE[0] or y0 > NORTHING_RANGE[1]:
            northing = np.array([y0 if y0 > NORTHING_RANGE[1] else y1])
            raise _northing_refusal(northing, field, _DEFAULT_CODE)
        x0, x1 = max(x0, low), min(x1, high)
        y0, y1 = max(y0, NORTHING_RANGE[0]), min(y1, NORTHING_RANGE[1])
        # Its edges are curves in lon/lat (grid north is not true north off the meridian).
        xs, ys = _outline(x0, y0, x1, y1, BBOX_EDGE_POINTS)
        lon, lat = (np.asarray(v) for v in _to_lonlat(crs.srid).transform(xs, ys))
        refusal = _lonlat_refusal(lon, lat, field, _("the bbox"), _DEFAULT_CODE)
        if refusal:
            raise refusal
    coords = np.column_stack([lon, lat])
    if len(coords) == 1:
        return to_geos(shapely.Point(coords[0]))
    if len(coords) == 2 or (x0 == x1 or y0 == y1):
        return to_geos(shapely.LineString(coords))
    return to_geos(shapely.Polygon(coords))


def to_storage(
    geom: GEOSGeometry, crs: Crs, field: str = "geometry", code: str = _DEFAULT_CODE
) -> GEOSGeometry:
    """A geometry a client sent in `crs` (Part 4 bodies with Content-Crs, CQL2 literals with
    filter-crs; its own SRID, if any, is ignored: the coordinates are `crs`'s, in its axis
    order) as longitude/latitude in SRID 4326, every vertex checked. Heights are dropped."""
    shape = to_shapely(geom)
    if crs.flip:
        shape = shapely.transform(shape, lambda xy: xy[:, ::-1])
    if crs.projected:
        coords = shapely.get_coordinates(shape)
        finite = np.isfinite(coords).all(axis=1)
        if not finite.all():
            i = int(np.argmin(finite))
            raise _refuse(
                field,
                _("vertex %(n)d is not a finite number") % {"n": i + 1},
                code,
            )
        refusal = _easting_refusal(crs, coords[:, 0], field, code) or _northing_refusal(
            coords[:, 1], field, code
        )
        if refusal:
            raise refusal
        shape = geometries_to_wgs84(np.array([shape], dtype=object), crs.curie)[0]
    coords = shapely.get_coordinates(shape)
    refusal = _lonlat_refusal(coords[:, 0], coords[:, 1], field, _("a vertex"), code)
    if refusal:
        raise refusal
    return to_geos(shape)
