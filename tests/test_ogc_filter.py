"""OGC API – Features Part 3 (Filtering) and CQL2 (ogc/cql2/, ogc/queryables.py).

Every filter runs against PostGIS: the Q that ogc.cql2.compile returns filters real
households and grid boundaries, so the tests hold the meaning of each operator (and the
three-valued NULL logic CQL2 shares with SQL), not the shape of the Q. A throwaway collection
over households carries the types the published ones lack (a boolean and a number made by
expressions, a nullable join); the published households and grids collections are used as
the items endpoint serves them.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import Point
from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Q
from django.utils import timezone, translation

from grids.models import Household
from ogc import cql2, crs, queryables, registry
from ogc.cql2 import nodes
from ogc.errors import OgcError
from ogc.registry import Collection, Property

HOUSEHOLDS = Collection(
    id="test-households",
    title="test households",
    description="",
    queryset=lambda user: Household.objects.all(),
    geometry="location",
    geometry_type="Point",
    id_field="id",
    properties=(
        Property("address", "address", "string"),
        Property("grid", "grid__code", "string"),
        Property("members", "member_count", "integer"),
        Property("registered_on", "registered_on", "date"),
        Property("removed_on", "removed_on", "date"),
        Property("updated_at", "updated_at", "date-time"),
        Property(
            "flagged",
            ExpressionWrapper(Q(grid__isnull=True), output_field=BooleanField()),
            "boolean",
        ),
        Property(
            "half", ExpressionWrapper(F("member_count") * 0.5, output_field=FloatField()), "number"
        ),
        Property("client_key", "client_key", "string", queryable=False),
    ),
)


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English; one test reads them in Chinese."""
    with translation.override("en"):
        yield


OUTSIDE = Point(106.5, 29.9, srid=4326)  # in no grid of the test tree
G111 = (105.90, 29.30, 105.925, 29.35)  # grid 1-1-1's cell (conftest's tree)


@pytest.fixture
def homes(tree, add_household):
    """Named households with the attributes the filters look at."""
    from tests.conftest import centre_of

    rows = [
        ("one", centre_of(tree.grids[(1, 1, 1)]), "幸福路1号", 3, dt.date(2024, 2, 1)),
        ("pct", centre_of(tree.grids[(1, 1, 2)]), "50% off_road", 0, dt.date(2024, 6, 15)),
        (
            "quote",
            centre_of(tree.grids[(2, 2, 2)]),
            "it's; DROP TABLE grids_household; --",
            5,
            dt.date(2024, 3, 1),
        ),
        ("alpha", centre_of(tree.grids[(2, 1, 1)]), "Alpha road", 2, dt.date(2024, 9, 30)),
        ("nowhere", OUTSIDE, "无网格", 1, dt.date(2024, 1, 5)),
    ]
    made = {}
    for name, point, address, members, registered_on in rows:
        made[name] = add_household(point, address=address, registered_on=registered_on)
        Household.objects.filter(pk=made[name].pk).update(member_count=members)
    Household.objects.filter(pk=made["alpha"].pk).update(removed_on=dt.date(2025, 1, 1))
    Household.objects.filter(pk=made["pct"].pk).update(removed_on=dt.date(2024, 12, 31))
    names = {h.pk: name for name, h in made.items()}
    return names


def found(homes, expression, lang="cql2-text", collection=HOUSEHOLDS, filter_crs=None) -> set:
    q = cql2.compile(expression, lang, collection, filter_crs)
    return {homes[pk] for pk in Household.objects.filter(q).values_list("pk", flat=True)}


def refused(expression, lang="cql2-text", collection=HOUSEHOLDS, filter_crs=None) -> OgcError:
    with pytest.raises(OgcError) as caught:
        cql2.compile(expression, lang, collection, filter_crs)
    assert caught.value.status == 400
    assert caught.value.field == "filter"
    return caught.value


def j(value) -> str:
    return json.dumps(value)


def prop(name):
    return {"property": name}


ALL = {"one", "pct", "quote", "alpha", "nowhere"}

# -- comparison operators, text and JSON ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "op", "value", "expected"),
    [
        ("members = 3", "=", 3, {"one"}),
        ("members <> 3", "<>", 3, ALL - {"one"}),
        ("members < 2", "<", 2, {"pct", "nowhere"}),
        ("members <= 2", "<=", 2, {"pct", "nowhere", "alpha"}),
        ("members > 2", ">", 2, {"one", "quote"}),
        ("members >= 2", ">=", 2, {"one", "quote", "alpha"}),
        ("address = '幸福路1号'", "=", "幸福路1号", {"one"}),
        ("address > 'B'", ">", "B", {"one", "quote", "nowhere"}),
    ],
)
def test_comparisons_in_text_and_json(homes, text, op, value, expected):
    assert found(homes, text) == expected
    name = text.split()[0]
    assert found(homes, j({"op": op, "args": [prop(name), value]}), "cql2-json") == expected


