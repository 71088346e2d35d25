"""OGC API – Features Part 2 (issue #19): the CRSs /ogc/ offers, parsed, listed per district,
used in SQL output, for bbox and for geometries sent in, checked against PROJ and PostGIS."""

from __future__ import annotations

import itertools
import json

import pytest
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import GEOSGeometry, LineString, Point, Polygon
from django.db import connection
from django.db.models import Value
from django.utils import translation
from pyproj import CRS, Transformer
from rest_framework.test import APIClient
from shapely.geometry import box

from grids.models import Level, Region
from grids.services import boundaries
from ogc import conformance, crs
from ogc.errors import OgcError

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# A point in the test district (conftest: lon 105.90-106.00, lat 29.30-29.40).
LON, LAT = 105.95, 29.35


@pytest.fixture(autouse=True)
def english():
    """Messages are matched in English here; test_titles_are_translated reads Chinese."""
    with translation.override("en"):
        yield


def proj(srid: int, lon: float = LON, lat: float = LAT) -> tuple[float, float]:
    """(easting, northing) or (lon, lat) of a point by pyproj, x/y order."""
    return Transformer.from_crs("EPSG:4326", f"EPSG:{srid}", always_xy=True).transform(lon, lat)


# --- the catalogue against PROJ and PostGIS ----------------------------------------------------


def test_every_crs_offered_is_what_proj_says_it_is():
    gk = [c for c in crs.CATALOGUE.values() if c.projected]
    assert len(gk) == 2 * 21 + 2 * 11  # 3-degree zones 25-45, 6-degree 13-23, two forms each
    for c in crs.CATALOGUE.values():
        if c.kind == "crs84":
            assert (c.srid, c.flip, c.decimals) == (4326, False, 7)
            continue
        definition = CRS.from_epsg(c.srid)
        first_axis = definition.axis_info[0]
        # Flip exactly when PROJ's first axis points north (latitude, or northing "X").
        assert c.flip == (first_axis.direction == "north"), c.srid
        if not c.projected:
            assert definition.is_geographic and c.decimals == 7
            continue
        assert c.decimals == 3 and definition.axis_info[0].unit_name == "metre"
        params = {p.name: p.value for p in definition.coordinate_operation.params}
        assert params["Longitude of natural origin"] == c.meridian, c.srid
        assert params["False easting"] == c.false_easting, c.srid
        assert params["Scale factor at natural origin"] == 1
        assert definition.geodetic_crs.to_epsg() == 4490  # CGCS2000
        name = definition.name
        assert name.startswith("CGCS2000 / ")
        assert ("3-degree" in name) == (c.kind == "gk3"), name
        assert (f"zone {c.zone}" in name) == c.prefixed, name
        assert (f"CM {c.meridian}E" in name) == (not c.prefixed), name
        area = definition.area_of_use
        assert area.west - 0.02 <= c.meridian <= area.east + 0.02 or c.meridian in (75, 135)


@pytest.mark.django_db
def test_postgis_knows_every_srid_with_the_same_definition():
    srids = sorted(c.srid for c in crs.CATALOGUE.values())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT srid, auth_name, auth_srid, proj4text FROM spatial_ref_sys "
            "WHERE srid = ANY(%s)",
            [srids],
        )
        rows = {srid: (auth, code, text) for srid, auth, code, text in cursor.fetchall()}
    assert sorted(rows) == sorted(set(srids))
    for srid in set(srids):
        auth, code, text = rows[srid]
        assert (auth, code) == ("EPSG", srid)
        c = crs.BY_SRID[srid]
        if c.projected:
            assert f"+lon_0={c.meridian} " in text and f"+x_0={int(c.false_easting)} " in text


def test_conformance_class_declared():
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance.classes()


