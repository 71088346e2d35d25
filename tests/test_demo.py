"""The demo district: the seeds' scale, a gap-free tessellation, realistic figures."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from grids.models import Grid, Household, Level, Region, Resident, Role, User
from grids.services import demo


def test_tree_at_the_seeds_scale(district):
    assert "988 grids" in district
    assert Region.objects.filter(level=Level.DISTRICT).count() == 1
    assert Region.objects.filter(level=Level.STREET).count() == 23
    assert Region.objects.filter(level=Level.COMMUNITY).count() == 300
    assert Grid.objects.count() == 988
    assert set(Region.objects.filter(level=Level.STREET).values_list("name", flat=True)) == set(
        demo.STREET_NAMES
    )


def test_grids_tessellate_the_district(district):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
              (SELECT sum(ST_Area(geom::geography)) FROM grids_gridboundary),
              (SELECT ST_Area(ST_Union(geom)::geography) FROM grids_gridboundary),
              (SELECT ST_Area(b.geom::geography) FROM grids_regionboundary b
                 JOIN grids_region r ON r.id = b.region_id WHERE r.level = 'district')
            """
        )
        total, union, outline = cursor.fetchone()
    # No overlaps: the parts add up to their union; no gaps: the union is the district.
    assert total == pytest.approx(union, rel=1e-6)
    assert union == pytest.approx(outline, rel=1e-6)


def test_households_residents_and_tags_are_realistic(district):
    assert Household.objects.count() == 3000
    flagged = Household.objects.unassigned().count()
    assert 1 <= flagged <= 5  # a few just outside the district, kept and flagged
    residents = Resident.objects.count()
    assert 2.0 <= residents / 3000 <= 3.0
    elderly = Resident.objects.filter(tags__contains=["elderly"]).count() / residents
    children = Resident.objects.filter(tags__contains=["child"]).count() / residents
    assert 0.17 <= elderly <= 0.23
    assert 0.12 <= children <= 0.18
    # member_count matches the residents written.
    sample = Household.objects.order_by("?")[:20]
    for household in sample:
        assert household.member_count == household.residents.count()


def test_urban_core_is_denser(district):
    urban = Household.objects.filter(grid__community__parent__code__lte="500118007").count()
    rural = Household.objects.filter(grid__community__parent__code__gt="500118007").count()
    urban_grids = Grid.objects.filter(community__parent__code__lte="500118007").count()
    rural_grids = Grid.objects.filter(community__parent__code__gt="500118007").count()
    assert urban / urban_grids > rural / rural_grids


def test_every_role_has_a_demo_user(district):
    roles = set(User.objects.filter(username__in=demo.DEMO_USERS).values_list("role", flat=True))
    assert roles == set(Role.values)
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    assert "gridworker" in out.getvalue() and demo.demo_password() in out.getvalue()
    assert all(g.leader_id and g.workers.exists() for g in Grid.objects.all()[:20])


def test_demo_is_deterministic_and_safe_to_run_twice(district):
    codes = list(Grid.objects.order_by("code").values_list("code", "name")[:50])
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
    assert Grid.objects.count() == 988
    call_command("demo", "--scale", "3000", "--reset", stdout=io.StringIO())
    assert list(Grid.objects.order_by("code").values_list("code", "name")[:50]) == codes
