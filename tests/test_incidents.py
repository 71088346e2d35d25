"""Reporting incidents (#4, first part): keyed to the tree on write, idempotent under a race,
the reporter asked to confirm near a grid edge, bad input refused with nothing written, and a
timeline that can only be appended to."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import DatabaseError, connection, transaction

from grids.problems import ProblemsError
from incidents.models import Category, Incident, IncidentEvent, Status
from incidents.services import Report, report_incident
from tests.conftest import centre_of

DEADLINES = {"normal": {"register": 2, "dispatch": 4}, "urgent": {"register": 0.5}}


@pytest.fixture
def category(db):
    return Category.objects.create(code="T0101", name="井盖缺失", deadlines=DEADLINES)


def report(point, **kwargs) -> Report:
    fields = {"title": "井盖缺失", "category": "T0101", "source": "patrol"} | kwargs
    return Report(location=point, **fields)


def test_an_incident_is_keyed_to_its_grid_and_regions(tree, users, category):
    grid = tree.grids[(1, 2, 1)]
    incident, created = report_incident(report(centre_of(grid)), user=users.admin)
    assert created
    assert (incident.grid, incident.community, incident.street, incident.district) == (
        grid,
        tree.communities[(1, 2)],
        tree.streets[1],
        tree.district,
    )
    assert (incident.status, incident.level) == (Status.REPORTED, "grid")
    assert (incident.due_at - incident.reported_at).total_seconds() == 2 * 3600
    (event,) = IncidentEvent.objects.filter(incident=incident)
    assert (event.action, event.actor) == ("report", users.admin)


def test_priority_sets_the_deadline(tree, users, category):
    incident, _ = report_incident(
        report(centre_of(tree.grids[(1, 1, 1)]), priority="urgent"), user=users.admin
    )
    assert (incident.due_at - incident.reported_at).total_seconds() == 1800


def test_near_a_grid_edge_the_reporter_confirms_the_grid(tree, users, category):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    edge_x = west.boundary_on().extent[2]
    point = Point(edge_x - 0.0001, 29.32, srid=4326)  # about 10 m west of the shared edge
    with pytest.raises(ProblemsError) as refused:
        report_incident(report(point), user=users.admin)
    (problem,) = refused.value.problems
    assert (problem.code, problem.field) == ("near_grid_edge", "grid")
    assert west.code in problem.message and east.code in problem.message
    assert not Incident.objects.exists()
    incident, _ = report_incident(report(point, grid=east.code), user=users.admin)
    assert incident.grid == east
    with pytest.raises(ProblemsError) as far:
        report_incident(report(point, grid=tree.grids[(2, 2, 2)].code), user=users.admin)
    assert far.value.problems[0].code == "grid_not_near"


@pytest.mark.parametrize(
    "fields,code,field",
    [
        ({"category": "9999"}, "unknown_category", "category"),
        ({"priority": "whenever"}, "invalid_priority", "priority"),
        ({"source": "rumour"}, "invalid_source", "source"),
        ({"title": "  "}, "required", "title"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(tree, users, category, fields, code, field):
    with pytest.raises(ProblemsError) as refused:
        report_incident(report(centre_of(tree.grids[(1, 1, 1)]), **fields), user=users.admin)
    assert (refused.value.problems[0].code, refused.value.problems[0].field) == (code, field)
    assert not Incident.objects.exists()


def test_a_point_outside_the_district_is_refused(tree, users, category):
    with pytest.raises(ProblemsError) as refused:
        report_incident(report(Point(120.0, 31.0, srid=4326)), user=users.admin)
    assert refused.value.problems[0].code == "outside_district"


def test_a_grid_worker_reports_only_in_their_grid(tree, users, category):
    report_incident(report(centre_of(tree.grids[(1, 1, 1)])), user=users.worker)
    with pytest.raises(ProblemsError) as refused:
        report_incident(report(centre_of(tree.grids[(2, 2, 2)])), user=users.worker)
    assert refused.value.problems[0].code == "outside_jurisdiction"


def test_a_resend_creates_nothing_new(tree, users, category):
    key = uuid.uuid4()
    first, created = report_incident(
        report(centre_of(tree.grids[(1, 1, 1)]), client_key=key), user=users.worker
    )
    again, created_again = report_incident(
        report(centre_of(tree.grids[(1, 1, 1)]), client_key=key), user=users.worker
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    # The same key from another jurisdiction learns nothing about the incident.
    with pytest.raises(ProblemsError) as refused:
        report_incident(
            report(centre_of(tree.grids[(2, 2, 2)]), client_key=key), user=users.other_worker
        )
    assert refused.value.problems[0].code == "key_conflict"


def test_the_timeline_cannot_be_edited(tree, users, category):
    incident, _ = report_incident(report(centre_of(tree.grids[(1, 1, 1)])), user=users.admin)
    event = IncidentEvent.objects.get(incident=incident)
    for change in (
        lambda: IncidentEvent.objects.filter(pk=event.pk).update(comment="改写"),
        lambda: IncidentEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()


def test_incidents_are_scoped(tree, users, category):
    mine, _ = report_incident(report(centre_of(tree.grids[(1, 1, 1)])), user=users.admin)
    theirs, _ = report_incident(report(centre_of(tree.grids[(2, 2, 2)])), user=users.admin)
    seen = {
        name: set(Incident.objects.visible_to(getattr(users, name)).values_list("pk", flat=True))
        for name in ("admin", "district", "street", "community", "worker", "department")
    }
    assert seen["admin"] == seen["district"] == {mine.pk, theirs.pk}
    assert seen["street"] == seen["community"] == seen["worker"] == {mine.pk}
    assert seen["department"] == set()


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_in_a_race_makes_one_incident(tree, users, category):
    key = uuid.uuid4()
    point = centre_of(tree.grids[(1, 1, 1)])
    barrier = threading.Barrier(2)
    results, errors = [], []

    def submit():
        try:
            barrier.wait()
            results.append(report_incident(report(point, client_key=key), user=users.worker))
        except Exception as exc:  # reported below, never swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Incident.objects.filter(client_key=key).count() == 1
    assert sorted(created for _, created in results) == [False, True]
    assert len({incident.pk for incident, _ in results}) == 1
