"""Patrols (巡查, issue #18): a track saved from the phone with its length in metres and its
duration, the incidents found on the way attached whichever arrives first, patrol tasks
completed with a patrol, a wrong phone clock, the list and the figures (scoped, query counts
pinned) and the /field/patrols/ page."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone
from pyproj import Geod

from field.models import Patrol, PatrolIncident, TaskCompletion
from incidents.models import Task, TaskKind
from tests.field_push import item, push, send

# An L-shaped walk in grid 500118001001001: east 0.01°, then north 0.01°.
CORNERS = [(105.91, 29.31), (105.92, 29.31), (105.92, 29.32)]
# Every patrol of these tests started within the last day (whatever day of the month it is).
SINCE = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
LENGTH_M = Geod(ellps="WGS84").line_length(*zip(*CORNERS, strict=True))


def walk(start: dt.datetime, steps: int = 20) -> list[list]:
    """Fixes every 90 s along the L, plus one wild indoor fix that is left out of the track."""
    points = []
    for (x0, y0), (x1, y1) in zip(CORNERS, CORNERS[1:], strict=False):
        for i in range(steps):
            at = start + dt.timedelta(seconds=90 * len(points))
            points.append(
                [x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, at.isoformat(), 5.0]
            )
    points.append([*CORNERS[-1], (start + dt.timedelta(hours=1)).isoformat(), 4.0])
    points.insert(7, [105.95, 29.36, points[7][2], 850.0])
    return points


def patrol_data(start=None, minutes=60) -> dict:
    start = start or timezone.now() - dt.timedelta(hours=2)
    return {
        "started_at": start.isoformat(),
        "ended_at": (start + dt.timedelta(minutes=minutes)).isoformat(),
        "points": walk(start),
        "note": "沿河巡查",
    }


def save_patrol(client, key=None, **kwargs):
    return push(client, "patrol.save", patrol_data(**kwargs), key=key or uuid.uuid4())


def test_a_patrol_is_kept_with_its_length_in_metres_and_its_time(field_client, field_worker):
    key = uuid.uuid4()
    body = item("patrol.save", patrol_data(), key=key)
    answer = send(field_client, body)
    assert answer.status_code == 201, answer.json()
    record = answer.json()["record"]
    assert answer.json()["set"] == "patrols" and record["client_key"] == str(key)
    patrol = Patrol.objects.get()
    assert patrol.worker == field_worker.user and patrol.grid == field_worker.user.grid
    assert patrol.distance_m == pytest.approx(LENGTH_M, rel=0.01)
    assert record["distance_m"] == patrol.distance_m and record["duration_s"] == 3600
    assert patrol.track.srid == 4326 and len(patrol.track) == 41  # the wild fix left out
    assert len(patrol.points) == 42  # but kept as the phone reported it
    # The phone sends the same item again (its answer lost): the first patrol, once.
    again = send(field_client, body)
    assert again.status_code == 200 and Patrol.objects.count() == 1


@pytest.mark.parametrize("order", ["incident first", "patrol first"])
def test_incidents_found_on_the_way_attach_either_order(tree, catalogue, field_client, order):
    key = uuid.uuid4()
    report = {
        "category": "T0101",
        "description": "路灯不亮",
        "lon": 105.915,
        "lat": 29.31,
        "patrol_client_key": str(key),
    }
    if order == "patrol first":
        save_patrol(field_client, key)
    reported = push(field_client, "incident.report", report)
    assert reported.status_code == 201, reported.json()
    if order == "incident first":
        assert not PatrolIncident.objects.exists()
        saved = save_patrol(field_client, key)
    link = PatrolIncident.objects.get()
    assert link.incident_id == reported.json()["record"]["id"]
    assert link.patrol.client_key == key
    if order == "incident first":
        assert saved.json()["record"]["incident_ids"] == [link.incident_id]


def test_a_patrol_task_is_completed_with_a_patrol(tree, users, field_client):
    task = Task.objects.create(
        title="河道巡查",
        kind=TaskKind.PATROL,
        grid=tree.grids[(1, 1, 1)],
        due_on=timezone.localdate(),
    )
    answer = push(field_client, "task.complete", {"note": "巡查完毕"}, target=task.pk)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "patrol_required"
    key = uuid.uuid4()
    answer = push(field_client, "task.complete", {"patrol_client_key": str(key)}, target=task.pk)
    assert answer.json()["errors"][0]["code"] == "unknown_patrol"
    save_patrol(field_client, key)
    answer = push(field_client, "task.complete", {"patrol_client_key": str(key)}, target=task.pk)
    assert answer.status_code == 201, answer.json()
    assert TaskCompletion.objects.get().patrol.client_key == key


def test_a_phone_clock_in_the_future_or_long_past_is_not_the_patrol_s_time(field_client):
    for start in (
        dt.datetime(2031, 5, 1, 8, tzinfo=dt.UTC),
        dt.datetime(1999, 5, 1, 8, tzinfo=dt.UTC),
    ):
        before = timezone.now()
        answer = save_patrol(field_client, start=start, minutes=45)
        assert answer.status_code == 201, answer.json()
        patrol = Patrol.objects.get(pk=answer.json()["record"]["id"])
        assert before <= patrol.ended_at <= timezone.now()
        assert patrol.ended_at - patrol.started_at == dt.timedelta(minutes=45)
        assert patrol.points[0][2] == start.isoformat()  # the phone's own times are kept


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"ended_at": "2020-01-01T00:00:00Z"}, "ends_before_start", "ended_at"),
        ({"started_at": "noon"}, "invalid", "started_at"),
        ({"points": [[105.91, 29.31], [105.91, 999]]}, "invalid", "points.1"),
        ({"points": [[105.91, 29.31, None, -3]]}, "invalid", "points.0"),
        ({"points": "track"}, "invalid", "points"),
        ({"colour": "red"}, "unknown_field", "colour"),
    ],
)
def test_a_bad_patrol_names_the_field(field_client, change, code, field):
    answer = push(field_client, "patrol.save", patrol_data() | change)
    assert answer.status_code == 400, answer.json()
    error = answer.json()["errors"][0]
    assert (error["code"], error["field"]) == (code, field)
    assert not Patrol.objects.exists()


def test_a_patrol_longer_than_a_day_is_refused(field_client):
    answer = save_patrol(field_client, minutes=25 * 60)
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "ended_at"


# --- the list, the figures and the page -----------------------------------------------------


@pytest.fixture
def patrolled(tree, users, field_client, make_user):
    """Two patrols of the field worker, one of a second worker of the same community."""
    save_patrol(field_client)
    save_patrol(field_client, start=timezone.now() - dt.timedelta(hours=5), minutes=30)
    teammate = make_user("teammate", "grid_worker", grid=tree.grids[(1, 1, 2)])
    Patrol.objects.create(
        client_key=uuid.uuid4(),
        worker=teammate,
        grid=tree.grids[(1, 1, 2)],
        started_at=timezone.now() - dt.timedelta(hours=3),
        ended_at=timezone.now() - dt.timedelta(hours=1),
        distance_m=1500,
        duration_s=7200,
    )
    return teammate


def test_the_list_is_scoped_and_carries_the_tracks(
    users, patrolled, api, django_assert_num_queries
):
    with django_assert_num_queries(2):
        rows = api(users.community).get(f"/api/field/patrols/?date_from={SINCE}").json()
    assert len(rows) == 3
    mine = [r for r in rows if r["worker"] == "worker"]
    assert mine[0]["track"]["type"] == "LineString"
    assert {
        r["grid"] for r in api(users.worker).get(f"/api/field/patrols/?date_from={SINCE}").json()
    } == {"500118001001001"}
    assert api(users.other_worker).get("/api/field/patrols/").json() == []
    assert api(users.department).get("/api/field/patrols/").json() == []
    only = api(users.community).get(f"/api/field/patrols/?worker=teammate&date_from={SINCE}").json()
    assert [r["worker"] for r in only] == ["teammate"]
    assert api(users.community).get("/api/field/patrols/?date_from=2026-13-01").status_code == 400


def test_figures_per_worker_and_per_grid(users, patrolled, api, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = (
            api(users.community)
            .get(f"/api/field/patrols/figures/?by=worker&date_from={SINCE}")
            .json()
        )
    by_name = {r["username"]: r for r in rows}
    assert by_name["worker"]["count"] == 2 and by_name["worker"]["hours"] == 1.5
    assert by_name["worker"]["km"] == pytest.approx(2 * LENGTH_M / 1000, abs=0.02)
    assert (by_name["teammate"]["hours"], by_name["teammate"]["km"]) == (2.0, 1.5)
    assert "other_worker" not in by_name
    with django_assert_num_queries(2):
        grids = (
            api(users.community)
            .get(f"/api/field/patrols/figures/?by=grid&date_from={SINCE}")
            .json()
        )
    assert [(g["code"], g["count"]) for g in grids] == [
        ("500118001001001", 2),
        ("500118001001002", 1),
    ]
    assert api(users.community).get("/api/field/patrols/figures/?by=day").status_code == 400


def test_the_page_is_for_community_staff_and_above(users, patrolled):
    client = Client()
    assert client.get("/field/patrols/").status_code == 302
    for user, status in [
        (users.community, 200),
        (users.street, 200),
        (users.admin, 200),
        (users.worker, 403),
        (users.department, 403),
    ]:
        client.force_login(user)
        assert client.get("/field/patrols/").status_code == status, user.username
    client.force_login(users.community)
    page = client.get("/field/patrols/").content.decode()
    assert "巡查" in page and "teammate" in page


def test_the_admin_shows_patrols_and_receipts_read_only(users, patrolled):
    users.admin.is_staff = True
    users.admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(users.admin)
    patrol = Patrol.objects.filter(worker=users.worker).first()
    for url in (
        "/admin/field/patrol/",
        f"/admin/field/patrol/{patrol.pk}/change/",
        "/admin/field/outboxreceipt/",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
    assert client.get("/admin/field/patrol/add/").status_code == 403