# --- parse -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, srid, kind",
    [
        (CRS84, 4326, "crs84"),
        ("https://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, "crs84"),
        ("OGC:CRS84", 4326, "crs84"),
        ("[OGC:CRS84]", 4326, "crs84"),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", 4326, "crs84"),
        (EPSG + "4326", 4326, "geographic"),
        ("EPSG:4326", 4326, "geographic"),
        (EPSG + "4490", 4490, "geographic"),
        ("EPSG:4490", 4490, "geographic"),
        ("[EPSG:4490]", 4490, "geographic"),
        ("epsg:4490", 4490, "geographic"),
        ("urn:ogc:def:crs:EPSG::4490", 4490, "geographic"),
        ("urn:ogc:def:crs:EPSG:9.8.15:4490", 4490, "geographic"),
        (f"<{EPSG}4523>", 4523, "gk3"),  # the Content-Crs header's form
        (f" {EPSG}4544 ", 4544, "gk3"),
        (EPSG + "4496", 4496, "gk6"),
        ("EPSG:4507", 4507, "gk6"),
    ],
)
def test_parse_accepts_every_form(text, srid, kind):
    found = crs.parse(text, "crs")
    assert (found.srid, found.kind) == (srid, kind)
    assert found.uri == (CRS84 if kind == "crs84" else f"{EPSG}{srid}")


def test_parse_crs84_is_the_default_and_epsg_4326_is_not():
    assert crs.parse(CRS84, "crs") is crs.DEFAULT
    assert crs.DEFAULT.flip is False and crs.DEFAULT.axes == ("lon", "lat")
    epsg4326 = crs.parse("EPSG:4326", "crs")
    assert epsg4326 != crs.DEFAULT and epsg4326.flip and epsg4326.axes == ("lat", "lon")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "EPSG:3857",  # web mercator: not offered
        EPSG + "3857",
        EPSG + "4555",  # one past the last CGCS2000 3-degree code
        EPSG + "4512x",
        "EPSG:4479",
        "[EPSG:4490",  # a safe CURIE has both brackets
        "EPSG:4490]",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS83",
        "http://www.opengis.net/def/crs/EPSG/1/4490",
        "CGCS2000",  # a name, not a URI (the import screens take names; /ogc/ takes URIs)
        "EPSG:" + "9" * 400,
        "EPSG:\x00",
    ],
)
def test_parse_refuses_what_is_not_offered_naming_the_field(text):
    with pytest.raises(OgcError) as refused:
        crs.parse(text, "bbox-crs")
    error = refused.value
    assert (error.status, error.code, error.field) == (400, "invalid", "bbox-crs")
    assert '"crs" member' in str(error.message)
    assert len(str(error.message)) < 400  # a long value is shortened, not echoed whole


def test_parse_allowed_narrows_to_the_collection_list():
    offered = [CRS84, EPSG + "4326", EPSG + "4490", EPSG + "4523"]
    assert crs.parse("EPSG:4523", "crs", allowed=offered).srid == 4523
    with pytest.raises(OgcError) as refused:
        crs.parse("EPSG:4524", "crs", allowed=offered)
    assert refused.value.field == "crs" and "EPSG:4524" in str(refused.value.message)


def test_titles_are_translated():
    gk = crs.parse("EPSG:4523", "crs")
    assert "zone 35" in gk.title and "105" in gk.title
    with translation.override("zh-hans"):
        assert "高斯" in gk.title and "35" in gk.title
        assert "2000国家大地坐标系" in crs.parse("EPSG:4490", "crs").title
        assert "经度" in crs.DEFAULT.title


def test_content_crs_header():
    assert crs.content_crs_header(crs.DEFAULT) == f"<{CRS84}>"
    assert crs.content_crs_header(crs.parse("EPSG:4490", "crs")) == f"<{EPSG}4490>"


# --- supported ---------------------------------------------------------------------------------


def test_zones_of_a_longitude_follow_the_zone_edges():
    assert [c.srid for c in crs.zones_for(105.95, 105.9, 106.0)] == [4523, 4544, 4496, 4507]
    # Straddling 106.5°E (3-degree zones 35|36): the centre's zone first, then its neighbour.
    assert [c.srid for c in crs.zones_for(106.55, 106.4, 106.7)] == [
        4524,
        4545,
        4523,
        4544,
        4496,
        4507,
    ]
    # Straddling 108°E (6-degree zones 18|19) and lying within 3-degree zone 36.
    assert [c.srid for c in crs.zones_for(107.9, 107.8, 108.2)] == [
        4524,
        4545,
        4496,
        4507,
        4497,
        4508,
    ]
    # No EPSG Gauss-Krüger zone for a place outside China's 75°E-135°E.
    assert crs.zones_for(10.0, 9.0, 11.0) == []


