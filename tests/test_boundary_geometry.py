"""Geometry of the boundary editor: precision, areas in square metres, GeoJSON in and out
with clear refusals, and buffers in metres for the integrity tolerances."""

from __future__ import annotations

import json

import pyproj
import pytest
import shapely
from django.utils import translation
from shapely.geometry import LineString, MultiPolygon, box, mapping

from boundaries.services import geometry
from grids.problems import ProblemsError

GEOD = pyproj.Geod(ellps="WGS84")
C11 = box(105.90, 29.30, 105.95, 29.35)


def east_of(lon: float, lat: float, metres: float) -> float:
    """The longitude `metres` east of a point, on the spheroid."""
    return GEOD.fwd(lon, lat, 90, metres)[0]


def strip(width_m: float, x: float = 105.925, y0: float = 29.30, y1: float = 29.35):
    """A north-south strip `width_m` wide starting at longitude x."""
    return box(x, y0, east_of(x, (y0 + y1) / 2, width_m), y1)


def refused(value, **kwargs):
    with pytest.raises(ProblemsError) as caught:
        geometry.from_geojson(value, label="500118001001001", **kwargs)
    [problem] = caught.value.problems
    return problem


def test_snap_puts_vertices_on_the_precision_grid_and_keeps_polygons_only():
    drawn = shapely.GeometryCollection(
        [box(105.9000000012, 29.3, 105.91, 29.31), LineString([(105.9, 29.3), (106, 29.4)])]
    )
    snapped = geometry.snap(drawn)
    assert isinstance(snapped, MultiPolygon)
    assert len(snapped.geoms) == 1
    assert shapely.get_coordinates(snapped)[:, 0].min() == pytest.approx(105.9, abs=1e-12)
    assert geometry.snap(LineString([(0, 0), (1, 1)])).is_empty


def test_overlays_on_the_grid_leave_no_sliver_between_neighbours():
    west, east = box(105.90, 29.30, 105.925, 29.35), box(105.925, 29.30, 105.95, 29.35)
    wobbly = box(105.90, 29.30, 105.92500000000003, 29.35)
    assert geometry.difference(east, wobbly).equals(east)
    assert geometry.intersection(west, east).is_empty
    assert geometry.union_all([west, None, east]).equals(MultiPolygon([C11]))
    assert geometry.union_all([]).is_empty


def test_area_is_geodesic_square_metres_whatever_the_ring_orientation():
    side_ns = GEOD.inv(105.925, 29.30, 105.925, 29.35)[2]
    one_metre = strip(1.0)
    assert geometry.area_m2(one_metre) == pytest.approx(side_ns, rel=1e-3)
    assert geometry.area_m2(C11) == pytest.approx(geometry.area_m2(shapely.reverse(C11)))
    holed = C11.difference(box(105.91, 29.31, 105.92, 29.32))
    assert geometry.area_m2(holed) == pytest.approx(
        geometry.area_m2(C11) - geometry.area_m2(box(105.91, 29.31, 105.92, 29.32))
    )
    assert geometry.area_m2(None) == 0.0


def test_geojson_round_trip_for_dicts_text_and_features():
    as_dict = geometry.to_geojson(C11)
    assert as_dict["type"] == "Polygon"
    assert geometry.from_geojson(as_dict).equals(C11)
    assert geometry.from_geojson(json.dumps(as_dict)).equals(C11)
    feature = {"type": "Feature", "properties": {}, "geometry": mapping(MultiPolygon([C11]))}
    result = geometry.from_geojson(feature)
    assert isinstance(result, MultiPolygon) and result.equals(C11)


@pytest.fixture
def english():
    """GEOS's reason in its own words: the messages are worded in English here (in Chinese
    by default, tests/test_words_messages.py)."""
    with translation.override("en"):
        yield


def test_a_self_intersecting_ring_is_refused_with_the_reason_and_where_not_repaired(english):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[105.90, 29.30], [105.91, 29.31], [105.91, 29.30], [105.90, 29.31], [105.90, 29.30]]
        ],
    }
    problem = refused(bowtie)
    assert problem.code == "invalid_geometry"
    assert "Self-intersection" in problem.message
    assert problem.feature == "500118001001001" and problem.field == "geometry"
    assert problem.location == pytest.approx((105.905, 29.305))