def test_a_literal_on_the_left_is_the_same_comparison(homes):
    assert found(homes, "2 < members") == found(homes, "members > 2") == {"one", "quote"}
    assert found(homes, j({"op": ">=", "args": [3, prop("members")]}), "cql2-json") == {
        "one",
        "pct",
        "alpha",
        "nowhere",
    }


def test_keywords_are_case_insensitive_and_names_may_be_double_quoted(homes):
    assert found(homes, '"members" = 3 and "address" like \'幸福%\'') == {"one"}


def test_a_fraction_against_an_integer_property_is_not_truncated(homes):
    assert found(homes, "members = 2.5") == set()
    assert found(homes, "members < 2.5") == {"pct", "nowhere", "alpha"}
    assert found(homes, "members > 2.5") == {"one", "quote"}
    assert found(homes, "members <> 2.5") == ALL
    assert found(homes, "members IN (2.5, 3.0)") == {"one"}


def test_out_of_range_integers_compare_without_failing(homes):
    assert found(homes, "members < 99999999999999999999") == ALL
    assert found(homes, "members = -99999999999999999999") == set()


# -- NULL: three-valued like SQL ------------------------------------------------------------


def test_comparisons_with_a_null_property_are_unknown_even_under_not(homes):
    # Only two households have a removal date; the others' comparisons are unknown.
    assert found(homes, "removed_on <> DATE('2025-01-01')") == {"pct"}
    assert found(homes, "NOT (removed_on = DATE('2025-01-01'))") == {"pct"}
    assert found(homes, "NOT (removed_on < DATE('2025-01-01'))") == {"alpha"}
    # grid is a nullable join: the household in no grid is neither equal nor unequal.
    not_in_111 = found(homes, "NOT (grid = '500118001001001')")
    assert not_in_111 == {"pct", "quote", "alpha"}
    assert found(homes, "grid <> '500118001001001'") == not_in_111
    assert found(homes, "NOT grid LIKE '5%'") == set()
    assert found(homes, "grid NOT IN ('500118001001001')") == not_in_111


def test_is_null_and_is_not_null(homes):
    assert found(homes, "grid IS NULL") == {"nowhere"}
    assert found(homes, "grid IS NOT NULL") == ALL - {"nowhere"}
    assert found(homes, "removed_on IS NOT NULL") == {"pct", "alpha"}
    assert found(homes, "NOT removed_on IS NULL") == {"pct", "alpha"}
    assert found(homes, j({"op": "isNull", "args": [prop("removed_on")]}), "cql2-json") == {
        "one",
        "quote",
        "nowhere",
    }
    assert found(homes, "geometry IS NULL") == set()


def test_or_keeps_rows_a_join_would_drop(homes):
    # The grid join must stay an outer join when OR-ed with something true without a grid.
    assert found(homes, "grid = '500118001001001' OR members = 1") == {"one", "nowhere"}


# -- LIKE ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("幸福%", {"one"}),
        ("%road", {"pct", "alpha"}),
        ("%off%", {"pct"}),
        ("Alpha_road", {"alpha"}),
        ("A%a_", {"alpha"}),
        ("50\\% off\\_road", {"pct"}),  # escaped wildcards are literal
        ("50\\%%", {"pct"}),
        ("%\\_%", {"pct", "quote"}),  # a literal underscore somewhere
        ("_lpha road", {"alpha"}),
        ("alpha road", set()),  # case-sensitive
        ("%.%", set()),  # a regex metacharacter is a plain dot here
        ("it's; DROP%", {"quote"}),
        ("%", ALL),
    ],
)
def test_like_wildcards_and_escapes(homes, pattern, expected):
    quoted = pattern.replace("'", "''")
    assert found(homes, f"address LIKE '{quoted}'") == expected
    assert found(homes, j({"op": "like", "args": [prop("address"), pattern]}), "cql2-json") == (
        expected
    )


def test_like_case_insensitive_and_negated(homes):
    assert found(homes, "address LIKE CASEI('alpha%')") == {"alpha"}
    assert found(homes, "CASEI(address) LIKE CASEI('ALPHA R_AD')") == {"alpha"}
    assert found(homes, "address ILIKE 'alpha%'") == {"alpha"}
    assert found(homes, "address NOT LIKE '%road'") == {"one", "quote", "nowhere"}
    assert found(homes, "CASEI(address) = CASEI('ALPHA ROAD')") == {"alpha"}
    casei = {"op": "casei", "args": ["ALPHA%"]}
    assert found(homes, j({"op": "like", "args": [prop("address"), casei]}), "cql2-json") == {
        "alpha"
    }


# -- BETWEEN, IN ----------------------------------------------------------------------------


