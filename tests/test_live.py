"""Live events (#16, item 4): what is published on each change, who receives it (the same
rules as visible_to, for every role and another jurisdiction), the catch-up after a
Last-Event-ID, retention and its reset, and the refusals of /events/ (WSGI path)."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from grids.models import Level, Role
from grids.services import boundaries
from incidents.models import Incident
from live import services as live_services
from live import stream
from live.models import Event
from live.scope import scope_of
from sensors.models import AlertKind, Gateway, Sensor
from sensors.services import health
from sensors.services.registry import SensorSpec, create_sensor, issue_token, update_sensor
from tests.conftest import cell, centre_of
from tests.test_incident_loop import step


@pytest.fixture
def everyone(users, make_user, tree):
    """The conftest users and a district centre of another district."""
    other = boundaries.create_region(
        level=Level.DISTRICT,
        code="500999",
        name="别的区",
        geom=cell(107.0, 29.0, 107.1, 29.1),
        valid_from=tree.district.valid_from,
    )
    foreign = make_user("foreign", Role.DISTRICT_CENTRE, region=other)
    return {**vars(users), "foreign": foreign}


def receivers(everyone, event) -> set[str]:
    return {name for name, user in everyone.items() if scope_of(user).sees(event)}


def incident_viewers(everyone, incident) -> set[str]:
    return {
        name
        for name, user in everyone.items()
        if Incident.objects.visible_to(user).filter(pk=incident.pk).exists()
    }


def sensor_viewers(everyone, sensor) -> set[str]:
    return {
        name
        for name, user in everyone.items()
        if Sensor.objects.visible_to(user).filter(pk=sensor.pk).exists()
    }


def test_a_report_publishes_incident_created_to_those_who_see_it(everyone, incident):
    event = Event.objects.get(kind="incident.created")
    assert event.layers == ["incidents"]
    assert event.object["id"] == incident.pk
    assert event.object["url"] == f"/incidents/{incident.pk}/"
    assert event.object["status_label"] and event.object["lon"] and event.object["lat"]
    assert receivers(everyone, event) == incident_viewers(everyone, incident)
    assert receivers(everyone, event) == {"admin", "district", "street", "community", "worker"}


def test_each_step_publishes_incident_changed_and_a_whistle_reaches_the_department(
    everyone, users, incident, catalogue
):
    transport = users.department
    transport.department = catalogue["transport"]
    transport.save()
    step(incident, users.worker, "escalate")
    step(incident, users.community, "escalate")
    step(incident, users.street, "whistle", department="transport", whistle_class="urgent")
    changes = list(Event.objects.filter(kind="incident.changed").order_by("id"))
    assert [e.object["status"] for e in changes][-1] == "dispatched"
    assert len(changes) == 3
    everyone["department"] = transport
    last = changes[-1]
    assert receivers(everyone, last) == incident_viewers(everyone, incident)
    assert "department" in receivers(everyone, last)
    # Before the whistle the department had no part in it.
    assert "department" not in receivers(everyone, changes[0])


def test_nothing_is_published_by_a_rolled_back_write(tree, users, catalogue):
    with pytest.raises(RuntimeError), transaction.atomic():
        live_services.publish("incident.created", {"id": 1}, rule="incident", grid=1)
        raise RuntimeError("rolled back")
    assert not Event.objects.exists()


def test_publish_refuses_unknown_kinds_and_rules(db):
    with pytest.raises(ValueError):
        live_services.publish("incident.deleted", {}, rule="incident")
    with pytest.raises(ValueError):
        live_services.publish("incident.created", {}, rule="household")


@pytest.fixture
def devices(tree, users):
    gateway = Gateway.objects.create(code="hub-1", name="IoT hub", district=tree.district)
    made = {}
    for code, grid, department in (
        ("cam-1", (1, 1, 1), "civil-affairs"),
        ("cam-2", (2, 2, 2), None),
    ):
        sensor = create_sensor(
            SensorSpec(
                code=code,
                type="camera",
                location=centre_of(tree.grids[grid]),
                properties={"bearing": 90, "fov": 60, "range": 150},
                department=department,
            )
        )
        Sensor.objects.filter(pk=sensor.pk).update(gateway=gateway)
        made[code.replace("-", "_")] = sensor
    return SimpleNamespace(gateway=gateway, token=issue_token(gateway), **made)


def heartbeat(token, code, at, status=None):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    beat = {"sensor": code, "at": at.isoformat()}
    if status:
        beat["status"] = status
    response = client.post("/api/sensors/ingest/", {"heartbeats": [beat]}, format="json")
    assert response.status_code in (200, 201, 202), response.content


def test_a_fault_publishes_the_status_and_the_alert_to_those_who_see_the_device(everyone, devices):
    now = timezone.now().replace(microsecond=0)
    heartbeat(devices.token, "cam-1", now, "fault")
    status = Event.objects.get(kind="sensor.status")
    opened = Event.objects.get(kind="alert.opened")
    assert status.object["code"] == "cam-1" and status.object["status"] == "fault"
    assert opened.object["kind"] == AlertKind.FAULT and opened.object["sensor"] == devices.cam_1.pk
    viewers = sensor_viewers(everyone, devices.cam_1)
    assert receivers(everyone, status) == receivers(everyone, opened) == viewers
    assert "foreign" not in viewers and "other_worker" not in viewers
    heartbeat(devices.token, "cam-1", now + dt.timedelta(seconds=5), "online")
    closed = Event.objects.get(kind="alert.closed")
    assert closed.object["id"] == opened.object["id"]


def test_the_offline_sweep_publishes_each_device(everyone, devices, settings):
    Sensor.objects.update(status="online", created_at=timezone.now() - dt.timedelta(days=2))
    assert health.sweep_offline() == 2
    statuses = {e.object["code"]: e for e in Event.objects.filter(kind="sensor.status")}
    assert set(statuses) == {"cam-1", "cam-2"}
    assert Event.objects.filter(kind="alert.opened").count() == 2
    # A device of the department's district that it does not own: seen through grid_q.
    far = statuses["cam-2"]
    assert receivers(everyone, far) == sensor_viewers(everyone, devices.cam_2)
    assert "department" in receivers(everyone, far) and "street" not in receivers(everyone, far)


def test_a_status_set_by_hand_is_published_once(devices):
    update_sensor(devices.cam_1, status="maintenance")
    update_sensor(devices.cam_1, status="maintenance", name="东门")
    events = list(Event.objects.filter(kind="sensor.status"))
    assert [(e.object["code"], e.object["status"]) for e in events] == [("cam-1", "maintenance")]


def make_events(n, **keys):
    return live_services.publish_many(
        [
            live_services.event("incident.changed", {"n": i}, rule="incident", **keys)
            for i in range(n)
        ]
    )


def test_catch_up_sends_what_the_user_missed_and_resets_beyond_the_log(tree, users):
    mine = make_events(3, grid=tree.grids[(1, 1, 1)].pk, district=tree.district.pk)
    other = make_events(2, grid=tree.grids[(2, 2, 2)].pk, district=tree.district.pk)
    worker = scope_of(users.worker)
    rows, reset, newest = stream.catch_up(worker, mine[0].id)
    assert [e.id for e in rows] == [e.id for e in mine[1:]] and not reset
    assert newest == other[-1].id
    assert stream.catch_up(worker, None) == ([], False, other[-1].id)
    assert stream.catch_up(worker, newest + 50)[1] is True  # another database
    Event.objects.filter(id__lte=mine[1].id).delete()  # retention took them
    assert stream.catch_up(worker, mine[0].id - 1)[1] is True
    assert stream.catch_up(worker, mine[1].id)[1] is False
    # Retention emptied the log: a stream starts at the newest id all the same, and a client
    # that had it misses nothing.
    Event.objects.all().delete()
    assert stream.catch_up(worker, None) == ([], False, other[-1].id)
    assert stream.catch_up(worker, other[-1].id) == ([], False, other[-1].id)
    assert stream.catch_up(worker, mine[0].id)[1] is True


def test_old_events_are_pruned_beside_a_publish(tree, settings, monkeypatch):
    settings.GRIDLINE_LIVE_KEEP_HOURS = 24
    old = make_events(2, grid=1)
    Event.objects.filter(id__in=[e.id for e in old]).update(
        at=timezone.now() - dt.timedelta(hours=25)
    )
    monkeypatch.setattr(live_services, "PRUNE_EVERY", 1)
    make_events(1, grid=1)
    assert not Event.objects.filter(id__in=[e.id for e in old]).exists()
    assert Event.objects.count() == 1


def test_events_refuse_anonymous_and_bad_ids(users):
    anonymous = Client().get("/events/")
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["code"] == "not_authenticated"
    client = Client()
    client.force_login(users.worker)
    bad = client.get("/events/", HTTP_LAST_EVENT_ID="12abc")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "Last-Event-ID"
    assert client.get("/events/?last=-4").status_code == 400
    # Unicode digits int() refuses (review H6): "²", and a Last-Event-ID byte 0xB2.
    for bad in (
        client.get("/events/?last=%C2%B2"),
        client.get("/events/", HTTP_LAST_EVENT_ID="\xb2"),
        client.get("/events/?last=%D9%A3"),  # ARABIC-INDIC DIGIT THREE
    ):
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "Last-Event-ID"
    with pytest.raises(stream.BadLastId):
        stream.parse_last(None, "²")
    assert client.post("/events/").status_code == 405


def test_the_wsgi_stream_catches_up_within_the_scope(tree, users, settings):
    settings.GRIDLINE_LIVE_WSGI_SECONDS = 0
    first = make_events(1, grid=tree.grids[(1, 1, 1)].pk)[0]
    make_events(1, grid=tree.grids[(2, 2, 2)].pk)
    mine = make_events(1, grid=tree.grids[(1, 1, 1)].pk)[0]
    client = Client()
    client.force_login(users.worker)
    response = client.get("/events/", HTTP_LAST_EVENT_ID=str(first.id))
    assert response["Content-Type"] == "text/event-stream"
    text = b"".join(response.streaming_content).decode()
    frames = [f for f in text.split("\n\n") if f]
    assert frames[0].startswith("retry: 2000\nid: ") and "event: hello" in frames[0]
    assert frames[1].startswith(f"id: {mine.id}\nevent: incident.changed\ndata: ")
    data = json.loads(frames[1].split("data: ", 1)[1])
    assert data == {
        "id": mine.id,
        "kind": "incident.changed",
        "at": data["at"],
        "layers": [],
        "object": {"n": 0},
    }
    assert len(frames) == 2


def test_the_hello_id_is_the_newest_committed_event_not_the_sequence(tree, users):
    """Review L1: an id handed out to a transaction still open is below the sequence's
    value; a browser told that value would never get the event when it commits."""
    from django.db import connection

    grid = tree.grids[(1, 1, 1)].pk
    first = make_events(1, grid=grid)[0]
    with connection.cursor() as cursor:  # a writer that took the next id and is still open
        cursor.execute("SELECT nextval('live_event_id_seq')")
        (late_id,) = cursor.fetchone()
    worker = scope_of(users.worker)
    rows, reset, hello = stream.catch_up(worker, None)
    assert hello == first.id and not reset
    # It commits: a browser that reconnects from its hello id gets it.
    late = live_services.event("incident.changed", {"late": 1}, rule="incident", grid=grid)
    late.id = late_id
    late.save(force_insert=True)
    rows, reset, _ = stream.catch_up(worker, hello)
    assert [e.id for e in rows] == [late_id] and not reset


def test_the_live_app_keeps_its_raw_sql_in_its_sql_module():
    """Review M2 (the guide: raw SQL only in the app's `sql` module, with the why)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "live"
    statement = re.compile(r"[\"']\s*(SELECT|LISTEN|NOTIFY|INSERT|UPDATE|DELETE)\b")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "sql.py"
        and "migrations" not in path.parts
        and statement.search(path.read_text())
    ]
    assert offenders == []
