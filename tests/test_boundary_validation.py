"""Validation as you draw (issue #7, part 3): every rule, with the drawn problems' area in
square metres, slivers ignored, and never more lenient than the apply's integrity check.

The change sets' items are written directly here, as the editing operations would."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from boundaries.models import ChangeSetItem
from boundaries.services import changesets, geometry
from boundaries.services.validation import summary, validate
from grids.models import Grid, GridBoundary
from grids.problems import ProblemsError
from grids.services import boundaries
from grids.services.boundaries import to_geos

GEOD = pyproj.Geod(ellps="WGS84")
C11 = "500118001001"
WEST, EAST = f"{C11}001", f"{C11}002"
WEST_BOX = box(105.90, 29.30, 105.925, 29.35)
EAST_BOX = box(105.925, 29.30, 105.95, 29.35)
NEW = f"{C11}003"


def put(change_set, code: str, geom, *, community=None, name: str | None = None, new=False):
    """The item for `code` as an edit would write it: an existing grid's new boundary (None:
    retired), or a new grid of `community` (`new`: even under the code of an existing one)."""
    grid = None if new else Grid.objects.filter(code=code, valid_to__isnull=True).first()
    if grid is not None:
        community = grid.community
    multi = geometry.snap(geom) if geom is not None else None
    return ChangeSetItem.objects.update_or_create(
        change_set=change_set,
        code=code,
        defaults={
            "grid": grid,
            "base_version": grid.version if grid else None,
            "community": community,
            "name": name or (grid.name if grid else "新网格"),
            "geom": to_geos(multi) if multi is not None else None,
        },
    )[0]


def east_by(lon: float, lat: float, metres: float) -> float:
    return GEOD.fwd(lon, lat, 90, metres)[0]


def found(problems, code: str):
    return [p for p in problems if p.code == code]


def only(problems, code: str):
    hits = found(problems, code)
    assert len(hits) == 1, problems
    return hits[0]


def test_an_untouched_change_set_warns_that_nothing_changed(draft):
    problems = validate(draft)
    assert [p.code for p in problems] == ["nothing_changed"]
    assert summary(problems) == {"errors": 0, "warnings": 1}
    put(draft, WEST, WEST_BOX)
    assert [p.code for p in validate(draft)] == ["nothing_changed"]
    put(draft, WEST, WEST_BOX, name="新名字")
    assert validate(draft) == []


def test_a_grid_pushed_into_its_neighbour_is_an_overlap_drawn_with_its_area(draft):
    put(draft, WEST, box(105.90, 29.30, 105.93, 29.35))
    problems = validate(draft)
    overlap = only(problems, "overlap")
    expected = geometry.area_m2(box(105.925, 29.30, 105.93, 29.35))
    assert overlap.severity == "error"
    assert overlap.feature == WEST and EAST in overlap.message
    assert overlap.field == "geometry"
    assert overlap.area_m2 == pytest.approx(expected, rel=1e-3)
    assert shapely.geometry.shape(overlap.geometry).equals(box(105.925, 29.30, 105.93, 29.35))
    assert 105.925 < overlap.location[0] < 105.93
    assert summary(problems) == {"errors": 1, "warnings": 0}


def test_a_one_metre_overlap_is_reported_with_its_area_within_one_percent(draft):
    y_mid = 29.325
    put(draft, WEST, box(105.90, 29.30, east_by(105.925, y_mid, 1.0), 29.35))
    overlap = only(validate(draft), "overlap")
    length = GEOD.inv(105.925, 29.30, 105.925, 29.35)[2]
    assert overlap.area_m2 == pytest.approx(length * 1.0, rel=0.01)


def test_an_overlap_between_two_changed_grids_is_reported_once(draft):
    put(draft, WEST, box(105.90, 29.30, 105.93, 29.35))
    put(draft, EAST, box(105.92, 29.30, 105.95, 29.35))
    overlaps = found(validate(draft), "overlap")
    assert len(overlaps) == 1
    assert overlaps[0].area_m2 == pytest.approx(
        geometry.area_m2(box(105.92, 29.30, 105.93, 29.35)), rel=1e-3
    )


def test_slivers_under_the_threshold_are_ignored(draft):
    # 1 cm wide and 50 m long: 0.5 m² of rounding, not a problem, also for the apply.
    top = GEOD.fwd(105.925, 29.30, 0, 50)[1]
    sliver = box(105.925, 29.30, east_by(105.925, 29.30, 0.01), top)
    drawn = WEST_BOX.union(sliver)
    put(draft, WEST, drawn)
    assert validate(draft) == []
    boundaries.change_boundary(Grid.objects.get(code=WEST), geometry.snap(drawn))


def metric_disc(lon: float, lat: float, radius_m: float):
    """A disc of `radius_m` metres around a point, in lon/lat."""
    local = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84")
    back = pyproj.Transformer.from_crs(local, 4326, always_xy=True)
    disc = Point(0, 0).buffer(radius_m, quad_segs=32)
    return shapely.transform(disc, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))


def test_validation_is_never_more_lenient_than_the_apply(draft):
    # A half disc of 0.6 m radius pushed into the neighbour: under 1 m², but its middle is
    # more than 0.5 m inside the grid, which the apply's integrity check refuses.
    bump = metric_disc(105.925, 29.325, 0.6).intersection(box(105.925, 29.32, 105.93, 29.33))
    drawn = WEST_BOX.union(bump)
    put(draft, WEST, drawn)
    overlap = only(validate(draft), "overlap")
    assert overlap.area_m2 < settings_sliver()
    assert overlap.area_m2 == pytest.approx(3.14159 * 0.36 / 2, rel=0.05)
    with pytest.raises(ProblemsError) as caught:
        boundaries.change_boundary(Grid.objects.get(code=WEST), geometry.snap(drawn))
    assert "overlap" in [p.code for p in caught.value.problems]


def settings_sliver() -> float:
    from django.conf import settings

    return settings.GRIDLINE_SLIVER_M2


def test_ground_given_up_is_a_gap_error_when_the_district_requires_coverage(draft, tree):
    put(draft, WEST, box(105.90, 29.30, 105.92, 29.35))
    gap = only(validate(draft), "gap")
    assert gap.severity == "error"
    assert gap.feature == WEST
    assert gap.area_m2 == pytest.approx(
        geometry.area_m2(box(105.92, 29.30, 105.925, 29.35)), rel=1e-3
    )
    assert shapely.geometry.shape(gap.geometry).equals(box(105.92, 29.30, 105.925, 29.35))

    tree.district.full_coverage = False
    tree.district.save(update_fields=["full_coverage"])
    problems = validate(draft)
    assert only(problems, "gap").severity == "warning"
    assert summary(problems) == {"errors": 0, "warnings": 1}


def test_a_retired_grid_nobody_takes_over_leaves_a_gap(draft):
    put(draft, EAST, None)
    gap = only(validate(draft), "gap")
    assert gap.feature == EAST and gap.severity == "error"
    assert gap.area_m2 == pytest.approx(geometry.area_m2(EAST_BOX), rel=1e-3)


def test_ground_uncovered_before_the_change_is_a_warning_where_to_draw(draft, tree):
    boundaries.change_boundary(tree.grids[(1, 1, 2)], box(105.925, 29.30, 105.95, 29.34))
    put(draft, WEST, box(105.90, 29.30, 105.925, 29.35), name="改名")
    gap = only(validate(draft), "gap")
    assert gap.severity == "warning"
    assert gap.feature == C11
    assert gap.area_m2 == pytest.approx(
        geometry.area_m2(box(105.925, 29.34, 105.95, 29.35)), rel=1e-3
    )
    # Drawing a new grid there settles it.
    put(draft, NEW, box(105.925, 29.34, 105.95, 29.35), community=tree.communities[(1, 1)])
    assert validate(draft) == []


def test_a_grid_reaching_out_of_its_community(draft):
    put(draft, WEST, box(105.89, 29.30, 105.925, 29.35))
    problems = validate(draft)
    outside = only(problems, "outside_community")
    assert outside.feature == WEST and C11 in outside.message
    assert outside.area_m2 == pytest.approx(
        geometry.area_m2(box(105.89, 29.30, 105.90, 29.35)), rel=1e-3
    )
    assert outside.location[0] < 105.90


def test_a_grid_under_the_minimum_area_is_too_small(draft, tree):
    corner = box(105.90, 29.30, 105.9004, 29.3004)  # about 39 m × 44 m
    put(draft, WEST, WEST_BOX.difference(corner))
    put(draft, NEW, corner, community=tree.communities[(1, 1)])
    problems = validate(draft)
    small = only(problems, "too_small")
    assert small.feature == NEW and small.severity == "error"
    assert small.area_m2 == pytest.approx(geometry.area_m2(corner), rel=1e-3)
    assert small.area_m2 < 2000
    assert summary(problems)["errors"] == 1


def test_a_grid_in_separate_parts_is_a_warning(draft):
    south, north = box(105.90, 29.30, 105.925, 29.32), box(105.90, 29.33, 105.925, 29.35)
    put(draft, WEST, MultiPolygon([south, north]))
    put(draft, EAST, EAST_BOX.union(box(105.90, 29.32, 105.925, 29.33)))
    problems = validate(draft)
    part = only(problems, "multipart")
    assert part.severity == "warning" and part.feature == WEST
    assert summary(problems) == {"errors": 0, "warnings": 1}


def test_an_invalid_boundary_names_gEOS_reason_and_place(draft):
    item = put(draft, WEST, WEST_BOX)
    bowtie = shapely.Polygon(
        [(105.90, 29.30), (105.925, 29.35), (105.925, 29.30), (105.90, 29.35), (105.90, 29.30)]
    )
    item.geom = to_geos(MultiPolygon([bowtie]))
    item.save()
    invalid = only(validate(draft), "invalid_geometry")
    assert invalid.feature == WEST
    assert invalid.location == pytest.approx((105.9125, 29.325))


@pytest.mark.parametrize(
    "code, expected",
    [
        ("12345", "bad_code"),
        ("50011800100100A", "bad_code"),
        ("500118001002003", "code_not_under_parent"),
        (EAST, "duplicate_code"),
    ],
)
def test_codes_of_new_grids_follow_the_scheme(draft, tree, code, expected):
    put(draft, WEST, box(105.90, 29.30, 105.92, 29.35))
    put(
        draft,
        code,
        box(105.92, 29.30, 105.925, 29.35),
        community=tree.communities[(1, 1)],
        new=True,
    )
    problem = only(validate(draft), expected)
    assert problem.field == "code" and problem.severity == "error"


def test_the_code_of_a_retired_grid_is_never_reused(draft, tree):
    Grid.objects.create(
        code=NEW,
        name="旧网格",
        community=tree.communities[(1, 1)],
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2023, 1, 1),
    )
    put(draft, WEST, box(105.90, 29.30, 105.92, 29.35))
    put(draft, NEW, box(105.92, 29.30, 105.925, 29.35), community=tree.communities[(1, 1)])
    problem = only(validate(draft), "duplicate_code")
    assert problem.feature == NEW


def test_a_new_grid_cannot_take_the_code_of_a_grid_the_change_set_retires(draft, tree):
    # Within one change set an item per code: the retired grid's item holds the code.
    put(draft, EAST, None)
    with pytest.raises(Exception):  # noqa: B017 - the database's unique constraint
        ChangeSetItem.objects.create(
            change_set=draft,
            community=tree.communities[(1, 1)],
            code=EAST,
            name="x",
            geom=to_geos(MultiPolygon([EAST_BOX])),
        )


def test_only_communities_the_change_set_changes_are_checked(tree, users):
    # Community (1, 2) has an old overlap (written before the integrity rules); a street
    # change set that redraws community (1, 1) only is not held back by it.
    north_west = tree.grids[(1, 2, 1)]
    GridBoundary.objects.filter(grid=north_west, valid_to__isnull=True).update(
        geom=to_geos(MultiPolygon([box(105.90, 29.35, 105.93, 29.40)]))
    )
    street = changesets.create(user=users.admin, region=tree.streets[1], title="街道重划")
    put(street, WEST, box(105.90, 29.30, 105.92, 29.35))
    put(street, EAST, box(105.92, 29.30, 105.95, 29.35))
    assert validate(street) == []
    # Once it touches that community, the overlap with the changed grid is its to settle.
    put(street, north_west.code, box(105.90, 29.35, 105.93, 29.40), name="改名")
    assert only(validate(street), "overlap").feature == north_west.code


def test_drawn_problems_serialise_for_the_map(draft):
    put(draft, WEST, box(105.90, 29.30, 105.93, 29.34))
    problems = validate(draft)
    assert sorted(p.code for p in problems) == ["gap", "overlap"]
    for problem in problems:
        shown = json.loads(json.dumps(problem.as_dict()))
        assert set(shown) >= {"code", "message", "feature", "field", "severity"}
        assert shown["area_m2"] > 0
        assert shown["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert len(shown["location"]) == 2


def test_stale_items_and_conflicting_change_sets_are_errors(draft, tree, users):
    put(draft, WEST, box(105.90, 29.30, 105.93, 29.35))
    put(draft, EAST, box(105.93, 29.30, 105.95, 29.35))
    assert validate(draft) == []
    Grid.objects.filter(code=EAST).update(version=5)
    stale = only(validate(draft), "stale")
    assert stale.feature == EAST and stale.severity == "error"

    rival = changesets.create(user=users.community, region=tree.communities[(1, 1)], title="另一")
    put(rival, WEST, box(105.90, 29.30, 105.91, 29.35))
    conflict = only(validate(draft), "conflict")
    assert conflict.feature == WEST
    assert f"#{rival.pk}" in conflict.message
    assert summary(validate(draft))["errors"] == 2


def test_validation_reads_a_fixed_number_of_queries(draft, tree, django_assert_max_num_queries):
    put(draft, WEST, box(105.90, 29.30, 105.92, 29.35))
    put(draft, EAST, box(105.92, 29.30, 105.95, 29.35))
    put(draft, NEW, box(105.90, 29.30, 105.905, 29.305), community=tree.communities[(1, 1)])
    with django_assert_max_num_queries(14):
        validate(draft)