def test_between_and_not_between(homes):
    assert found(homes, "members BETWEEN 1 AND 3") == {"one", "alpha", "nowhere"}
    assert found(homes, "members NOT BETWEEN 1 AND 3") == {"pct", "quote"}
    assert found(homes, "members BETWEEN 0.5 AND 2.5") == {"alpha", "nowhere"}
    between = {"op": "between", "args": [prop("members"), 1, 3]}
    assert found(homes, j(between), "cql2-json") == {"one", "alpha", "nowhere"}
    assert found(homes, j({"op": "not", "args": [between]}), "cql2-json") == {"pct", "quote"}
    dates = "registered_on BETWEEN DATE('2024-02-01') AND DATE('2024-06-15')"
    assert found(homes, dates) == {"one", "pct", "quote"}


def test_in_and_not_in(homes):
    assert found(homes, "members IN (0, 5, 7)") == {"pct", "quote"}
    assert found(homes, "members NOT IN (0, 5, 7)") == {"one", "alpha", "nowhere"}
    assert found(homes, "address IN ('Alpha road', '无网格')") == {"alpha", "nowhere"}
    in_list = {"op": "in", "args": [prop("members"), [0, 5, 7]]}
    assert found(homes, j(in_list), "cql2-json") == {"pct", "quote"}


# -- combinations -----------------------------------------------------------------------------


def test_and_binds_tighter_than_or_and_parentheses_override(homes):
    assert found(homes, "members = 0 OR members > 2 AND address LIKE 'it%'") == {"pct", "quote"}
    assert found(homes, "(members = 0 OR members > 2) AND address LIKE 'it%'") == {"quote"}
    assert found(homes, "NOT (members = 0 OR members > 2)") == {"alpha", "nowhere"}
    assert found(homes, "NOT NOT members = 0") == {"pct"}
    text = (
        "(members >= 1 AND NOT grid IS NULL) AND "
        "(registered_on < DATE('2024-06-01') OR removed_on IS NOT NULL)"
    )
    assert found(homes, text) == {"one", "quote", "alpha"}
    tree = {
        "op": "and",
        "args": [
            {"op": ">=", "args": [prop("members"), 1]},
            {"op": "not", "args": [{"op": "isNull", "args": [prop("grid")]}]},
            {
                "op": "or",
                "args": [
                    {"op": "<", "args": [prop("registered_on"), {"date": "2024-06-01"}]},
                    {"op": "not", "args": [{"op": "isNull", "args": [prop("removed_on")]}]},
                ],
            },
        ],
    }
    assert found(homes, j(tree), "cql2-json") == {"one", "quote", "alpha"}
    assert found(homes, tree, "cql2-json") == {"one", "quote", "alpha"}  # already decoded


def test_boolean_literals_as_predicates(homes):
    assert found(homes, "TRUE") == ALL
    assert found(homes, "FALSE OR members = 3") == {"one"}
    assert found(homes, "TRUE OR members = 3") == ALL
    assert found(homes, "NOT FALSE AND members = 3") == {"one"}
    assert found(homes, "true", "cql2-json") == ALL
    assert found(homes, "1 = 1") == ALL
    assert found(homes, "'a' > 'b'") == set()


def test_expression_properties_boolean_and_number(homes):
    assert found(homes, "flagged = TRUE") == {"nowhere"}
    assert found(homes, "flagged <> TRUE") == ALL - {"nowhere"}
    assert found(homes, "half > 1.2") == {"one", "quote"}
    assert found(homes, "half BETWEEN 0 AND 0.5") == {"pct", "nowhere"}
    assert found(homes, j({"op": "=", "args": [prop("flagged"), False]}), "cql2-json") == (
        ALL - {"nowhere"}
    )


def test_property_compared_with_property(homes):
    assert found(homes, "registered_on < removed_on") == {"pct", "alpha"}
    assert found(homes, "removed_on <> registered_on") == {"pct", "alpha"}
    assert found(homes, "members > half") == ALL - {"pct"}
    error = refused("members > address")
    assert "cannot be compared" in str(error.message)


# -- dates and timestamps -------------------------------------------------------------------