@pytest.mark.django_db
def test_supported_for_the_district_matches_proj_area_of_use(tree):
    offered = crs.supported(tree.district)
    assert offered == [
        CRS84,
        EPSG + "4326",
        EPSG + "4490",
        EPSG + "4523",  # CGCS2000 3-degree Gauss-Krüger zone 35 (CM 105°E)
        EPSG + "4544",  # the same without the zone number
        EPSG + "4496",  # 6-degree zone 18 (CM 105°E)
        EPSG + "4507",
    ]
    for uri in offered[3:]:
        area = CRS.from_epsg(int(uri.rsplit("/", 1)[1])).area_of_use
        assert area.west <= 105.90 and area.east >= 106.00 and area.south <= LAT <= area.north
    # By id as well, and a street or community stands for its district.
    assert crs.supported(tree.district.pk) == offered
    assert crs.supported(tree.communities[(1, 1)]) == offered


@pytest.mark.django_db
def test_supported_adds_the_neighbouring_zone_for_a_district_on_an_edge(tree):
    edge = boundaries.create_region(
        level=Level.DISTRICT, code="500119", name="边界区", geom=box(106.4, 29.3, 106.7, 29.4)
    )
    assert crs.supported(edge)[3:] == [EPSG + s for s in ("4524", "4545", "4523", "4544")] + [
        EPSG + "4496",
        EPSG + "4507",
    ]
    # Above the districts: every district's zones, west to east, 3-degree first.
    assert crs.supported(None)[3:] == [
        EPSG + s for s in ("4523", "4544", "4524", "4545", "4496", "4507")
    ]


