"""Camera analytics alerts become incidents: idempotent per event, de-duplicated in time and
metres, refused with the field named."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone
from pyproj import Geod

from incidents.models import Incident
from sensors.models import Gateway, SensorAlert
from sensors.services import registry
from sensors.services.alerts import receive_alert
from sensors.services.registry import SensorSpec
from tests.conftest import centre_of

CAMERA = {"bearing": 0, "fov": 90, "range": 300}
GEOD = Geod(ellps="WGS84")


def offset(point: Point, metres: float) -> Point:
    lon, lat, _ = GEOD.fwd(point.x, point.y, 90, metres)
    return Point(lon, lat, srid=4326)


@pytest.fixture
def setup(tree, users, settings):
    settings.GRIDLINE_ALERT_DEDUP_MINUTES = 10
    settings.GRIDLINE_ALERT_DEDUP_METRES = 300
    gateway = Gateway.objects.create(code="hik", name="海康平台", district=tree.district)
    token = registry.issue_token(gateway)
    centre = centre_of(tree.grids[(1, 1, 1)])

    def camera(code, point, **extra):
        return registry.create_sensor(
            SensorSpec(code=code, type="camera", location=point, properties=CAMERA, **extra)
        )

    cams = {
        "a": camera("CAM-A", centre, name="东门"),
        "b": camera("CAM-B", offset(centre, 200)),  # 200 m east: the same smoke
        "c": camera("CAM-C", offset(centre, 1000)),  # 1 km east: another fire
    }
    cams["a"].gateway = gateway
    cams["a"].save()
    other = Gateway.objects.create(code="dahua", name="大华", district=tree.district)
    mine = camera("CAM-OTHER", offset(centre, 50))
    mine.gateway = other
    mine.save()
    return {"gateway": gateway, "token": token, "cams": cams, "tree": tree}


def post(client, token, **body):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post("/api/sensors/alerts/", body, format="json")


def alert(event_id="e1", camera="CAM-A", kind="smoke_fire", at=None, **extra):
    at = at or timezone.now()
    return {"event_id": event_id, "camera": camera, "kind": kind, "at": at.isoformat(), **extra}


def test_alert_becomes_an_urgent_incident_in_the_cameras_grid(api, setup):
    response = post(
        api(), setup["token"], **alert(confidence=0.93, snapshot="http://10.20.0.5/snap/1.jpg")
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] is True and body["deduplicated"] is False
    incident = Incident.objects.get(pk=body["incident"])
    assert incident.source == "sensor"
    assert incident.priority == "urgent"
    assert incident.category.code == "060601"
    assert incident.grid == setup["tree"].grids[(1, 1, 1)]
    assert incident.location.equals_exact(setup["cams"]["a"].location, 1e-9)
    assert "东门" in incident.title
    assert "http://10.20.0.5/snap/1.jpg" in incident.description
    assert incident.reporter.username == "gateway-hik"
    assert not incident.reporter.has_usable_password()
    row = SensorAlert.objects.get(pk=body["alert"])
    assert (row.kind, row.count, row.external_id) == ("smoke_fire", 1, "e1")


def test_other_kinds_are_normal_priority(api, setup):
    body = post(api(), setup["token"], **alert(kind="crowd")).json()
    incident = Incident.objects.get(pk=body["incident"])
    assert incident.priority == "normal"
    assert incident.category.code == "060701"


def test_resent_event_answers_the_same_and_makes_nothing(api, setup):
    client = api()
    first = post(client, setup["token"], **alert()).json()
    again = post(client, setup["token"], **alert())
    assert again.status_code == 200
    assert again.json()["alert"] == first["alert"]
    assert again.json()["incident"] == first["incident"]
    assert again.json()["created"] is False
    assert Incident.objects.count() == 1
    assert SensorAlert.objects.get().count == 1


def test_two_cameras_seeing_one_smoke_are_one_incident(api, setup):
    client = api()
    now = timezone.now()
    first = post(client, setup["token"], **alert(at=now)).json()
    second = post(
        client, setup["token"], **alert("e2", "CAM-B", at=now + dt.timedelta(minutes=3))
    ).json()
    assert second == {
        "alert": first["alert"],
        "incident": first["incident"],
        "created": False,
        "deduplicated": True,
    }
    row = SensorAlert.objects.get()
    assert row.count == 2
    assert row.last_at == now + dt.timedelta(minutes=3)
    assert row.details["seen_by"] == ["CAM-A", "CAM-B"]
    # The merged event resent is recognised too.
    resent = post(client, setup["token"], **alert("e2", "CAM-B", at=now + dt.timedelta(minutes=3)))
    assert resent.json()["deduplicated"] is False and resent.json()["alert"] == first["alert"]
    assert SensorAlert.objects.get().count == 2
    assert Incident.objects.count() == 1


def test_dedup_window_in_metres_and_minutes_and_kind(api, setup):
    client = api()
    now = timezone.now() - dt.timedelta(hours=1)
    first = post(client, setup["token"], **alert(at=now)).json()
    # 1 km away: another fire.
    far = post(client, setup["token"], **alert("e2", "CAM-C", at=now)).json()
    assert far["created"] is True and far["incident"] != first["incident"]
    # Same place, another kind: another incident.
    crowd = post(client, setup["token"], **alert("e3", kind="crowd", at=now)).json()
    assert crowd["created"] is True
    # Same place and kind after the window: a new incident.
    later = post(client, setup["token"], **alert("e4", at=now + dt.timedelta(minutes=11))).json()
    assert later["created"] is True and later["incident"] != first["incident"]
    assert Incident.objects.count() == 4


def test_a_closed_incident_ends_its_alert(api, setup):
    client = api()
    now = timezone.now()
    first = post(client, setup["token"], **alert(at=now)).json()
    Incident.objects.filter(pk=first["incident"]).update(status="closed")
    second = post(client, setup["token"], **alert("e2", at=now + dt.timedelta(minutes=1))).json()
    assert second["created"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"camera": "NOPE"}, "camera"),
        ({"camera": "CAM-OTHER"}, "camera"),  # another gateway's camera
        ({"kind": "alien"}, "kind"),
        ({"kind": "offline"}, "kind"),  # a device state, not an analytics alert
        ({"at": (timezone.now() + dt.timedelta(hours=1)).isoformat()}, "at"),
        ({"at": "yesterday"}, "at"),
        ({"at": "0001-01-01"}, "at"),  # a 500 before #15: DRF's time zone step overflowed
        ({"at": "9999-12-31T23:59:59-05:00"}, "at"),
        ({"confidence": 1.5}, "confidence"),
        ({"event_id": ""}, "event_id"),
        ({"snapshot": "not a url"}, "snapshot"),
    ],
)
def test_bad_alerts_name_the_field_and_write_nothing(api, setup, change, field):
    response = post(api(), setup["token"], **{**alert(), **change})
    assert response.status_code == 400, response.json()
    assert field in {e.get("field") for e in response.json()["errors"]}
    assert not Incident.objects.exists() and not SensorAlert.objects.exists()


def test_another_districts_camera_is_unknown(api, setup, tree):
    other_district = Gateway.objects.create(code="far", name="外区", district=tree.streets[1])
    token = registry.issue_token(other_district)
    response = post(api(), token, **alert())
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "camera"


def test_only_gateways_may_call(api, setup, users):
    device_token = registry.issue_token(setup["cams"]["a"])
    assert post(api(), device_token, **alert()).status_code == 403
    assert post(api(), "wrong", **alert()).status_code == 401
    client = api(users.district)
    assert client.post("/api/sensors/alerts/", alert(), format="json").status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_two_identical_webhooks_at_once_make_one_incident(setup):
    gateway = setup["gateway"]
    at = timezone.now()
    results, failures = [], []
    barrier = threading.Barrier(2)

    def call(event_id):
        try:
            barrier.wait()
            results.append(
                receive_alert(gateway, event_id=event_id, camera="CAM-A", kind="smoke_fire", at=at)
            )
        except Exception as exc:  # reported below, not swallowed
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(e,)) for e in ("same", "same")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert Incident.objects.count() == 1
    assert sorted(r.created for r in results) == [False, True]
    # Two different events of one smoke at once: still one incident.
    threads = [threading.Thread(target=call, args=(e,)) for e in ("x1", "x2")]
    barrier.reset()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert Incident.objects.count() == 1
    assert SensorAlert.objects.get().count == 3


def test_a_person_with_the_gateways_account_name_is_never_the_reporter(api, setup, make_user):
    from grids.models import Role

    make_user("gateway-hik", Role.DISTRICT_CENTRE, region=setup["tree"].district)
    response = post(api(), setup["token"], **alert())
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "service_account_taken"
    assert not Incident.objects.exists()
