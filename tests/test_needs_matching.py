"""Matching needs with providers (issue #20): distances in metres on the spheroid, checked
against pyproj's geodesic, and the ranking: eligible first, then free capacity, then
distance, then load."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from pyproj import Geod

from needs.models import NeedSource, ServiceKind, ServiceOffer
from needs.services import dispatch, matching, review
from tests.needs_fixtures import add_provider, centre_of

pytestmark = pytest.mark.django_db

GEOD = Geod(ellps="WGS84")


def geodesic_m(a: Point, b: Point) -> float:
    return GEOD.inv(a.x, a.y, b.x, b.y)[2]


def offset(point: Point, east_m: float = 0.0, north_m: float = 0.0) -> Point:
    """A point `east_m` east then `north_m` north of `point`, along geodesics."""
    lon, lat, _ = GEOD.fwd(point.x, point.y, 90, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0, north_m)
    return Point(lon, lat, srid=4326)


@pytest.mark.parametrize("east_m, north_m", [(30, 0), (0, 800), (1500, 1200), (4000, 9000)])
def test_distances_are_geodesic_metres(tree, needs_people, accepted_need, east_m, north_m):
    where = offset(accepted_need.location, east_m, north_m)
    add_provider(tree.communities[(1, 1)], None, location=where)
    [candidate] = matching.candidates(accepted_need)
    expected = geodesic_m(accepted_need.location, where)
    assert candidate.distance_m == pytest.approx(expected, rel=0.005)


def test_need_without_a_point_is_measured_from_its_grid(tree, needs_people, raise_need):
    need = raise_need(location=None)
    need = review.accept(need, needs_people.community, need.version)
    where = centre_of(tree.grids[(1, 1, 2)])
    add_provider(tree.communities[(1, 1)], None, location=where)
    [candidate] = matching.candidates(need)
    inside = matching.need_point(need)
    assert tree.grids[(1, 1, 1)].boundary_on().contains(inside)
    assert candidate.distance_m == pytest.approx(geodesic_m(inside, where), rel=0.005)


def test_duplicates_within_the_set_metres(settings, tree, needs_people, raise_need):
    settings.GRIDLINE_NEEDS_DUPLICATE_M = 100
    first = raise_need()
    near = raise_need(location=offset(first.location, 60, 40))
    raise_need(location=offset(first.location, 150, 0))  # too far
    raise_need(kind="legal")  # another kind
    assert review.duplicates(first) == [near]
    [found] = review.duplicates(first)
    assert found.metres == pytest.approx(geodesic_m(first.location, near.location), rel=0.005)


def test_ranking(tree, needs_people, raise_need, kinds, django_assert_max_num_queries):
    p = needs_people
    community = tree.communities[(1, 1)]
    need = review.accept(n := raise_need(), p.community, n.version)
    here = need.location
    add_provider(community, None, location=offset(here, 2000), name="远")
    add_provider(community, None, location=offset(here, 500), name="近")
    busy = add_provider(community, None, location=offset(here, 500), name="忙")
    full = add_provider(community, None, location=offset(here, 100), name="满")
    add_provider(tree.communities[(2, 2)], None, location=offset(here, 50), name="区外")
    # 忙 stands where 近 does (a tie on distance) and carries another need (legal help) on
    # a second offer: load 1, its elderly offer still free. 满's only elderly place is taken.
    legal = ServiceOffer.objects.create(provider=busy, kind=ServiceKind.objects.get(code="legal"))
    legal.area.set([community])
    other = review.accept(n := raise_need(kind="legal"), p.community, n.version)
    dispatch.send(other, busy, legal, p.community, other.version)
    taken = review.accept(n := raise_need(), p.community, n.version)
    dispatch.send(taken, full, None, p.community, taken.version)

    # The ranking in one statement, then the best offers with their providers: however
    # many offers.
    with django_assert_max_num_queries(2):
        ranked = matching.candidates(need)
    assert [c.provider.name for c in ranked] == ["近", "忙", "远", "区外", "满"]
    by_name = {c.provider.name: c for c in ranked}
    assert by_name["忙"].load == 1 and by_name["忙"].free == 1
    assert by_name["满"].free == 0 and by_name["满"].reason == "no_capacity"
    assert by_name["区外"].reason == "outside_area"
    assert [c.eligible for c in ranked] == [True, True, True, False, False]
    assert len(matching.candidates(need, limit=2)) == 2


def test_offer_area_beyond_the_providers_community(tree, needs_people, accepted_need):
    """A unit of another street that serves this community is a candidate too."""
    serving = add_provider(
        tree.communities[(2, 2)],
        None,
        location=centre_of(tree.grids[(2, 2, 1)]),
        area=[tree.communities[(2, 2)], tree.communities[(1, 1)]],
    )
    [candidate] = matching.candidates(accepted_need)
    assert candidate.provider == serving and candidate.eligible
    d = dispatch.send(accepted_need, serving, None, needs_people.community, accepted_need.version)
    assert d.provider == serving


def test_public_need_candidates(tree, needs_people, raise_need, volunteer):
    need = raise_need(source=NeedSource.PUBLIC, grid=tree.grids[(1, 1, 1)], location=None)
    need = review.accept(need, needs_people.community, need.version)
    assert [c.provider for c in matching.candidates(need)] == [volunteer]
