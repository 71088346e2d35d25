"""Fire response and camera coverage for people (sessions or API tokens of any role; device
tokens are not accepted here):

    GET  /api/sensors/fire-response/?lon=&lat=&tanks=5&poles_within=1000
    POST /api/sensors/fire-response/
         {"geometry": GeoJSON Point or Polygon, "tanks": 5, "poles_within": 1000}
    GET  /api/sensors/coverage/?region=<id>

Bad input answers 400 naming the field (grids/api/errors.py).
"""

from __future__ import annotations

import json
import math

from django.contrib.gis.geos import GEOSException, MultiPolygon, Point, Polygon
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.models import Region
from grids.problems import Problem, ProblemsError
from sensors.services import coverage
from sensors.services.fire import (
    MAX_POLES_WITHIN_M,
    MAX_TANKS,
    FireResponse,
    fire_response,
)

# --- the response's shape, for the OpenAPI schema (the body is built by _body below) --------


class _Grid(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    community = serializers.CharField()
    street = serializers.CharField()


class _Device(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    location = serializers.ListField(child=serializers.FloatField(), help_text="[lon, lat]")
    distance_m = serializers.FloatField(help_text="metres on the spheroid")


class _Tank(_Device):
    level_pct = serializers.FloatField(allow_null=True)
    level_at = serializers.DateTimeField(
        allow_null=True, help_text="time of the reading the level comes from"
    )
    capacity_m3 = serializers.FloatField(allow_null=True)
    volume_m3 = serializers.FloatField(allow_null=True, help_text="capacity × level")


class _Camera(_Device):
    bearing = serializers.FloatField(
        allow_null=True, help_text="degrees clockwise from north, camera to the spot"
    )
    fov = serializers.FloatField()
    range = serializers.FloatField()
    sector = serializers.JSONField(help_text="GeoJSON Polygon")
    stream = serializers.CharField(allow_null=True)


class _Pole(_Device):
    broadcast_radius = serializers.FloatField()
    covers = serializers.BooleanField(help_text="its broadcast circle reaches the spot")


class FireResponseSerializer(serializers.Serializer):
    point = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="[lon, lat]"
    )
    area = serializers.JSONField(allow_null=True, help_text="GeoJSON Polygon")
    grid = _Grid(allow_null=True)
    water_tanks = _Tank(many=True)
    cameras = _Camera(many=True)
    poles = _Pole(many=True)


class FireAreaRequestSerializer(serializers.Serializer):
    geometry = serializers.JSONField(help_text="GeoJSON Point or Polygon, WGS 84")
    tanks = serializers.IntegerField(default=5, min_value=1, max_value=MAX_TANKS)
    poles_within = serializers.FloatField(default=1000, min_value=0, max_value=MAX_POLES_WITHIN_M)


# --- parsing --------------------------------------------------------------------------------


def _bad(code: str, message: str, name: str) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=name)])


def _number(raw, name: str, low: float, high: float, *, whole: bool = False) -> float:
    if raw is None or raw == "":
        raise _bad("required", _("%s is required") % name, name)
    if isinstance(raw, bool):
        raise _bad("invalid", _("%s is a number") % name, name)
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise _bad("invalid", _("%s is a number") % name, name) from exc
    if not math.isfinite(value) or (whole and value != int(value)):
        raise _bad("invalid", _("%s is a number") % name, name)
    if not low <= value <= high:
        raise _bad(
            "out_of_range",
            _("%(name)s is %(low)g to %(high)g") % {"name": name, "low": low, "high": high},
            name,
        )
    return value


def _options(data) -> tuple[int, float]:
    tanks = data.get("tanks")
    within = data.get("poles_within")
    return (
        5 if tanks in (None, "") else int(_number(tanks, "tanks", 1, MAX_TANKS, whole=True)),
        1000.0 if within in (None, "") else _number(within, "poles_within", 0, MAX_POLES_WITHIN_M),
    )


def _point(coordinates) -> Point:
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        raise ValueError("a position is [lon, lat]")
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates):
        raise ValueError("coordinates are numbers")
    return Point(float(coordinates[0]), float(coordinates[1]), srid=4326)


def _polygon(rings) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise ValueError("a polygon is a list of rings")
    shells = []
    for ring in rings:
        points = [_point(position) for position in ring]
        if len(points) < 4 or points[0] != points[-1]:
            raise ValueError("a ring is closed and has at least 4 positions")
        shells.append([(p.x, p.y) for p in points])
    return Polygon(*shells, srid=4326)


def _multipolygon(polygons) -> MultiPolygon:
    if not isinstance(polygons, list) or not polygons:
        raise ValueError("a multipolygon is a list of polygons")
    return MultiPolygon(*[_polygon(rings) for rings in polygons], srid=4326)


_GEOMETRIES = {"Point": _point, "Polygon": _polygon, "MultiPolygon": _multipolygon}


def _geometry(raw) -> Point | Polygon | MultiPolygon:
    if not isinstance(raw, dict):
        raise _bad("required", _("geometry is a GeoJSON Point or Polygon"), "geometry")
    if raw.get("type") not in ("Point", "Polygon", "MultiPolygon"):
        raise _bad("invalid_type", _("geometry is a GeoJSON Point or Polygon"), "geometry")
    try:
        # Built by GEOS from the coordinates, not read by GDAL, which would silently close
        # an unclosed ring; GeoJSON is WGS 84 (RFC 7946).
        geometry = _GEOMETRIES[raw["type"]](raw.get("coordinates"))
    except (GEOSException, ValueError, TypeError, IndexError) as exc:
        reason = _("geometry is not valid GeoJSON: %s") % exc
        raise _bad("invalid_geometry", reason, "geometry") from exc
    if geometry.empty:
        raise _bad("invalid_geometry", _("geometry is empty"), "geometry")
    x0, y0, x1, y1 = geometry.extent
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or not (
        -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
    ):
        raise _bad("out_of_range", _("coordinates are lon -180..180, lat -90..90"), "geometry")
    if not geometry.valid:
        raise _bad(
            "invalid_geometry", _("geometry is not valid: %s") % geometry.valid_reason, "geometry"
        )
    return geometry


