"""What drops kept past figures (issue #17, review R1 items 3, 5 and 6b): households closed or
registered as of a past day in the admin, buildings and units likewise; an indicator edited
while a report is computing it; and a back-dated write drops only its own district's figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from grids.changes import data_changed, data_changed_since
from grids.models import Level, UnitType
from grids.services import basedata, boundaries
from reports.models import DerivedSnapshot, Indicator
from reports.periods import Period
from reports.services import snapshots
from reports.services.indicators import sync_derived
from tests.conftest import VALID_FROM, cell, centre_of

TODAY = timezone.localdate()
LAST_MONTH = Period.containing(TODAY, "month").previous()
PAST = LAST_MONTH.start + dt.timedelta(days=9)


@pytest.fixture
def sent():
    """The data_changed signals sent (on commit), as (subject, since, grids)."""
    seen: list[tuple] = []

    def receiver(sender, subject, since, grids=None, **kwargs):
        seen.append((subject, since, grids))

    data_changed.connect(receiver)
    yield seen
    data_changed.disconnect(receiver)


def admin_of(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def household_form(household, **changes) -> dict:
    return {
        "address": household.address,
        "location": household.location.geojson,
        "registered_on": household.registered_on.isoformat(),
        "removed_on": "",
        "residents-TOTAL_FORMS": "0",
        "residents-INITIAL_FORMS": "0",
        "residents-MIN_NUM_FORMS": "0",
        "residents-MAX_NUM_FORMS": "1000",
        **changes,
    }


@pytest.fixture
def other_district(tree):
    """A second district with one grid, east of the first."""
    district = boundaries.create_region(
        level=Level.DISTRICT,
        code="500119",
        name="邻区",
        geom=cell(106.10, 29.30, 106.20, 29.40),
        valid_from=VALID_FROM,
    )
    street = boundaries.create_region(
        level=Level.STREET,
        code="500119001",
        name="邻街",
        geom=cell(106.10, 29.30, 106.20, 29.40),
        parent=district,
        valid_from=VALID_FROM,
    )
    community = boundaries.create_region(
        level=Level.COMMUNITY,
        code="500119001001",
        name="邻社区",
        geom=cell(106.10, 29.30, 106.20, 29.40),
        parent=street,
        valid_from=VALID_FROM,
    )
    return boundaries.create_grid(
        code="500119001001001",
        name="邻网格",
        community=community,
        geom=cell(106.10, 29.30, 106.20, 29.40),
        valid_from=VALID_FROM,
    )


def keep(indicator: Indicator, *grids) -> None:
    for grid in grids:
        DerivedSnapshot.objects.create(
            indicator=indicator,
            period_type=LAST_MONTH.type,
            period_start=LAST_MONTH.start,
            day=LAST_MONTH.last_day,
            grid=grid,
            value=Decimal(1),
        )


def test_a_household_closed_as_of_a_past_day_in_the_admin_drops_its_districts_figures(
    tree, users, add_household, other_district, sent, django_capture_on_commit_callbacks
):
    sync_derived()
    here = tree.grids[(1, 1, 1)]
    home = add_household(centre_of(here), registered_on=VALID_FROM)
    indicator = Indicator.objects.get(code="POP_HOUSEHOLDS")
    keep(indicator, here, tree.grids[(2, 2, 2)], other_district)
    client = admin_of(users.worker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/grids/household/{home.pk}/change/",
            household_form(home, removed_on=PAST.isoformat()),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sent == [("households", PAST, frozenset({here.pk}))]
    # Every grid of its district (a boundary change may have moved rows between them), and
    # nothing of the other district.
    assert list(DerivedSnapshot.objects.values_list("grid_id", flat=True)) == [other_district.pk]


def test_a_households_registration_moved_back_in_the_admin_is_announced_from_the_earlier_day(
    tree, users, add_household, sent, django_capture_on_commit_callbacks
):
    home = add_household(centre_of(tree.grids[(1, 1, 1)]), registered_on=TODAY)
    client = admin_of(users.worker)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/grids/household/{home.pk}/change/",
            household_form(home, registered_on=PAST.isoformat()),
        )
    assert [(subject, since) for subject, since, _ in sent] == [("households", PAST)]
    # An edit that moves no date announces nothing.
    sent.clear()
    home.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/grids/household/{home.pk}/change/", household_form(home, address="新地址")
        )
    assert response.status_code == 302
    assert sent == []


def test_a_building_or_unit_removed_as_of_a_past_day_in_the_admin_is_announced(
    tree, users, sent, django_capture_on_commit_callbacks
):
    where = Point(105.91, 29.32, srid=4326)
    block, _ = basedata.create_building(code="B-OLD", location=where, registered_on=VALID_FROM)
    client = admin_of(users.admin)
    form = {
        "code": block.code,
        "name": block.name,
        "use": block.use,
        "floors": "",
        "built_year": "",
        "address": block.address,
        "footprint": "",
        "location": block.location.geojson,
        "registered_on": VALID_FROM.isoformat(),
        "removed_on": PAST.isoformat(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/grids/building/{block.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [(subject, since) for subject, since, _ in sent] == [("buildings", PAST)]

    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/grids/unit/add/",
            {
                "name": "老店",
                "type": UnitType.objects.get(code="shop").pk,
                "location": where.geojson,
                "registered_on": PAST.isoformat(),
            },
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert [(subject, since) for subject, since, _ in sent] == [("units", PAST)]


def test_an_indicator_edited_while_a_report_computes_it_does_not_keep_the_old_figures(tree):
    sync_derived()
    indicator = Indicator.objects.get(code="POP_HOUSEHOLDS")
    grid = tree.grids[(1, 1, 1)].pk
    started = timezone.now()  # a report starts computing with the old definition
    indicator.description = "改过的口径"
    indicator.save()  # the edit commits meanwhile
    assert snapshots.write(indicator, LAST_MONTH, {grid: Decimal(1)}, started) == 0
    assert snapshots.write(indicator, LAST_MONTH, {grid: Decimal(1)}, timezone.now()) == 1


def test_a_drop_named_by_grids_keeps_other_districts_and_none_means_everywhere(
    tree, other_district
):
    sync_derived()
    indicator = Indicator.objects.get(code="POP_HOUSEHOLDS")
    mine = tree.grids[(1, 2, 1)]
    keep(indicator, mine, other_district)
    assert snapshots.drop_since(PAST, frozenset({mine.pk})) == 1
    assert list(DerivedSnapshot.objects.values_list("grid_id", flat=True)) == [other_district.pk]
    assert snapshots.drop_since(PAST) == 1
    assert not DerivedSnapshot.objects.exists()


def test_a_write_with_a_row_outside_every_grid_drops_everywhere(
    tree, sent, django_capture_on_commit_callbacks
):
    here = tree.grids[(1, 1, 1)].pk
    with django_capture_on_commit_callbacks(execute=True):
        data_changed_since("households", PAST, grids=[None, here])
        data_changed_since("households", PAST, grids=[here])
        data_changed_since("households", PAST)
    assert sent == [
        ("households", PAST, None),
        ("households", PAST, frozenset({here})),
        ("households", PAST, None),
    ]
