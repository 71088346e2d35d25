"""The live scope predicate (live/scope.py) against the querysets it mirrors: for every role
(and the odd cases: a tree role whose region is a district, a user without a jurisdiction,
an inactive one) and objects gridded, gridless, of another district and of a department,
`scope_of(user).sees(event)` must say exactly what `visible_to(user)` says of the object.
The predicate alone decides who receives another jurisdiction's events."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from grids.models import Department, Level, Role, User
from grids.services import boundaries
from incidents.models import Incident
from incidents.services import live as incident_live
from incidents.services.reporting import Report, report_incident
from live.models import Event
from live.scope import scope_of
from sensors.models import Sensor
from sensors.services import live as sensor_live
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import cell, centre_of

pytestmark = pytest.mark.django_db

FOREIGN_CELL = (107.0, 29.0, 107.1, 29.1)


@pytest.fixture
def foreign(tree):
    return boundaries.create_region(
        level=Level.DISTRICT,
        code="500999",
        name="别的区",
        geom=cell(*FOREIGN_CELL),
        valid_from=tree.district.valid_from,
    )


@pytest.fixture
def everyone(tree, users, make_user, catalogue, foreign):
    """Every role, and the cases a predicate gets wrong first."""
    foreign_department = Department.objects.create(
        code="foreign-water", name="别区水务局", district=foreign
    )
    superuser = make_user("root", "")
    superuser.is_superuser = True
    superuser.save()
    inactive = make_user("gone", Role.STREET_CENTRE, region=tree.streets[1])
    inactive.is_active = False
    inactive.save()
    return {
        **vars(users),
        "root": superuser,
        "transport": make_user("transport", Role.DEPARTMENT, department=catalogue["transport"]),
        "foreign": make_user("foreign", Role.DISTRICT_CENTRE, region=foreign),
        "foreign_department": make_user(
            "foreign_department", Role.DEPARTMENT, department=foreign_department
        ),
        # Tree roles whose region is a district: not the district centre (review M8).
        "street_on_district": make_user("street_d", Role.STREET_CENTRE, region=tree.district),
        "community_on_district": make_user(
            "community_d", Role.COMMUNITY_STAFF, region=tree.district
        ),
        "district_on_street": make_user("district_s", Role.DISTRICT_CENTRE, region=tree.streets[2]),
        # The database refuses these (user_jurisdiction_by_role); the rules must too.
        "worker_without_grid": User(username="nogrid", role=Role.GRID_WORKER),
        "department_without_one": User(username="nodept", role=Role.DEPARTMENT),
        "gone": inactive,
    }


def latest_event() -> Event:
    return Event.objects.latest("id")


def assert_parity(everyone, event, visible) -> None:
    wrong = {
        name: (scope_of(user).sees(event), visible(user))
        for name, user in everyone.items()
        if scope_of(user).sees(event) != visible(user)
    }
    assert not wrong, f"{event.kind} {event.object.get('id')}: (sees, visible_to) {wrong}"


def report(user, location, title):
    found, _ = report_incident(
        Report(title=title, category="T0101", source="patrol", location=location), user=user
    )
    return found


def test_incident_events_reach_exactly_those_who_see_the_incident(tree, everyone, foreign):
    incidents = [
        report(everyone["worker"], centre_of(tree.grids[(1, 1, 1)]), "东门积水"),
        report(everyone["other_worker"], centre_of(tree.grids[(2, 2, 2)]), "西街占道"),
        # Reported by a department: it reads its own report.
        report(everyone["department"], centre_of(tree.grids[(2, 1, 2)]), "民政巡查"),
        # In another district, in no grid (its district centre holds it).
        report(everyone["foreign"], Point(107.05, 29.05, srid=4326), "别区倒树"),
    ]
    # Dispatched to a department: the department sees it from then on.
    Incident.objects.filter(pk=incidents[1].pk).update(department=everyone["transport"].department)
    checked = 0
    for incident in incidents:
        incident.refresh_from_db()
        incident_live.changed(incident)
        event = latest_event()
        assert event.object["id"] == incident.pk
        assert_parity(
            everyone,
            event,
            lambda user, pk=incident.pk: Incident.objects.visible_to(user).filter(pk=pk).exists(),
        )
        checked += 1
    assert checked == 4


def test_sensor_events_reach_exactly_those_who_see_the_device(tree, everyone, foreign):
    def device(code, location, department=None):
        return create_sensor(
            SensorSpec(code=code, type="smoke_detector", location=location, department=department)
        )

    gridded_owned = device("cam-own", centre_of(tree.grids[(1, 1, 1)]), "civil-affairs")
    gridded = device("cam-2", centre_of(tree.grids[(2, 2, 2)]))
    gridless = device("cam-free", centre_of(tree.grids[(1, 2, 1)]))
    # A device that fell in no grid (placed by the district centre outside the grids).
    Sensor.objects.filter(pk=gridless.pk).update(grid=None, district=tree.district)
    gridless_owned = device("cam-free-own", centre_of(tree.grids[(2, 1, 1)]), "transport")
    Sensor.objects.filter(pk=gridless_owned.pk).update(grid=None, district=tree.district)
    elsewhere = device("cam-far", centre_of(tree.grids[(2, 2, 1)]))
    Sensor.objects.filter(pk=elsewhere.pk).update(
        grid=None, district=foreign, location=Point(107.05, 29.05, srid=4326)
    )
    for sensor in (gridded_owned, gridded, gridless, gridless_owned, elsewhere):
        sensor_live.statuses([sensor.pk])
        event = latest_event()
        assert event.object["id"] == sensor.pk
        assert_parity(
            everyone,
            event,
            lambda user, pk=sensor.pk: Sensor.objects.visible_to(user).filter(pk=pk).exists(),
        )
    # The case the review found: a tree role with a district region, a device in no grid.
    sensor_live.statuses([gridless.pk])
    event = latest_event()
    assert not scope_of(everyone["street_on_district"]).sees(event)
    assert scope_of(everyone["district"]).sees(event)