@pytest.mark.parametrize(
    "value, code",
    [
        ({"type": "Point", "coordinates": [105.9, 29.3]}, "not_polygon"),
        ({"type": "LineString", "coordinates": [[105.9, 29.3], [106, 29.4]]}, "not_polygon"),
        (mapping(box(400000, 3200000, 401000, 3201000)), "bad_coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[105.9, 29.3], [105.91, 29.31]]]},
            "invalid_geometry",
        ),
        ({"type": "Polygon"}, "invalid_geometry"),
        ("{not json", "invalid_geometry"),
        (42, "invalid_geometry"),
        ({"type": "Feature", "geometry": None, "properties": {}}, "empty_geometry"),
    ],
)
def test_bad_drawings_are_refused_with_a_code(value, code):
    assert refused(value).code == code


def test_coordinates_out_of_range_name_the_offending_point():
    problem = refused(mapping(box(105.9, 29.3, 185.0, 29.4)))
    assert problem.code == "bad_coordinates"
    assert problem.location[0] == 185.0


def test_split_line_needs_two_distinct_points():
    line = geometry.line_from_geojson(
        {"type": "LineString", "coordinates": [[105.92, 29.29, 3.0], [105.92, 29.36, 12.0]]}
    )
    assert isinstance(line, LineString) and not line.has_z
    with pytest.raises(ProblemsError) as caught:
        geometry.line_from_geojson(
            {"type": "LineString", "coordinates": [[105.92, 29.29], [105.92, 29.29]]}
        )
    assert caught.value.problems[0].code == "invalid_geometry"
    assert caught.value.problems[0].field == "line"
    with pytest.raises(ProblemsError) as caught:
        geometry.line_from_geojson(mapping(C11))
    assert caught.value.problems[0].code == "not_line"


def test_thicker_than_measures_in_metres():
    one_metre = strip(1.0)
    assert geometry.thicker_than(one_metre, 0.4)
    assert not geometry.thicker_than(one_metre, 0.6)
    # A thin piece deep inside a larger area: more than the tolerance inside it.
    assert geometry.thicker_than(strip(0.2), 0.5, inside=C11)
    # The same thin piece at the very edge of the area is not.
    edge = strip(0.2, x=east_of(105.95, 29.325, -0.2))
    assert not geometry.thicker_than(edge, 0.5, inside=C11)
    assert not geometry.thicker_than(MultiPolygon(), 0.5)


def test_farther_than_measures_outside_in_metres():
    west = box(105.90, 29.30, 105.925, 29.35)
    assert geometry.farther_than(strip(1.0), west, 0.5)
    assert not geometry.farther_than(strip(0.3), west, 0.5)
    assert not geometry.farther_than(box(105.91, 29.31, 105.92, 29.32), west, 0.5)


def test_same_ground_up_to_the_precision_grid():
    unsnapped = box(105.90, 29.30, (105.90 + 105.95) / 2 + 1e-14, 29.35)
    assert geometry.same(unsnapped, box(105.90, 29.30, 105.925, 29.35))
    assert not geometry.same(unsnapped, box(105.90, 29.30, 105.926, 29.35))
    assert geometry.same(None, None) and not geometry.same(None, C11)


def test_coverage_union_with_and_without_a_clean_tiling():
    west, east = box(105.90, 29.30, 105.925, 29.35), box(105.925, 29.30, 105.95, 29.35)
    assert geometry.coverage_union([west, east]).equals(C11)
    overlapping = box(105.92, 29.30, 105.95, 29.35)
    assert geometry.coverage_union([west, overlapping, None]).equals(C11)


def test_interiors_meet_only_when_ground_is_shared():
    west, east = box(105.90, 29.30, 105.925, 29.35), box(105.925, 29.30, 105.95, 29.35)
    assert not geometry.interiors_meet(west, east)
    assert geometry.interiors_meet(west, box(105.92, 29.30, 105.95, 29.35))