@pytest.mark.django_db
def test_supported_is_cached(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        first = crs.supported(tree.district.pk)
    with django_assert_num_queries(0):
        assert crs.supported(tree.district.pk) == first


@pytest.mark.django_db
def test_supported_without_districts_offers_the_geographic_crss():
    assert Region.objects.count() == 0
    assert crs.supported() == [CRS84, EPSG + "4326", EPSG + "4490"]


# --- output in SQL -----------------------------------------------------------------------------


def sql_coordinates(target: crs.Crs, geom: GEOSGeometry, decimals: int = 6):
    """The geometry as PostGIS writes it out through geometry_expression."""
    value = Value(geom, output_field=GeometryField(srid=4326))
    expression = AsGeoJSON(crs.geometry_expression(value, target), precision=decimals)
    query = Region.objects.all().query  # any query: the expression reads no table
    sql, params = expression.resolve_expression(query).as_sql(
        query.get_compiler(connection=connection), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return json.loads(cursor.fetchone()[0])["coordinates"]


@pytest.mark.django_db
@pytest.mark.parametrize("srid", [4523, 4544, 4496, 4507, 4524])
def test_gauss_kruger_output_matches_pyproj_to_a_millimetre_northing_first(srid):
    target = crs.parse(f"EPSG:{srid}", "crs")
    northing, easting = sql_coordinates(target, Point(LON, LAT, srid=4326))
    expected_easting, expected_northing = proj(srid)
    assert abs(easting - expected_easting) < 0.001
    assert abs(northing - expected_northing) < 0.001
    assert northing < 4_000_000 and (easting > 1_000_000) == target.prefixed


@pytest.mark.django_db
def test_geographic_output_axis_order():
    point = Point(LON, LAT, srid=4326)
    assert sql_coordinates(crs.DEFAULT, point) == [LON, LAT]
    assert sql_coordinates(crs.parse("EPSG:4326", "crs"), point) == [LAT, LON]
    # PROJ's 4326 → 4490 changes no number; only the axis order differs from CRS84.
    assert proj(4490) == (LON, LAT)
    assert sql_coordinates(crs.parse("EPSG:4490", "crs"), point) == [LAT, LON]
    line = LineString((105.9, 29.3), (106.0, 29.4), srid=4326)
    assert sql_coordinates(crs.parse("EPSG:4490", "crs"), line) == [[29.3, 105.9], [29.4, 106.0]]


@pytest.mark.django_db
def test_geometry_expression_on_a_column(tree):
    target = crs.parse("EPSG:4523", "crs")
    rows = Region.objects.filter(pk=tree.district.pk).annotate(
        out=AsGeoJSON(crs.geometry_expression("boundaries__geom", target), precision=4)
    )
    ring = json.loads(rows.values_list("out", flat=True)[0])["coordinates"][0][0]
    for lon, lat in ((105.90, 29.30), (106.00, 29.40)):
        e, n = proj(4523, lon, lat)
        assert any(abs(e - ce) < 0.001 and abs(n - cn) < 0.001 for cn, ce in ring)
    assert "ST_Transform" in str(rows.query) and "ST_FlipCoordinates" in str(rows.query)
    # 4326 → 4490 is PROJ's no-op: not run per row (ST_Transform costs ~3 µs a point).
    cgcs = Region.objects.annotate(
        out=AsGeoJSON(crs.geometry_expression("boundaries__geom", crs.BY_SRID[4490]))
    )
    assert "ST_Transform" not in str(cgcs.query) and "ST_SetSRID" in str(cgcs.query)


# --- bbox --------------------------------------------------------------------------------------


def test_bbox_in_each_axis_order_is_the_same_polygon():
    lonlat = crs.bbox_polygon([105.9, 29.3, 106.0, 29.4], crs.DEFAULT)
    latlon = crs.bbox_polygon([29.3, 105.9, 29.4, 106.0], crs.parse("EPSG:4326", "bbox-crs"))
    cgcs = crs.bbox_polygon([29.3, 105.9, 29.4, 106.0], crs.parse("EPSG:4490", "bbox-crs"))
    heights = crs.bbox_polygon([105.9, 29.3, -10, 106.0, 29.4, 500], crs.DEFAULT)
    for polygon in (lonlat, latlon, cgcs, heights):
        assert polygon.srid == 4326 and polygon.geom_type == "Polygon"
        assert polygon.extent == (105.9, 29.3, 106.0, 29.4)


def test_bbox_in_a_gauss_kruger_zone_follows_the_curved_edges():
    target = crs.parse("EPSG:4523", "bbox-crs")
    e0, n0 = proj(4523, 105.9, 29.3)
    e1, n1 = proj(4523, 106.0, 29.4)
    polygon = crs.bbox_polygon([n0, e0, n1, e1], target)
    assert polygon.srid == 4326 and polygon.valid
    assert len(polygon.coords[0]) == 4 * crs.BBOX_EDGE_POINTS + 1
    # Grid north is not true north off the meridian: the box's corners are the two it was
    # made from, within a millimetre (1e-8 degrees), and a point inside is inside.
    corners = [(105.9, 29.3), (106.0, 29.4)]
    for lon, lat in corners:
        assert any(abs(x - lon) < 1e-8 and abs(y - lat) < 1e-8 for x, y in polygon.coords[0])
    # The other two corners are off the parallels and meridians through these by the grid
    # convergence (~0.5° here): tens of metres, more than a straight lon/lat box would allow.
    west, south, east, north = polygon.extent
    assert 0.0003 < 29.3 - south < 0.002 and 0.0003 < north - 29.4 < 0.002
    assert polygon.contains(Point(LON, LAT, srid=4326))
    # The same box in the central-meridian form (no zone number in the easting).
    plain = crs.bbox_polygon(
        [n0, e0 - 35_000_000, n1, e1 - 35_000_000], crs.parse("EPSG:4544", "x")
    )
    assert plain.equals_exact(polygon, 1e-9)


def test_bbox_past_the_zone_is_kept_to_its_band():
    target = crs.parse("EPSG:4544", "bbox-crs")
    polygon = crs.bbox_polygon([3_000_000, -5_000_000, 3_400_000, 5_000_000], target)
    west, _south, east, _north = polygon.extent
    assert 99 < west < 101 and 109 < east < 111


def test_a_bbox_without_area_is_a_line_or_a_point_never_an_invalid_polygon():
    line = crs.bbox_polygon([105.9, 29.3, 105.9, 29.4], crs.DEFAULT)
    assert (line.geom_type, line.valid, line.srid) == ("LineString", True, 4326)
    point = crs.bbox_polygon([29.3, 105.9, 29.3, 105.9], crs.parse("EPSG:4326", "bbox-crs"))
    assert (point.geom_type, point.coords) == ("Point", (105.9, 29.3))
    e, n = proj(4523)
    flat = crs.bbox_polygon([n, e - 100, n, e + 100], crs.parse("EPSG:4523", "bbox-crs"))
    assert flat.geom_type == "LineString" and flat.valid and len(flat.coords) > 2


@pytest.mark.parametrize("srid", [4523, 4544, 4501, 4513])
def test_every_bbox_a_client_can_send_is_valid_or_refused(srid):
    """Clamped to the zone's band and to China's northings, the box never folds over itself
    (past ~60°N it would: a self-intersecting polygon makes PostGIS's predicates fail)."""
    target = crs.BY_SRID[srid]
    fe = target.false_easting
    northings = [-1e9, 0, 3e6, 6.4e6, 6.5e6, 1e9]
    eastings = [-1e12, fe - 5e5, fe - 1e5, fe, fe + 3e5, fe + 5e5, 1e12]
    answered = 0
    for n0, n1 in itertools.combinations_with_replacement(northings, 2):
        for e0, e1 in itertools.combinations_with_replacement(eastings, 2):
            try:
                geometry = crs.bbox_polygon([n0, e0, n1, e1], target)
            except OgcError as refused:
                assert refused.field == "bbox"
                continue
            answered += 1
            assert geometry.valid, ([n0, e0, n1, e1], geometry.valid_reason)
    assert answered > 200


@pytest.mark.parametrize(
    "values, crs_text, words",
    [
        ([105.9, 29.3, 106.0], CRS84, "4 numbers"),
        ([105.9, 29.3, 106.0, 29.4, 1], CRS84, "4 numbers"),
        ([105.9, float("nan"), 106.0, 29.4], CRS84, "finite"),
        ([105.9, 29.3, float("inf"), 29.4], CRS84, "finite"),
        ([105.9, "29.3", 106.0, 29.4], CRS84, "not a number"),
        ([105.9, True, 106.0, 29.4], CRS84, "not a number"),
        ([105.9, 29.4, 106.0, 29.3], CRS84, "lat"),
        ([29.3, 105.9, 29.4, 106.0], CRS84, "lat"),  # lat/lon sent where lon/lat is expected
        ([179.0, 29.3, -179.0, 29.4], CRS84, "antimeridian"),
        ([105.9, 29.3, 106.0, 95.0], CRS84, "lat"),
        ([-200.0, 29.3, 106.0, 29.4], CRS84, "lon"),
        ([29.4, 105.9, 29.3, 106.0], EPSG + "4326", "lat"),
        ([29.3, 106.0, 29.4, 105.9], EPSG + "4490", "lon"),
        ([3_250_000, 590_000, 3_240_000, 600_000], EPSG + "4523", "northing"),
        ([3_240_000, 590_000, 3_250_000, 600_000], EPSG + "4523", "EPSG:4544"),  # wrong form
        ([3_240_000, 35_590_000, 3_250_000, 35_600_000], EPSG + "4544", "EPSG:4523"),
        ([3_240_000, 35_590_000, 3_250_000, 35_600_000], EPSG + "4496", "EPSG:4507"),
        ([-3_250_000, 590_000, -3_240_000, 600_000], EPSG + "4544", "northing"),
    ],
)
def test_bbox_refusals_name_the_field(values, crs_text, words):
    with pytest.raises(OgcError) as refused:
        crs.bbox_polygon(values, crs.parse(crs_text, "bbox-crs"))
    error = refused.value
    assert (error.status, error.code, error.field) == (400, "invalid", "bbox")
    assert words in str(error.message)


# --- geometries sent in ------------------------------------------------------------------------


@pytest.mark.parametrize("srid", [4523, 4544, 4496, 4507])
def test_to_storage_from_gauss_kruger_round_trips(srid):
    easting, northing = proj(srid)
    stored = crs.to_storage(Point(northing, easting), crs.parse(f"EPSG:{srid}", "crs"))
    assert stored.srid == 4326
    assert abs(stored.x - LON) < 1e-9 and abs(stored.y - LAT) < 1e-9  # ~0.1 mm


def test_to_storage_of_polygons_and_geographic_orders():
    ring = [(29.3, 105.9), (29.3, 106.0), (29.4, 106.0), (29.3, 105.9)]
    stored = crs.to_storage(Polygon(ring, srid=4326), crs.parse("EPSG:4490", "crs"))
    assert stored.coords[0] == tuple((lon, lat) for lat, lon in ring)
    same = crs.to_storage(Point(LON, LAT, srid=4326), crs.DEFAULT)
    assert (same.x, same.y, same.srid) == (LON, LAT, 4326)
    # Its own SRID does not matter: the coordinates are the CRS's, in its axis order.
    flipped = crs.to_storage(Point(LAT, LON, srid=4490), crs.parse("EPSG:4326", "crs"))
    assert (flipped.x, flipped.y) == (LON, LAT)
    # The SQL output and the input are inverses of each other.
    easting, northing = proj(4523, 105.91, 29.33)
    line = LineString((northing, easting), (northing + 100, easting + 100))
    back = crs.to_storage(line, crs.parse("EPSG:4523", "crs"))
    assert abs(back.coords[0][0] - 105.91) < 1e-9 and abs(back.coords[0][1] - 29.33) < 1e-9
    assert back.length > 0.0009  # ~141 m


@pytest.mark.parametrize(
    "geom, crs_text, words",
    [
        (Point(LON, 95.0), CRS84, "lat"),
        (Point(LON, LAT), EPSG + "4326", "lat"),  # lon/lat sent where lat/lon is expected
        (Point(200.0, LAT), CRS84, "lon"),
        (Point(float("nan"), LAT), CRS84, "finite"),
        (LineString((LON, LAT), (LON, float("inf"))), CRS84, "finite"),
        (Point(3_248_399.0, 587_399.0), EPSG + "4523", "EPSG:4544"),
        (Point(3_248_399.0, 35_587_399.0), EPSG + "4544", "EPSG:4523"),
        (Point(3_248_399.0, float("nan")), EPSG + "4544", "finite"),
        (Point(12_000_000.0, 587_399.0), EPSG + "4544", "northing"),  # PROJ answers 72°N
    ],
)
def test_to_storage_refusals_name_the_field(geom, crs_text, words):
    with pytest.raises(OgcError) as refused:
        crs.to_storage(geom, crs.parse(crs_text, "Content-Crs"), field="filter")
    error = refused.value
    assert (error.status, error.field) == (400, "filter")
    assert words in str(error.message)


# --- through /ogc/ (helper A's views, D's collections) -----------------------------------------


def ogc_get(user, url: str, **query):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(url, query)


def refused_field(response) -> str:
    assert response.status_code == 400, response.content
    return response.json()["errors"][0]["field"]


@pytest.mark.django_db
def test_items_in_cgcs2000_are_latitude_first_with_content_crs(users, homes):
    stored = {h.pk: h.location for h in homes.values()}
    response = ogc_get(users.district, "/ogc/collections/households/items", crs=EPSG + "4490")
    assert response.status_code == 200, response.content
    assert response["Content-Crs"] == f"<{EPSG}4490>"
    features = response.json()["features"]
    assert {f["id"] for f in features} == set(stored)
    for feature in features:
        lat, lon = feature["geometry"]["coordinates"]
        point = stored[feature["id"]]
        assert abs(lon - point.x) < 1e-7 and abs(lat - point.y) < 1e-7
    default = ogc_get(users.district, "/ogc/collections/households/items")
    assert default["Content-Crs"] == f"<{CRS84}>"
    first = {f["id"]: f["geometry"]["coordinates"] for f in default.json()["features"]}
    assert all(first[f["id"]] == f["geometry"]["coordinates"][::-1] for f in features)


@pytest.mark.django_db
@pytest.mark.parametrize("srid", [4523, 4544, 4496, 4507])
def test_items_in_a_gauss_kruger_zone_are_metres_northing_first(users, homes, srid):
    stored = {h.pk: h.location for h in homes.values()}
    response = ogc_get(users.district, "/ogc/collections/households/items", crs=f"EPSG:{srid}")
    assert response.status_code == 200, response.content
    assert response["Content-Crs"] == f"<{EPSG}{srid}>"
    for feature in response.json()["features"]:
        northing, easting = feature["geometry"]["coordinates"]
        point = stored[feature["id"]]
        expected_easting, expected_northing = proj(srid, point.x, point.y)
        # 3 decimals: within half a millimetre of PROJ.
        assert abs(easting - expected_easting) <= 0.0006
        assert abs(northing - expected_northing) <= 0.0006
    # One item, the same way.
    fid = next(iter(stored))
    item = ogc_get(users.district, f"/ogc/collections/households/items/{fid}", crs=f"EPSG:{srid}")
    assert item.status_code == 200 and item["Content-Crs"] == f"<{EPSG}{srid}>"
    northing, easting = item.json()["geometry"]["coordinates"]
    assert abs(easting - proj(srid, stored[fid].x, stored[fid].y)[0]) <= 0.0006


@pytest.mark.django_db
def test_bbox_crs_selects_the_same_features_in_every_order(users, homes):
    url = "/ogc/collections/households/items"
    west = {h.pk for (s, _c, _g), h in homes.items() if s == 1}  # street 1: lon 105.90-105.95
    e0, n0 = proj(4523, 105.90, 29.30)
    e1, n1 = proj(4523, 105.95, 29.40)
    asked = {
        "crs84": {"bbox": "105.9,29.3,105.95,29.4"},
        "4326": {"bbox": "29.3,105.9,29.4,105.95", "bbox-crs": EPSG + "4326"},
        "4490": {"bbox": "29.3,105.9,29.4,105.95", "bbox-crs": EPSG + "4490"},
        "4523": {"bbox": f"{n0},{e0},{n1},{e1}", "bbox-crs": EPSG + "4523"},
        "crs84 given": {"bbox": "105.9,29.3,105.95,29.4", "bbox-crs": CRS84},
    }
    for name, query in asked.items():
        response = ogc_get(users.district, url, **query)
        assert response.status_code == 200, (name, response.content)
        assert {f["id"] for f in response.json()["features"]} == west, name
    # bbox-crs with crs: the box in one CRS, the answer in another.
    both = ogc_get(users.district, url, **asked["4326"], crs=EPSG + "4544")
    assert {f["id"] for f in both.json()["features"]} == west
    assert all(f["geometry"]["coordinates"][0] > 3_000_000 for f in both.json()["features"])


@pytest.mark.django_db
def test_crs_refusals_through_the_api(users, homes):
    url = "/ogc/collections/households/items"
    assert refused_field(ogc_get(users.district, url, crs="EPSG:3857")) == "crs"
    # A valid zone, but not one this district's collections offer.
    assert refused_field(ogc_get(users.district, url, crs=EPSG + "4524")) == "crs"
    assert refused_field(ogc_get(users.district, url, **{"bbox-crs": "EPSG:999"})) == "bbox-crs"
    # Latitude first for EPSG:4326: a lon/lat box is a latitude of 105.9.
    response = ogc_get(users.district, url, bbox="105.9,29.3,106,29.4", **{"bbox-crs": "EPSG:4326"})
    assert refused_field(response) == "bbox"
    response = ogc_get(users.district, url, bbox="179,29.3,-179,29.4")
    assert refused_field(response) == "bbox"


@pytest.mark.django_db
def test_collection_documents_list_the_district_crss(users, tree):
    response = ogc_get(users.district, "/ogc/collections/households")
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["crs"] == crs.supported(tree.district)
    assert document["crs"][0] == CRS84 and EPSG + "4523" in document["crs"]
    assert document["storageCrs"] == CRS84


@pytest.mark.django_db
def test_a_bbox_without_area_selects_what_it_touches(users, homes):
    """A zero-width bbox on polygons (the grids) answers, it does not fail in PostGIS."""
    url = "/ogc/collections/grids/items"
    response = ogc_get(users.district, url, bbox="105.91,29.3,105.91,29.4")
    assert response.status_code == 200, response.content
    codes = {f["id"] for f in response.json()["features"]}
    assert codes and all(code.endswith("001") for code in codes)  # the west grids of street 1
