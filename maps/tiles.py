"""Mapbox vector tiles built by PostGIS (decision 6).

The features of a tile come from the layer's own queryset, scoped to the user by the one
scoping rule and filtered by the tile's bounding box in WGS84 (so the GiST index on the
stored SRID 4326 column is used and only the rows of the tile are transformed). The ORM
writes that query; the one raw statement here wraps it in ST_AsMVT, which the ORM cannot
express, and passes its parameters separately.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from dataclasses import dataclass

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import Transform
from django.contrib.gis.geos import Polygon
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Func, Value
from django.db.models.fields import BooleanField, IntegerField

from maps.models import TileVersion
from maps.registry import Layer

EXTENT = 4096
# 16 px of a 256 px tile: room for the largest point symbol, so that a symbol near a tile's
# edge is drawn whole by both tiles instead of cut off.
BUFFER = 256
MAX_ZOOM = 22
HALF = 20037508.342789244  # half the width of the Web Mercator world, metres
RADIUS = 6378137.0
CACHE_SECONDS = 24 * 3600


class BadTile(ValueError):
    pass


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError as exc:
        raise BadTile("z, x and y are whole numbers") from exc
    if not 0 <= zi <= MAX_ZOOM:
        raise BadTile(f"z must be 0 to {MAX_ZOOM}")
    if not (0 <= xi < 2**zi and 0 <= yi < 2**zi):
        raise BadTile(f"x and y must be 0 to {2**zi - 1} at zoom {zi}")
    return zi, xi, yi


def mercator_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = 2 * HALF / 2**z
    return (-HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size)


def _lonlat(mx: float, my: float) -> tuple[float, float]:
    lon = mx / RADIUS * 180 / math.pi
    lat = (2 * math.atan(math.exp(my / RADIUS)) - math.pi / 2) * 180 / math.pi
    return lon, lat


def envelopes(z: int, x: int, y: int) -> tuple[Polygon, Polygon]:
    """The tile in EPSG:3857 (for ST_AsMVTGeom) and, widened by the render buffer, in
    EPSG:4326 (for the index lookup on the stored column)."""
    minx, miny, maxx, maxy = mercator_bounds(z, x, y)
    margin = (maxx - minx) * BUFFER / EXTENT
    tile = Polygon.from_bbox((minx, miny, maxx, maxy))
    tile.srid = 3857
    west, south = _lonlat(minx - margin, max(miny - margin, -HALF))
    east, north = _lonlat(maxx + margin, min(maxy + margin, HALF))
    bbox = Polygon.from_bbox((west, south, east, north))
    bbox.srid = 4326
    return tile, bbox


class AsMVTGeom(Func):
    function = "ST_AsMVTGeom"
    output_field = GeometryField(srid=0)


def _features(queryset, geometry: str, bbox_field: str, attributes, tile, bbox):
    return (
        queryset.filter(**{f"{bbox_field}__bboverlaps": bbox})
        .annotate(
            mvt=AsMVTGeom(
                Transform(geometry, 3857),
                Func(Value(tile, output_field=GeometryField(srid=3857)), function="Box2D"),
                Value(EXTENT, output_field=IntegerField()),
                Value(BUFFER, output_field=IntegerField()),
                Value(True, output_field=BooleanField()),
            )
        )
        .order_by()
        .values(*attributes, "mvt")
    )


# The features of the tile (the ORM's query) become one MVT layer; when there are more than
# the layer allows, they are clustered on a pixel grid, each cluster with its count. The
# feature id is also a property ("id"): browsers' style functions see only properties.
TILE_SQL = """
WITH t AS MATERIALIZED ({features})
SELECT CASE WHEN (SELECT count(*) FROM t WHERE mvt IS NOT NULL) <= %s
  THEN (SELECT ST_AsMVT(f.*, %s, {extent}, 'mvt', 'fid')
        FROM (SELECT t.*, t.fid AS id FROM t WHERE mvt IS NOT NULL) f)
  ELSE (SELECT ST_AsMVT(c.*, %s, {extent}, 'mvt', 'fid') FROM (
          SELECT min(fid) AS fid, min(fid) AS id, count(*) AS n,
                 ST_Centroid(ST_Collect(mvt)) AS mvt
          FROM t WHERE mvt IS NOT NULL
          GROUP BY ST_SnapToGrid(mvt, %s)
       ) c)
END
"""


def tile_statement(layer: Layer, user, z: int, x: int, y: int) -> tuple[str, list] | None:
    """The SQL and parameters of a tile, or None when the user's scope admits nothing (e.g.
    no regions for a grid worker). The benchmarks run the same statement as the reference."""
    tile, bbox = envelopes(z, x, y)
    aggregation = layer.aggregation
    if aggregation is not None and z < aggregation.below_zoom:
        queryset, geometry, attributes = (
            aggregation.queryset(user),
            aggregation.geometry,
            aggregation.attributes,
        )
        bbox_field = aggregation.bbox_field or aggregation.geometry
    else:
        queryset, geometry, attributes = layer.queryset(user), layer.geometry, layer.attributes
        bbox_field = layer.bbox_field or layer.geometry
    features = _features(queryset, geometry, bbox_field, attributes, tile, bbox)
    try:
        sql, params = features.query.sql_with_params()
    except EmptyResultSet:
        return None
    max_points = aggregation.max_points if aggregation else 10**9
    cluster = aggregation.cluster_pixels if aggregation else 1
    return (
        TILE_SQL.format(features=sql, extent=EXTENT),
        [*params, max_points, layer.name, layer.name, cluster],
    )


def build_tile(layer: Layer, user, z: int, x: int, y: int) -> bytes:
    """The tile's MVT bytes (empty when the tile holds nothing)."""
    statement = tile_statement(layer, user, z, x, y)
    if statement is None:
        return b""
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        (data,) = cursor.fetchone()
    return bytes(data or b"")


def scope_key(user) -> str:
    """Users with the same role and jurisdiction see the same tiles."""
    if user.is_superuser:
        return "all"
    return f"{user.role}.{user.region_id or ''}.{user.grid_id or ''}.{user.department_id or ''}"


@dataclass(frozen=True)
class Tile:
    gzipped: bytes
    etag: str


def get_tile(layer: Layer, user, z: int, x: int, y: int) -> Tile:
    """The tile from the cache, or built and cached. The key holds the layer's version, so a
    change to the data behind it makes the old tiles unreachable: never a stale tile."""
    version = TileVersion.current(layer.name)
    key = f"tile:{layer.name}:{version}:{scope_key(user)}:{z}:{x}:{y}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    data = build_tile(layer, user, z, x, y)
    tile = Tile(gzip.compress(data, 6), f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"')
    cache.set(key, tile, CACHE_SECONDS)
    return tile