def test_dates_and_timestamps(homes):
    assert found(homes, "registered_on >= DATE('2024-06-01')") == {"pct", "alpha"}
    later = (timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert found(homes, f"updated_at < TIMESTAMP('{later}')") == ALL
    assert found(homes, f"updated_at > TIMESTAMP('{later}')") == set()
    stamp = {"op": "<", "args": [prop("updated_at"), {"timestamp": later}]}
    assert found(homes, j(stamp), "cql2-json") == ALL


def test_dates_as_plain_strings_as_gdal_writes_them(homes):
    # GDAL's OAPIF driver writes dates as quoted strings, a bare date with a trailing T.
    assert found(homes, "registered_on >= '2024-06-01T'") == {"pct", "alpha"}
    assert found(homes, "registered_on = '2024-02-01'") == {"one"}
    assert found(homes, "registered_on = '2024-02-01T00:00:00Z'") == {"one"}
    assert refused("registered_on = '2024-02-01T10:00:00Z'").position == 17
    assert found(homes, "updated_at > '2000-01-01T00:00:00Z'") == ALL
    error = refused("registered_on = 'soon'")
    assert error.position == 17


def test_a_date_is_not_a_timestamp(homes):
    error = refused("registered_on > TIMESTAMP('2024-01-01T00:00:00Z')")
    assert error.position == 17
    assert "registered_on" in str(error.message)


# -- spatial functions ----------------------------------------------------------------------

INSIDE_111 = "POLYGON((105.90 29.30, 105.925 29.30, 105.925 29.35, 105.90 29.35, 105.90 29.30))"


def test_spatial_functions_against_points(homes, tree):
    from tests.conftest import centre_of

    assert found(homes, f"S_INTERSECTS(geometry, {INSIDE_111})") == {"one"}
    assert found(homes, f"S_INTERSECTS(location, {INSIDE_111})") == {"one"}
    assert found(homes, f"S_WITHIN(geometry, {INSIDE_111})") == {"one"}
    assert found(homes, f"S_CONTAINS({INSIDE_111}, geometry)") == {"one"}
    assert found(homes, f"S_DISJOINT(geometry, {INSIDE_111})") == ALL - {"one"}
    assert found(homes, f"NOT S_INTERSECTS(geometry, {INSIDE_111})") == ALL - {"one"}
    centre = centre_of(tree.grids[(1, 1, 1)])
    point = f"POINT({centre.x!r} {centre.y!r})"
    assert found(homes, f"S_EQUALS(geometry, {point})") == {"one"}
    assert found(homes, f"S_CONTAINS(geometry, {point})") == {"one"}
    # A point on the polygon's edge touches it; a point inside does not.
    cx, cy = centre.x, centre.y
    apex, low = f"{cx!r} {cy!r}", cy - 0.02
    edge = f"POLYGON(({apex}, {cx - 0.01!r} {low!r}, {cx + 0.01!r} {low!r}, {apex}))"
    assert found(homes, f"S_TOUCHES(geometry, {edge})") == {"one"}
    assert found(homes, f"S_TOUCHES(geometry, {INSIDE_111})") == set()
    assert found(homes, f"S_INTERSECTS(geometry, BBOX{G111})".replace(" (", "(")) == {"one"}
    assert found(homes, "S_INTERSECTS(geometry, BBOX(105.90, 29.30, 0, 105.925, 29.35, 10))") == {
        "one"
    }
    multi = (
        "MULTIPOLYGON(((105.90 29.30, 105.925 29.30, 105.925 29.35, 105.90 29.30)),"
        "((106.4 29.8, 106.6 29.8, 106.6 30.0, 106.4 30.0, 106.4 29.8)))"
    )
    assert found(homes, f"S_INTERSECTS(geometry, {multi})") == {"one", "nowhere"}
    assert found(homes, "S_INTERSECTS(geometry, MULTIPOINT((106.5 29.9), (1 1)))") == {"nowhere"}
    assert found(homes, "S_INTERSECTS(geometry, POINT Z (106.5 29.9 12))") == {"nowhere"}
    assert found(homes, "S_INTERSECTS(POINT(0 0), BBOX(-1, -1, 1, 1))") == ALL
    assert found(homes, "S_INTERSECTS(POINT(5 5), BBOX(-1, -1, 1, 1))") == set()


def test_geojson_literals_in_cql2_json(homes):
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [[105.90, 29.30], [105.925, 29.30], [105.925, 29.35], [105.90, 29.35], [105.90, 29.30]]
        ],
    }
    assert found(
        homes, j({"op": "s_intersects", "args": [prop("geometry"), polygon]}), "cql2-json"
    ) == {"one"}
    assert found(
        homes, j({"op": "s_within", "args": [prop("geometry"), {"bbox": list(G111)}]}), "cql2-json"
    ) == {"one"}
    point = {"type": "Point", "coordinates": [106.5, 29.9]}
    assert found(homes, j({"op": "s_equals", "args": [prop("geometry"), point]}), "cql2-json") == {
        "nowhere"
    }
    collection = {"type": "GeometryCollection", "geometries": [point, polygon]}
    assert found(
        homes, j({"op": "s_intersects", "args": [prop("location"), collection]}), "cql2-json"
    ) == {"one", "nowhere"}