# --- the body -------------------------------------------------------------------------------


def _m(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _body(result: FireResponse) -> dict:
    point, grid = result.point, result.grid
    return {
        "point": [point.x, point.y] if point is not None else None,
        "area": json.loads(result.area.json) if result.area is not None else None,
        "grid": None
        if grid is None
        else {
            "id": grid.id,
            "code": grid.code,
            "name": grid.name,
            "community": grid.community,
            "street": grid.street,
        },
        "water_tanks": [
            {
                "id": t.id,
                "code": t.code,
                "name": t.name,
                "status": t.status,
                "location": list(t.location),
                "distance_m": _m(t.distance_m),
                "level_pct": t.level_pct,
                "level_at": t.level_at.isoformat() if t.level_at else None,
                "capacity_m3": t.capacity_m3,
                "volume_m3": _m(t.volume_m3),
            }
            for t in result.water_tanks
        ],
        "cameras": [
            {
                "id": c.id,
                "code": c.code,
                "name": c.name,
                "status": c.status,
                "location": list(c.location),
                "distance_m": _m(c.distance_m),
                "bearing": _m(c.bearing),
                "fov": c.fov,
                "range": c.range,
                "sector": c.sector,
                "stream": c.stream,
            }
            for c in result.cameras
        ],
        "poles": [
            {
                "id": p.id,
                "code": p.code,
                "name": p.name,
                "status": p.status,
                "location": list(p.location),
                "distance_m": _m(p.distance_m),
                "broadcast_radius": p.broadcast_radius,
                "covers": p.covers,
            }
            for p in result.poles
        ],
    }


class FireResponseView(APIView):
    """Fire response (一张图 fire mode): the nearest water tanks with their level, the
    cameras whose view covers the spot and the voice poles covering it or within
    `poles_within` metres, among the devices of the caller's district. Offline or faulty
    devices are listed with their status."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", OpenApiTypes.DOUBLE, required=True),
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True),
            OpenApiParameter("tanks", OpenApiTypes.INT, description=f"1 to {MAX_TANKS}, 5"),
            OpenApiParameter(
                "poles_within", OpenApiTypes.DOUBLE, description="metres, 0 to 20000, 1000"
            ),
        ],
        responses=FireResponseSerializer,
    )
    def get(self, request):
        params = request.query_params
        lon = _number(params.get("lon"), "lon", -180, 180)
        lat = _number(params.get("lat"), "lat", -90, 90)
        tanks, within = _options(params)
        result = fire_response(
            point=Point(lon, lat, srid=4326), user=request.user, tanks=tanks, poles_within=within
        )
        return Response(_body(result))

    @extend_schema(request=FireAreaRequestSerializer, responses=FireResponseSerializer)
    def post(self, request):
        """The same for a clicked point or a drawn area, given as GeoJSON."""
        data = request.data if isinstance(request.data, dict) else {}
        geometry = _geometry(data.get("geometry"))
        tanks, within = _options(data)
        if isinstance(geometry, Point):
            result = fire_response(
                point=geometry, user=request.user, tanks=tanks, poles_within=within
            )
        else:
            result = fire_response(
                area=geometry, user=request.user, tanks=tanks, poles_within=within
            )
        return Response(_body(result))


# --- coverage -------------------------------------------------------------------------------


class _CoverageRow(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    share = serializers.FloatField(allow_null=True, help_text="0 to 1; null: not computed yet")
    covered_m2 = serializers.FloatField(allow_null=True)
    area_m2 = serializers.FloatField(allow_null=True)
    cameras = serializers.IntegerField(allow_null=True)
    gap = serializers.BooleanField(allow_null=True, help_text="no camera sees any of it")
    stale = serializers.BooleanField(help_text="a camera or the boundary changed since")


class _CoverageTotals(serializers.Serializer):
    grids = serializers.IntegerField()
    computed = serializers.IntegerField()
    gaps = serializers.IntegerField()
    area_m2 = serializers.FloatField()
    covered_m2 = serializers.FloatField()
    share = serializers.FloatField(allow_null=True)


class CoverageSerializer(serializers.Serializer):
    results = _CoverageRow(many=True)
    totals = _CoverageTotals()


class CoverageView(APIView):
    """Camera coverage per grid the user can see: the share of the grid's area that at
    least one camera's view sector covers (terrain not modelled), and the grids with none."""

    @extend_schema(
        parameters=[
            OpenApiParameter("region", OpenApiTypes.INT, description="only grids under it")
        ],
        responses=CoverageSerializer,
    )
    def get(self, request):
        region = None
        if raw := request.query_params.get("region"):
            if not (raw.isascii() and raw.isdecimal() and len(raw) < 19):
                raise _bad("invalid", _("region is the id of a region"), "region")
            region = get_object_or_404(Region.objects.visible_to(request.user), pk=int(raw))
        rows, totals = coverage.coverage_of(request.user, region)
        return Response({"results": rows, "totals": totals})


urlpatterns = [
    path("fire-response/", FireResponseView.as_view(), name="sensor-fire-response"),
    path("coverage/", CoverageView.as_view(), name="sensor-coverage"),
]
