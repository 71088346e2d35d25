"""The demo's incidents and tasks: keyed like reports, timelines the loop could have written."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from grids.services import demo
from incidents.models import (
    Category,
    Incident,
    IncidentEvent,
    Status,
    Task,
    TaskTarget,
    Visit,
    WhistleClass,
)
from incidents.services import demo as incident_demo
from incidents.services.transitions import OPEN, RULES


def test_catalogue_is_seeded_and_linked(district):
    assert Category.objects.filter(parent__isnull=True).count() >= 8
    assert Category.objects.filter(parent__isnull=False).count() >= 30
    assert set(WhistleClass.objects.values_list("code", flat=True)) >= {
        "emergency",
        "important",
        "general",
    }
    assert Category.objects.get(code="060101").escalate_when_overdue
    assert Category.objects.get(code="060101").department.code == "emergency"


def test_counts_scale_with_households(district):
    n = incident_demo.incident_count(3000)
    assert n == 630
    assert Incident.objects.count() == n
    assert f"{n:,} incidents" in district


def test_incidents_are_keyed_like_reports(district):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM incidents_incident i
            JOIN grids_grid g ON g.id = i.grid_id
            JOIN grids_region c ON c.id = g.community_id
            JOIN grids_gridboundary b ON b.grid_id = g.id AND b.valid_to IS NULL
            WHERE i.community_id = c.id AND i.street_id = c.parent_id
              AND i.district_id IS NOT NULL AND ST_Intersects(b.geom, i.location)
            """
        )
        (keyed,) = cursor.fetchone()
    assert keyed == Incident.objects.count()


def test_timelines_are_consistent(district):
    events = defaultdict(list)
    for event in IncidentEvent.objects.order_by("at", "id"):
        events[event.incident_id].append(event)
    incidents = list(Incident.objects.all())
    for incident in incidents:
        timeline = events[incident.pk]
        assert timeline[0].action == "report" and timeline[0].from_status == ""
        assert timeline[-1].to_status == incident.status, incident.pk
        # Every step bumps the version; the clock's overdue marks do not.
        steps = [e for e in timeline if e.action != "overdue"]
        assert incident.version == len(steps), incident.pk
        assert incident.overdue_count == len(timeline) - len(steps)
        assert incident.rework_count == sum(e.action == "rework" for e in timeline)
        for before, event in zip(timeline, timeline[1:], strict=False):
            assert event.from_status == before.to_status, (incident.pk, event.action)
            if event.action not in ("overdue", "merge"):
                assert event.from_status in RULES[event.action].statuses, (
                    incident.pk,
                    event.action,
                    event.from_status,
                )
        if incident.status in OPEN:
            assert incident.closed_at is None and incident.due_at is not None
            assert incident.step_overdue == (timeline[-1].action == "overdue")
        else:
            assert incident.closed_at is not None and incident.due_at is None
            assert not incident.step_overdue
        if incident.status == Status.ASSESSED:
            assert incident.department_score or incident.satisfaction
    statuses = {i.status for i in incidents}
    assert {Status.CLOSED, Status.ASSESSED} <= statuses
    assert statuses & OPEN
    assert any(i.whistle_class_id for i in incidents)


def test_tasks_and_visits(district):
    assert Task.objects.count() == 3 * Task.objects.values("grid").distinct().count() > 0
    assert TaskTarget.objects.count() > 0
    visited = TaskTarget.objects.filter(visit__isnull=False).count()
    assert visited >= 0.6 * TaskTarget.objects.count()
    assert Visit.objects.count() == visited
    for visit in Visit.objects.filter(flagged=True):
        assert visit.distance_m > 200
    assert not Visit.objects.filter(flagged=False, distance_m__gt=200).exists()
    for task in Task.objects.filter(done_at__isnull=False)[:50]:
        assert not task.targets.filter(visit__isnull=True).exists()


def test_reset_keeps_the_catalogue(district):
    # The module's teardown resets; the catalogue must survive it (checked here on a copy
    # of the rule: departments are cleared from categories, not the categories deleted).
    tables, keep, own = demo._other_demo_tables()
    assert "incidents_incident" in tables and "incidents_category" not in tables
    assert ("incidents_category", "department_id") in keep
    # Built-in sensor types survive; a district's own types go with the district.
    assert "sensors_sensortype" not in tables and "sensors_sensor" in tables
    assert ("sensors_sensortype", "district_id") in own