def test_spatial_functions_against_polygons(tree, users):
    grids = registry.get("grids", users.admin)
    codes = {f"{tree.grids[k].code}": k for k in tree.grids}

    def grid_keys(expression):
        q = cql2.compile(expression, "cql2-text", grids, None)
        rows = grids.rows(users.admin).filter(q).values_list("grid__code", flat=True)
        return {codes[code] for code in rows}

    # Grid 1-1-1 is x 105.90-105.925, y 29.30-29.35; its east neighbour is 1-1-2.
    line_across = "LINESTRING(105.91 29.32, 105.94 29.32)"
    assert grid_keys(f"S_CROSSES(geometry, {line_across})") == {(1, 1, 1), (1, 1, 2)}
    on_edge = "LINESTRING(105.91 29.30, 105.94 29.30)"  # along the district's south edge
    assert grid_keys(f"S_TOUCHES(geometry, {on_edge})") == {(1, 1, 1), (1, 1, 2)}
    overlapping = "POLYGON((105.92 29.31, 105.93 29.31, 105.93 29.32, 105.92 29.32, 105.92 29.31))"
    assert grid_keys(f"S_OVERLAPS(geometry, {overlapping})") == {(1, 1, 1), (1, 1, 2)}
    assert grid_keys("S_WITHIN(geometry, BBOX(105.89, 29.29, 105.926, 29.351))") == {(1, 1, 1)}
    assert grid_keys(f"S_CONTAINS(geometry, {overlapping})") == set()
    assert grid_keys("S_CONTAINS(geometry, POINT(105.91 29.31))") == {(1, 1, 1)}
    exact = tree.grids[(1, 1, 1)].boundary_on().wkt
    assert grid_keys(f"S_EQUALS(geometry, {exact})") == {(1, 1, 1)}
    assert len(grid_keys(f"S_DISJOINT(geometry, {overlapping})")) == 6
    assert grid_keys(
        "code = '500118001001001' AND S_INTERSECTS(geometry, POINT(105.91 29.31))"
    ) == {(1, 1, 1)}


def test_filter_crs_epsg_4326_is_latitude_first(homes):
    lat_first = crs.parse("http://www.opengis.net/def/crs/EPSG/0/4326", "filter-crs")
    assert found(homes, "S_EQUALS(geometry, POINT(29.9 106.5))", filter_crs=lat_first) == {
        "nowhere"
    }
    assert found(
        homes, "S_INTERSECTS(geometry, BBOX(29.30, 105.90, 29.35, 105.925))", filter_crs=lat_first
    ) == {"one"}


def test_invalid_geometry_literals_are_refused(homes):
    bowtie = "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"
    error = refused(f"S_INTERSECTS(geometry, {bowtie})")
    assert error.position == 24
    assert "not valid" in str(error.message)
    assert refused("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1)))").position == 32
    assert refused("S_INTERSECTS(geometry, POINT(200 10))").position == 24
    assert refused("S_INTERSECTS(geometry, BBOX(1, 2, 3))").position == 36
    assert refused("S_INTERSECTS(geometry, ENVELOPE(1, 2, 3, 4))").position == 24
    assert refused("S_INTERSECTS(geometry, geometry)").position == 1
    assert refused("S_INTERSECTS(members, POINT(1 1))").position == 14
    assert refused("S_INTERSECTS(geometry, 'POINT(1 1)')").position == 24
    broken = {
        "op": "s_intersects",
        "args": [prop("geometry"), {"type": "Point", "coordinates": "x"}],
    }
    assert "/args/1" in str(refused(j(broken), "cql2-json").message)


# -- errors and their positions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("members = 1 AND", 16, "end of the filter"),
        ("members == 1", 10, "'='"),
        ("members = 1 members = 2", 13, "'members'"),
        ("(members = 1", 13, "')'"),
        ("members = 1)", 12, "')'"),
        ("address = 'abc", 11, "unterminated"),
        ('"address = 1', 1, "unterminated"),
        ("members != 1", 9, "<>"),
        ("members = 1 ; DROP TABLE grids_household", 13, "';'"),
        ("members BETWEEN 1 OR 3", 19, "AND"),
        ("members IN 1, 2", 12, "'('"),
        ("members IS NOTNULL", 12, "NULL"),
        ("members", 8, "comparison"),
        ("members + 1 = 2", 9, "arithmetic"),
        ("upper(address) = 'A'", 1, "upper"),
        ("T_AFTER(updated_at, TIMESTAMP('2024-01-01T00:00:00Z'))", 1, "temporal"),
        ("A_CONTAINS(address, ['a'])", 1, "array"),
        ("address IN ['a']", 12, "'('"),
        ("address = ACCENTI('a')", 11, "ACCENTI"),
        ("registered_on > DATE('2024-02-30')", 22, "2024-02-30"),
        ("registered_on > DATE(2024)", 22, "quoted"),
        ("updated_at > TIMESTAMP('yesterday')", 24, "yesterday"),
        ("members = 1 AND AND", 17, "AND"),
        ("members = #", 11, "'#'"),
        ("", 1, "empty"),
    ],
)
def test_syntax_errors_point_at_the_offending_character(text, position, words):
    error = refused(text)
    assert error.position == position, error.message
    assert words in str(error.message)


