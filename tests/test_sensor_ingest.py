"""Live data (#6, item 2): bulk ingest of readings and heartbeats with its bad inputs,
idempotency and query count, the offline sweep with its alerts and notifications, reading
partitions and the readings series."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import Notification
from sensors.models import AlertKind, Gateway, Reading, Sensor, SensorAlert, SensorType, Status
from sensors.services import health, readings
from sensors.services.registry import SensorSpec, create_sensor, issue_token
from sensors.sql import readings as readings_sql
from tests.conftest import centre_of

URL = "/api/sensors/ingest/"
SERIES = "/api/sensors/readings/"
PROPS = {
    "water_tank": {"capacity_m3": 200},
    "camera": {"bearing": 90, "fov": 60, "range": 150},
    "temp_humidity": {},
    "smoke_detector": {},
    "door": {},
}


def iso(at: dt.datetime) -> str:
    return at.isoformat()


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def make_sensor(tree, users):
    def make(code, type_="water_tank", grid=(1, 1, 1), gateway=None, **fields) -> Sensor:
        sensor = create_sensor(
            SensorSpec(
                code=code,
                type=type_,
                location=centre_of(tree.grids[grid]),
                properties=PROPS[type_],
                department="civil-affairs",
                **fields,
            )
        )
        if gateway is not None:
            Sensor.objects.filter(pk=sensor.pk).update(gateway=gateway)
            sensor.refresh_from_db()
        return sensor

    return make


@pytest.fixture
def gw(tree):
    gateway = Gateway.objects.create(code="hub-1", name="IoT hub", district=tree.district)
    return SimpleNamespace(gateway=gateway, token=issue_token(gateway))


@pytest.fixture
def device():
    def client(token: str | None) -> APIClient:
        c = APIClient()
        if token is not None:
            c.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return c

    return client


def post(client, body):
    return client.post(URL, body, format="json")


def reading(code, at, **values) -> dict:
    return {"sensor": code, "at": iso(at), "values": values}


# --- a good batch, a resend -------------------------------------------------------------


def test_a_good_batch_is_stored_and_brings_devices_online(make_sensor, gw, device, now):
    tank = make_sensor("tank-1", gateway=gw.gateway)
    meter = make_sensor("th-1", "temp_humidity", gateway=gw.gateway)
    at = now - dt.timedelta(minutes=1)
    response = post(
        device(gw.token),
        {
            "readings": [
                reading("tank-1", at, level_pct=80),
                reading("tank-1", at - dt.timedelta(minutes=5), level_pct=82),
                reading("th-1", at, temperature_c=21.5, humidity_pct=60),
            ],
            "heartbeats": [{"sensor": "th-1", "at": iso(now)}],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "accepted": {"readings": 3, "heartbeats": 1},
        "duplicates": 0,
        "rejected": [],
    }
    assert Reading.objects.filter(sensor=tank).count() == 2
    tank.refresh_from_db()
    meter.refresh_from_db()
    assert tank.status == meter.status == Status.ONLINE
    assert tank.latest == {"level_pct": 80} and tank.latest_at == at
    assert tank.last_seen_at == at and meter.last_seen_at == now
    gw.gateway.refresh_from_db()
    assert gw.gateway.last_seen_at is not None


def test_a_resent_batch_is_stored_once_and_counted_as_duplicates(make_sensor, gw, device, now):
    make_sensor("tank-1", gateway=gw.gateway)
    body = {
        "readings": [
            reading("tank-1", now - dt.timedelta(minutes=m), level_pct=70) for m in (1, 2, 3)
        ]
    }
    assert post(device(gw.token), body).json()["accepted"]["readings"] == 3
    again = post(device(gw.token), body).json()
    assert again["accepted"]["readings"] == 0
    assert again["duplicates"] == 3
    assert Reading.objects.count() == 3


def test_a_device_token_reports_for_itself_only(make_sensor, device, now):
    tank = make_sensor("tank-1")
    other = make_sensor("tank-2")
    token = issue_token(tank)
    response = post(
        device(token),
        {"readings": [reading("tank-1", now, level_pct=50), reading("tank-2", now, level_pct=50)]},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["accepted"]["readings"] == 1
    assert [(r["index"], r["sensor"], r["code"]) for r in data["rejected"]] == [
        (1, "tank-2", "unknown_sensor")
    ]
    assert not Reading.objects.filter(sensor=other).exists()


# --- bad rows ------------------------------------------------------------------------------


def test_a_partial_batch_stores_the_good_rows_and_lists_the_bad(make_sensor, gw, device, now):
    make_sensor("tank-1", gateway=gw.gateway)
    response = post(
        device(gw.token),
        {
            "readings": [
                reading("tank-1", now, level_pct=60),
                reading("no-such", now, level_pct=60),
                {"sensor": "tank-1", "at": "yesterday", "values": {"level_pct": 1}},
                reading("tank-1", now - dt.timedelta(minutes=1), level_pct=150),
                reading("tank-1", now, level_pct=61),
                {"sensor": "tank-1", "at": "2025-01-01T00:00:00", "values": {}},
                "not a row",
                # A NUL in a code names no device (PostgreSQL text cannot hold one).
                reading("tank-1\x00", now, level_pct=60),
            ],
            "heartbeats": [{"sensor": "tank-1", "at": iso(now), "status": "asleep"}],
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["accepted"] == {"readings": 1, "heartbeats": 0}
    rejected = {(r["kind"], r["index"], r["field"], r["code"]) for r in data["rejected"]}
    assert rejected == {
        ("reading", 1, "sensor", "unknown_sensor"),
        ("reading", 2, "at", "invalid_time"),
        ("reading", 3, "values.level_pct", "schema_maximum"),
        ("reading", 4, "at", "duplicate_in_batch"),
        ("reading", 5, "at", "invalid_time"),  # no UTC offset
        ("reading", 6, "", "not_an_object"),
        ("reading", 7, "sensor", "unknown_sensor"),
        ("heartbeat", 0, "status", "invalid_status"),
    }
    assert all(r["message"] for r in data["rejected"])
    assert {r["sensor"] for r in data["rejected"] if r["index"] == 1} == {"no-such"}
    assert list(Reading.objects.values_list("values", flat=True)) == [{"level_pct": 60}]


def test_readings_from_the_future_or_past_the_retention_are_refused(
    make_sensor, gw, device, now, settings
):
    settings.GRIDLINE_READINGS_FUTURE_SECONDS = 300
    settings.GRIDLINE_READINGS_RETENTION_DAYS = 30
    make_sensor("tank-1", gateway=gw.gateway)
    response = post(
        device(gw.token),
        {
            "readings": [
                reading("tank-1", now + dt.timedelta(seconds=200), level_pct=50),
                reading("tank-1", now + dt.timedelta(hours=1), level_pct=50),
                reading("tank-1", now - dt.timedelta(days=31), level_pct=50),
            ]
        },
    )
    data = response.json()
    assert data["accepted"]["readings"] == 1
    assert [(r["index"], r["code"]) for r in data["rejected"]] == [(1, "future"), (2, "too_old")]


def test_a_batch_with_every_row_bad_is_refused_with_400(make_sensor, tree, device, gw, now):
    other_gateway = Gateway.objects.create(code="hub-2", name="other", district=tree.district)
    make_sensor("cam-theirs", "camera", gateway=other_gateway)
    response = post(
        device(gw.token),
        {"readings": [reading("cam-theirs", now, online=True), reading("nope", now)]},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["row"], e["code"], e["feature"], e["field"]) for e in errors] == [
        (0, "unknown_sensor", "cam-theirs", "readings.sensor"),
        (1, "unknown_sensor", "nope", "readings.sensor"),
    ]
    assert not Reading.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ([], None),
        ({"readings": {"sensor": "x"}}, "readings"),
        ({"readings": [], "heartbeat": []}, "heartbeat"),
    ],
)
def test_a_malformed_body_is_refused_whole(gw, device, body, field):
    response = post(device(gw.token), body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_too_many_rows_are_refused_whole(make_sensor, gw, device, now, settings):
    settings.GRIDLINE_INGEST_MAX_ROWS = 3
    make_sensor("tank-1", gateway=gw.gateway)
    rows = [reading("tank-1", now - dt.timedelta(minutes=m), level_pct=50) for m in range(4)]
    response = post(device(gw.token), {"readings": rows})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_many_rows"
    assert not Reading.objects.exists()


# --- who may post --------------------------------------------------------------------------


def test_only_device_tokens_may_post(make_sensor, gw, device, users, now):
    make_sensor("tank-1", gateway=gw.gateway)
    body = {"readings": [reading("tank-1", now, level_pct=50)]}
    assert post(device("not-a-token"), body).status_code == 401
    assert post(device(None), body).status_code == 401
    session = APIClient()
    session.force_login(users.admin)
    assert post(session, body).status_code in (401, 403)
    forced = APIClient()
    forced.force_authenticate(users.admin)
    assert post(forced, body).status_code in (401, 403)
    gw.gateway.active = False
    gw.gateway.save()
    assert post(device(gw.token), body).status_code == 401
    assert not Reading.objects.exists()


# --- what a batch does to its devices ------------------------------------------------------


def test_a_late_reading_does_not_overwrite_the_latest(make_sensor, gw, device, now):
    tank = make_sensor("tank-1", gateway=gw.gateway)
    post(device(gw.token), {"readings": [reading("tank-1", now, level_pct=90)]})
    late = post(
        device(gw.token),
        {"readings": [reading("tank-1", now - dt.timedelta(hours=1), level_pct=40)]},
    )
    assert late.json()["accepted"]["readings"] == 1
    tank.refresh_from_db()
    assert tank.latest == {"level_pct": 90}
    assert tank.latest_at == now
    assert tank.last_seen_at == now


def test_maintenance_is_kept_and_fault_comes_from_heartbeats(make_sensor, gw, device, now):
    kept = make_sensor("tank-1", gateway=gw.gateway, status=Status.MAINTENANCE)
    cam = make_sensor("cam-1", "camera", gateway=gw.gateway)
    post(
        device(gw.token),
        {
            "readings": [reading("tank-1", now, level_pct=90)],
            "heartbeats": [{"sensor": "cam-1", "at": iso(now), "status": "fault"}],
        },
    )
    kept.refresh_from_db()
    cam.refresh_from_db()
    assert kept.status == Status.MAINTENANCE and kept.last_seen_at == now
    assert cam.status == Status.FAULT
    assert SensorAlert.objects.get(sensor=cam, ended_at__isnull=True).kind == AlertKind.FAULT
    later = now + dt.timedelta(seconds=30)
    post(device(gw.token), {"heartbeats": [{"sensor": "cam-1", "at": iso(later)}]})
    cam.refresh_from_db()
    assert cam.status == Status.FAULT  # a plain heartbeat does not clear a fault
    post(
        device(gw.token),
        {"heartbeats": [{"sensor": "cam-1", "at": iso(later), "status": "online"}]},
    )
    cam.refresh_from_db()
    assert cam.status == Status.ONLINE
    assert not SensorAlert.objects.filter(sensor=cam, ended_at__isnull=True).exists()


def test_a_low_water_level_opens_an_alert_that_ends_when_refilled(
    make_sensor, gw, device, now, settings
):
    settings.GRIDLINE_TANK_LOW_PCT = 30
    tank = make_sensor("tank-1", gateway=gw.gateway)
    for minutes, level in ((3, 20), (2, 15)):
        body = {
            "readings": [reading("tank-1", now - dt.timedelta(minutes=minutes), level_pct=level)]
        }
        post(device(gw.token), body)
    alert = SensorAlert.objects.get(sensor=tank, kind=AlertKind.LOW_LEVEL)
    assert alert.ended_at is None and alert.details["level_pct"] == 20
    post(device(gw.token), {"readings": [reading("tank-1", now, level_pct=95)]})
    alert.refresh_from_db()
    assert alert.ended_at is not None


def test_queries_per_batch_do_not_grow_with_its_size(make_sensor, gw, device, now):
    for i in range(10):
        make_sensor(f"th-{i}", "temp_humidity", gateway=gw.gateway)
    client = device(gw.token)

    def batch(start: dt.datetime, per_sensor: int) -> dict:
        return {
            "readings": [
                reading(f"th-{i}", start - dt.timedelta(seconds=s), temperature_c=20 + i)
                for i in range(10)
                for s in range(per_sensor)
            ],
            "heartbeats": [{"sensor": f"th-{i}", "at": iso(now)} for i in range(10)],
        }

    post(client, batch(now - dt.timedelta(hours=2), 1))  # all online, partitions known
    with CaptureQueriesContext(connection) as small:
        assert post(client, batch(now - dt.timedelta(hours=1), 1)).json()["accepted"] == {
            "readings": 10,
            "heartbeats": 10,
        }
    with CaptureQueriesContext(connection) as large:
        assert post(client, batch(now, 50)).json()["accepted"]["readings"] == 500
    assert len(large) == len(small) <= 10


def test_a_month_without_a_partition_is_made_on_the_way(make_sensor, gw, device, now):
    tank = make_sensor("tank-1", gateway=gw.gateway)
    month = readings.month_of(now)
    readings.ensure_for([month])
    # Gone behind this process's back (another process's job, a rolled-back transaction).
    readings_sql.drop_partition(readings.partition_name(month))
    response = post(device(gw.token), {"readings": [reading("tank-1", now, level_pct=50)]})
    assert response.json()["accepted"]["readings"] == 1
    assert Reading.objects.filter(sensor=tank).count() == 1
    assert readings.partition_name(month) in readings_sql.partition_names()


# --- the offline sweep ---------------------------------------------------------------------


def test_silent_devices_go_offline_by_their_type_or_the_default(
    make_sensor, gw, device, now, settings
):
    settings.GRIDLINE_SENSOR_OFFLINE_AFTER = 900
    SensorType.objects.filter(code="camera").update(offline_after=dt.timedelta(minutes=2))
    cam = make_sensor("cam-1", "camera", gateway=gw.gateway)
    tank = make_sensor("tank-1", gateway=gw.gateway)
    post(
        device(gw.token),
        {"heartbeats": [{"sensor": c, "at": iso(now)} for c in ("cam-1", "tank-1")]},
    )
    assert health.sweep_offline(now + dt.timedelta(minutes=1)) == 0
    assert health.sweep_offline(now + dt.timedelta(minutes=5)) == 1  # the camera's 2 min
    cam.refresh_from_db()
    tank.refresh_from_db()
    assert (cam.status, tank.status) == (Status.OFFLINE, Status.ONLINE)
    assert health.sweep_offline(now + dt.timedelta(minutes=16)) == 1  # the default 15 min
    assert health.sweep_offline(now + dt.timedelta(minutes=30)) == 0
    alerts = SensorAlert.objects.filter(kind=AlertKind.OFFLINE)
    assert sorted(alerts.values_list("sensor__code", flat=True)) == ["cam-1", "tank-1"]
    assert all(a.ended_at is None for a in alerts)


def test_maintenance_devices_are_not_swept(make_sensor, now):
    make_sensor("tank-1", status=Status.MAINTENANCE)
    Sensor.objects.update(last_seen_at=now - dt.timedelta(days=1))
    assert health.sweep_offline(now) == 0
    assert Sensor.objects.get().status == Status.MAINTENANCE


def test_one_notification_per_recipient_per_sweep(make_sensor, users, now):
    for i in range(5):
        make_sensor(f"cam-{i}", "camera", grid=(1, 1, i % 2 + 1), status=Status.ONLINE)
    make_sensor("tank-far", grid=(2, 2, 2), status=Status.ONLINE)
    Sensor.objects.update(last_seen_at=now - dt.timedelta(hours=1))
    assert health.sweep_offline(now) == 6
    per_user = {
        n.user.username: n
        for n in Notification.objects.filter(kind=health.NOTIFICATION_KIND).select_related("user")
    }
    assert Notification.objects.filter(kind=health.NOTIFICATION_KIND).count() == len(per_user)
    # The street 1 and community (1, 1) staff hold the five cameras; the department owns all.
    assert set(per_user) == {"street", "community", "department"}
    assert "5" in per_user["street"].title and "5" in per_user["community"].title
    assert "6" in per_user["department"].title
    assert SensorAlert.objects.filter(kind=AlertKind.OFFLINE).count() == 6


def test_a_device_back_online_ends_its_offline_alert(make_sensor, gw, device, now):
    tank = make_sensor("tank-1", gateway=gw.gateway, status=Status.ONLINE)
    Sensor.objects.update(last_seen_at=now - dt.timedelta(hours=1))
    assert health.sweep_offline(now) == 1
    alert = SensorAlert.objects.get(sensor=tank, kind=AlertKind.OFFLINE)
    post(device(gw.token), {"heartbeats": [{"sensor": "tank-1", "at": iso(now)}]})
    tank.refresh_from_db()
    alert.refresh_from_db()
    assert tank.status == Status.ONLINE
    assert alert.ended_at is not None
    assert health.sweep_offline(now + dt.timedelta(hours=1)) == 1
    assert SensorAlert.objects.filter(sensor=tank, ended_at__isnull=True).count() == 1


# --- partitions ----------------------------------------------------------------------------


def test_partitions_are_made_ahead_and_dropped_after_the_retention(db, settings):
    settings.GRIDLINE_READINGS_RETENTION_DAYS = 60
    today = dt.date(2031, 5, 20)
    created, dropped = readings.maintain_partitions(today)
    names = readings_sql.partition_names()
    for month in ("203103", "203104", "203105", "203106", "203107"):
        assert f"sensors_reading_p{month}" in names
        assert f"sensors_reading_p{month}" in created
    assert "sensors_reading_p203108" not in names
    # Every partition wholly before 21 March 2031 goes, including this year's from migrate.
    current = readings.partition_name(readings.month_of(dt.datetime.now(dt.UTC)))
    assert current in dropped
    assert not any(n < "sensors_reading_p203103" for n in names)
    assert readings.maintain_partitions(today) == ([], [])


def test_ensure_partitions_is_idempotent(db):
    created = readings.ensure_partitions(dt.date(2040, 1, 15), dt.date(2040, 3, 1))
    assert created == [f"sensors_reading_p20400{m}" for m in (1, 2, 3)]
    assert readings.ensure_partitions(dt.date(2040, 1, 1), dt.date(2040, 3, 31)) == []


# --- the readings series -------------------------------------------------------------------


def test_the_series_is_newest_first_and_scoped(make_sensor, gw, device, api, users, now):
    tank = make_sensor("tank-1", gateway=gw.gateway)
    rows = [reading("tank-1", now - dt.timedelta(hours=h), level_pct=50 + h) for h in range(5)]
    post(device(gw.token), {"readings": rows})
    response = api(users.worker).get(SERIES, {"sensor": tank.pk})
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == "tank-1"
    assert [r["values"]["level_pct"] for r in data["readings"]] == [50, 51, 52, 53, 54]
    window = api(users.worker).get(
        SERIES,
        {
            "sensor": tank.pk,
            "since": iso(now - dt.timedelta(hours=3)),
            "until": iso(now - dt.timedelta(hours=1)),
            "limit": 1,
        },
    )
    assert [r["values"]["level_pct"] for r in window.json()["readings"]] == [52]
    assert api(users.other_worker).get(SERIES, {"sensor": tank.pk}).status_code == 404
    assert api(users.department).get(SERIES, {"sensor": tank.pk}).status_code == 200
    assert api().get(SERIES, {"sensor": tank.pk}).status_code in (401, 403)
    assert api(users.worker).get(SERIES, {"sensor": "x"}).status_code == 400


# --- the quick schema check and odd values -------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"temperature_c": 20, "humidity_pct": 55.5},
        {},
        {"temperature_c": -61},
        {"temperature_c": True},
        {"temperature_c": "20"},
        {"humidity_pct": 100.0001},
        {"wind": 3},
        [],
        None,
    ],
)
def test_the_quick_check_never_passes_what_the_schema_refuses(values):
    from jsonschema import Draft202012Validator

    from sensors.catalogue import TYPES
    from sensors.services.ingest import fast_check

    schema = next(readings for code, *_, readings, _s, _c in TYPES if code == "temp_humidity")
    check = fast_check(schema)
    assert check is not None
    assert check(values) == Draft202012Validator(schema).is_valid(values)


def test_strings_with_quotes_and_backslashes_are_stored_as_sent(tree, gw, device, now):
    from sensors.models import SensorType

    SensorType.objects.create(
        code="gauge",
        name="gauge",
        readings_schema={
            "type": "object",
            "properties": {"note": {"type": "string", "maxLength": 50}, "n": {"type": "integer"}},
        },
    )
    sensor = create_sensor(
        SensorSpec(code="g-1", type="gauge", location=centre_of(tree.grids[(1, 1, 1)]))
    )
    values = {"note": 'a "quoted" \\ back, {brace} NULL 水位', "n": 3}
    response = post(device(gw.token), {"readings": [reading("g-1", now, **values)]})
    assert response.json()["accepted"]["readings"] == 1
    assert Reading.objects.get(sensor=sensor).values == values
    sensor.refresh_from_db()
    assert sensor.latest == values


def test_the_jobs_run_the_sweep_and_the_partition_upkeep(make_sensor, now):
    from sensors import jobs

    make_sensor("tank-1", status=Status.ONLINE)
    Sensor.objects.update(last_seen_at=now - dt.timedelta(days=1))
    jobs.sweep_offline(int(now.timestamp()))
    jobs.maintain_readings(int(now.timestamp()))
    assert Sensor.objects.get().status == Status.OFFLINE
    ahead = readings.last_month_ahead(now.date())
    assert readings.partition_name(readings.month_of(ahead)) in readings_sql.partition_names()


def test_a_nul_character_refuses_its_row_not_the_batch(make_sensor, gw, device, now):
    SensorType.objects.create(
        code="door",
        name="门磁",
        role="detector",
        properties_schema={"type": "object"},
        readings_schema={"type": "object", "properties": {"state": {"type": "string"}}},
    )
    make_sensor("door-1", type_="door", gateway=gw.gateway)
    response = post(
        device(gw.token),
        {
            "readings": [
                {"sensor": "door-1", "at": iso(now), "values": {"state": "open\x00"}},
                {
                    "sensor": "door-1",
                    "at": iso(now - dt.timedelta(minutes=1)),
                    "values": {"state": "closed"},
                },
            ]
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["accepted"]["readings"] == 1
    assert [(r["index"], r["code"]) for r in data["rejected"]] == [(0, "invalid_text")]