def test_unknown_property_is_named_with_the_queryables(homes):
    error = refused("members = 1 AND nosuch = 2")
    assert error.position == 17
    message = str(error.message)
    assert "'nosuch'" in message
    for name in ("address", "grid", "members", "registered_on", "geometry", "location"):
        assert name in message
    # A property that is not queryable is unknown to filters.
    assert refused("client_key = 'x'").position == 1
    with translation.override("zh-hans"):
        chinese = str(refused("nosuch = 1").message)
    assert chinese.startswith("未知属性 'nosuch'；可查询的属性有：address, grid")
    json_error = refused(j({"op": "=", "args": [prop("nosuch"), 1]}), "cql2-json")
    assert "'nosuch'" in str(json_error.message) and "/args/0" in str(json_error.message)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("members = 'three'", 11),
        ("address = 3", 11),
        ("members = TRUE", 11),
        ("flagged = 1", 11),
        ("flagged < TRUE", 1),
        ("members = DATE('2024-01-01')", 11),
        ("members LIKE '3%'", 1),
        ("address LIKE address", 14),
        ("members IN (1, 'two')", 16),
        ("members BETWEEN 'a' AND 3", 17),
        ("geometry = 1", 1),
        ("address < POINT(1 1)", 11),
        ("CASEI(members) = 1", 1),
    ],
)
def test_a_literal_of_the_wrong_type_is_refused_where_it_stands(homes, text, position):
    assert refused(text).position == position


def test_json_errors_have_the_offset_or_the_pointer():
    assert refused('{"op": "=", "args": [', "cql2-json").position == 22
    assert refused("{'op': '='}", "cql2-json").position == 2
    for text in ('{"op": "<", "args": [{"property": "members"}, NaN]}', "1" * 5000):
        assert refused(text, "cql2-json").status == 400
    infinite = '{"op": "<", "args": [{"property": "members"}, 1e999]}'
    assert "/args/1" in str(refused(infinite, "cql2-json").message)
    for tree, pointer in [
        ({"op": "=", "args": [prop("members")]}, "/"),
        (
            {"op": "and", "args": [{"op": "=", "args": [prop("members"), "x"]}, True]},
            "/args/0/args/1",
        ),
        ({"op": "frobnicate", "args": []}, "frobnicate"),
        ({"op": "in", "args": [prop("members"), 3]}, "/args/1"),
        ({"op": "=", "args": [prop("members"), None]}, "/args/1"),
        ({"op": "=", "args": [prop("updated_at"), {"timestamp": "x"}]}, "/args/1"),
        ({"op": "t_after", "args": [prop("updated_at"), {"interval": ["..", ".."]}]}, "t_after"),
        ({"op": "=", "args": [{"op": "upper", "args": [prop("address")]}, "A"]}, "upper"),
        ({"op": "like", "args": [prop("address"), {"op": "accenti", "args": ["a"]}]}, "ACCENTI"),
        ({"op": "=", "args": [prop("members"), 1], "extra": 1}, "extra"),
        ({"op": "=", "args": [prop("members"), 10**40]}, "/args/1"),
        ({"op": "s_intersects", "args": [prop("geometry"), {"bbox": [0, 0, 1, 1e400]}]}, "/args/1"),
        (["==", ["get", "members"], 1], "/"),
    ]:
        message = str(refused(j(tree), "cql2-json").message)
        assert pointer in message, (tree, message)


def test_filter_lang_is_checked():
    assert cql2.language(None) == "cql2-text"
    assert cql2.language("cql2-json") == "cql2-json"
    assert cql2.language("cql-text") == "cql2-text"  # what GDAL's OAPIF driver sends
    with pytest.raises(OgcError) as caught:
        cql2.language("cql-json")
    assert caught.value.field == "filter-lang" and caught.value.status == 400


# -- injection --------------------------------------------------------------------------------


def test_sql_in_literals_is_data_never_executed(homes):
    before = Household.objects.count()
    assert found(homes, "address = 'it''s; DROP TABLE grids_household; --'") == {"quote"}
    assert found(homes, "address = 'x'' OR ''1''=''1'") == set()
    # A backslash does not escape in CQL2: the stray quote at the end opens a string.
    assert refused("address = 'x\\' OR 1=1 --'").position == 25
    assert found(homes, "address LIKE '%'' OR ''a''=''a'") == set()
    assert (
        found(homes, j({"op": "=", "args": [prop("address"), "x' OR '1'='1"]}), "cql2-json")
        == set()
    )
    assert refused("address = 'x' OR \"1\" = '1'").position == 18  # a name, not a value
    assert refused('"address; DROP TABLE grids_household" = 1').position == 1
    assert refused("address = 'a\x00b'").position == 11
    assert refused("address = 'a\ud800'").position == 13  # a lone surrogate
    for tree in (
        '{"op": "=", "args": [{"property": "address"}, "a\\ud800"]}',
        '{"op": "=", "args": [{"property": "a\\ud800"}, "a"]}',
        '{"op": "\\ud800", "args": []}',
        '{"op": "=", "args": [{"property": "address"}, "a\\u0000"]}',
    ):
        assert refused(tree, "cql2-json").status == 400
    assert Household.objects.count() == before


def test_every_literal_is_a_query_parameter(homes):
    text = (
        "address = 'it''s; DROP TABLE grids_household; --' OR address LIKE 'A%_x' "
        "OR registered_on > DATE('2024-01-01') OR S_INTERSECTS(geometry, POINT(1 2))"
    )
    query = Household.objects.filter(cql2.compile(text, "cql2-text", HOUSEHOLDS))
    sql, values = query.query.sql_with_params()
    assert "it's; DROP TABLE grids_household; --" in values
    assert "^A.*.x$" in values
    assert dt.date(2024, 1, 1) in values
    for fragment in ("DROP", "A.*", "2024", "POINT"):
        assert fragment not in sql


# -- limits -----------------------------------------------------------------------------------


def test_limits_on_size_and_depth(homes):
    many = " OR ".join(f"members = {i}" for i in range(45))
    assert found(homes, many) == ALL
    error = refused(" OR ".join(f"members = {i}" for i in range(80)))
    assert "terms" in str(error.message) and error.position is not None
    assert "levels" in str(refused("(" * 40 + "members = 1" + ")" * 40).message)
    assert refused("(" * 40 + "members = 1" + ")" * 40).position == 33  # the 33rd (
    assert found(homes, "(" * 32 + "members = 1" + ")" * 32) == {"nowhere"}
    assert "levels" in str(refused("NOT " * 40 + "members = 1").message)
    assert "terms" in str(refused("members IN (" + ", ".join(["1"] * 300) + ")").message)
    assert "longer" in str(refused("address = '" + "x" * 70000 + "'").message)
    deep = "[" * 100000 + "]" * 100000
    assert refused(deep, "cql2-json").status == 400
    nested = True
    for _ in range(40):
        nested = {"op": "not", "args": [nested]}
    assert "levels" in str(refused(j(nested), "cql2-json").message)
    huge = ", ".join(f"{i % 90} 1" for i in range(nodes.MAX_VERTICES + 5))
    assert "vertices" in str(refused(f"S_INTERSECTS(geometry, LINESTRING({huge}))").message)
    assert "out of range" in str(refused("members = 1e999").message)


# -- queryables as query parameters ---------------------------------------------------------


def test_queryables_as_query_parameters(homes):
    from django.http import QueryDict

    def params(query):
        q = cql2.parameters_q(HOUSEHOLDS, QueryDict(query))
        return {homes[pk] for pk in Household.objects.filter(q).values_list("pk", flat=True)}

    assert params("members=3") == {"one"}
    assert params("members=2&registered_on=2024-09-30") == {"alpha"}
    assert params("flagged=true") == {"nowhere"}
    assert params("address=50%25 off_road") == {"pct"}  # no wildcards here
    assert params("limit=5") == ALL  # items parameters are not queryables
    assert "geometry" not in cql2.parameter_names(HOUSEHOLDS)
    for query, name in [
        ("members=three", "members"),
        ("members=1.5", "members"),
        ("registered_on=2024-02-30", "registered_on"),
        ("flagged=yes", "flagged"),
        ("members=1&members=2", "members"),
        ("half=nan", "half"),
    ]:
        with pytest.raises(OgcError) as caught:
            cql2.parameters_q(HOUSEHOLDS, QueryDict(query))
        assert caught.value.field == name and caught.value.status == 400


# -- the queryables resource ----------------------------------------------------------------


def test_queryables_schema(rf, tree, users):
    request = rf.get("/ogc/collections/grids/queryables")
    request.user = users.admin
    grids = registry.get("grids", users.admin)
    found_schema = queryables.schema(grids, request)
    assert found_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert found_schema["$id"] == "http://testserver/ogc/collections/grids/queryables"
    assert found_schema["type"] == "object"
    assert found_schema["additionalProperties"] is False
    props = found_schema["properties"]
    assert props["geometry"]["format"] == "geometry-multipolygon"
    assert props["code"]["type"] == "string" and props["code"]["title"]
    assert props["version"]["type"] == "integer"
    assert props["valid_from"] == {**props["valid_from"], "type": "string", "format": "date"}
    assert "governance" in props["theme"]["enum"] or props["theme"]["enum"]
    # Every queryable listed compiles in a filter.
    for name in props:
        if name == "geometry":
            cql2.compile(f"S_INTERSECTS({name}, POINT(105.91 29.31))", "cql2-text", grids)
        else:
            cql2.compile(f'"{name}" IS NULL', "cql2-text", grids)
    request = rf.get("/ogc/collections/test-households/queryables")
    request.user = users.admin
    test_props = queryables.schema(HOUSEHOLDS, request)["properties"]
    assert test_props["updated_at"]["format"] == "date-time"
    assert test_props["flagged"]["type"] == "boolean" and test_props["half"]["type"] == "number"
    assert test_props["geometry"]["format"] == "geometry-point"
    assert "client_key" not in test_props


def test_conformance_declares_part_3(api, users):
    response = api(users.admin).get("/ogc/conformance", {"f": "json"})
    assert response.status_code == 200
    declared = response.json()["conformsTo"]
    for uri in cql2.CONFORMANCE:
        assert uri in declared


# -- end to end: /ogc/collections/<id>/items ---------------------------------------------------


def items(api, user, collection_id, **query):
    return api(user).get(f"/ogc/collections/{collection_id}/items", {"f": "json", **query})


def feature_names(homes, response) -> set:
    assert response.status_code == 200, response.content
    return {homes[feature["id"]] for feature in response.json()["features"]}


def test_items_filtered_by_cql2_text_and_json(api, users, homes):
    # The published households collection: only the households existing today.
    current = {"one", "quote", "nowhere"}
    assert feature_names(homes, items(api, users.admin, "households")) == current
    response = items(api, users.admin, "households", filter="member_count >= 3")
    assert feature_names(homes, response) == {"one", "quote"}
    tree = {"op": "like", "args": [prop("address"), "无%"]}
    response = items(api, users.admin, "households", filter=j(tree), **{"filter-lang": "cql2-json"})
    assert feature_names(homes, response) == {"nowhere"}
    response = items(api, users.admin, "households", filter="grid IS NULL")
    assert feature_names(homes, response) == {"nowhere"}


def test_items_filter_as_gdal_sends_it(api, users, homes):
    # GDAL's OAPIF driver: each side in parentheses, dates as strings, ILIKE for -where ILIKE.
    text = "(member_count > 2) AND (registered_on >= '2024-02-01T') AND (address ILIKE 'IT%')"
    assert feature_names(homes, items(api, users.admin, "households", filter=text)) == {"quote"}
    text = '("member_count" = 1) OR ("grid" IS NULL)'
    assert feature_names(homes, items(api, users.admin, "households", filter=text)) == {"nowhere"}
    # ... and names the language by the old draft's "cql-text".
    response = items(
        api, users.admin, "households", filter="member_count > 4", **{"filter-lang": "cql-text"}
    )
    assert feature_names(homes, response) == {"quote"}


def test_items_filter_crs_and_queryable_parameters(api, users, homes):
    response = items(
        api,
        users.admin,
        "households",
        filter="S_INTERSECTS(geometry, BBOX(29.85, 106.45, 29.95, 106.55))",
        **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
    )
    assert feature_names(homes, response) == {"nowhere"}
    assert feature_names(homes, items(api, users.admin, "households", member_count="5")) == {
        "quote"
    }


def test_items_filter_errors_are_400_with_the_position(api, users, homes):
    response = items(api, users.admin, "households", filter="member_count > 2 AND nosuch = 1")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and body["status"] == 400
    (error,) = body["errors"]
    assert error["field"] == "filter" and error["position"] == 22
    assert "nosuch" in error["message"] and "member_count" in error["message"]
    response = items(api, users.admin, "households", filter="member_count = 'x'")
    assert response.status_code == 400 and response.json()["errors"][0]["position"] == 16
    response = items(
        api, users.admin, "households", filter='{"op": "="', **{"filter-lang": "cql2-json"}
    )
    assert response.status_code == 400 and response.json()["errors"][0]["position"] == 11
    response = items(api, users.admin, "households", filter="x = 1", **{"filter-lang": "sql"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "filter-lang"


def test_items_filter_keeps_the_scope(api, users, homes, tree):
    # A grid worker filtering for every household still sees only their grid's.
    response = items(api, users.worker, "households", filter="member_count >= 0")
    assert feature_names(homes, response) == {"one"}
    response = items(api, users.worker, "households", filter="grid <> '500118001001001'")
    assert feature_names(homes, response) == set()


def test_queryables_endpoint(api, users, homes):
    url = "/ogc/collections/households/queryables"
    response = api(users.admin).get(url, HTTP_ACCEPT="application/schema+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/schema+json")
    # GDAL asks for JSON and refuses another media type.
    response = api(users.admin).get(url, {"f": "json"}, HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["$id"] == "http://testserver/ogc/collections/households/queryables"
    assert set(body["properties"]) >= {"geometry", "address", "grid", "member_count"}
    assert body["properties"]["geometry"]["format"] == "geometry-point"
