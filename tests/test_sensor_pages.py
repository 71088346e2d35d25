"""The sensor pages: the device list with its counts, filters, open alerts and broadcasts; one
device with its properties, coverage, alerts and readings chart; one broadcast's deliveries
with the retry button; scoping (404 outside the user's sight) and constant query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from shapely.geometry import box

from grids.models import Level
from grids.services import boundaries
from sensors.models import Delivery, DeliveryState, SensorAlert
from sensors.services import broadcast
from sensors.services.health import NOTIFICATION_URL
from sensors.services.ingest import ingest
from sensors.services.registry import SensorSpec, create_sensor
from tests.browser_support import (  # noqa: F401
    ARTIFACTS,
    browser,
    needs_chromium,
    open_page,
    outside_requests,
)
from tests.conftest import centre_of

LIST = "/sensors/"


@pytest.fixture
def client_for():
    def make(user, **kwargs) -> Client:
        c = Client(**kwargs)
        c.force_login(user)
        return c

    return make


def near(point: Point, dx: float = 0.0, dy: float = 0.0) -> Point:
    return Point(point.x + dx, point.y + dy, srid=4326)


@pytest.fixture
def devices(tree, users):
    """In grid (1,1,1): an online camera, an offline water tank, a voice pole in fault; in
    grid (1,1,2) (the street's, not the worker's): a second voice pole; in grid (2,2,2)
    (another street): a smoke detector."""
    here = centre_of(tree.grids[(1, 1, 1)])
    beside = centre_of(tree.grids[(1, 1, 2)])
    there = centre_of(tree.grids[(2, 2, 2)])
    return {
        "camera": create_sensor(
            SensorSpec(
                code="CAM-1",
                type="camera",
                name="东门监控",
                location=here,
                properties={"bearing": 90, "fov": 60, "range": 300, "ptz": True},
                status="online",
            )
        ),
        "tank": create_sensor(
            SensorSpec(
                code="WT-1",
                type="water_tank",
                name="一号水池",
                location=near(here, 0.001),
                properties={"capacity_m3": 200, "level_pct": 80},
                status="offline",
            )
        ),
        "pole": create_sensor(
            SensorSpec(
                code="VP-1",
                type="voice_pole",
                name="广播杆一",
                location=near(here, -0.001),
                properties={"broadcast_radius": 500},
                status="fault",
            )
        ),
        "pole2": create_sensor(
            SensorSpec(
                code="VP-2",
                type="voice_pole",
                location=beside,
                properties={"broadcast_radius": 400},
                status="maintenance",
            )
        ),
        "detector": create_sensor(
            SensorSpec(
                code="SD-9",
                type="smoke_detector",
                location=there,
                department="civil-affairs",
                status="online",
            )
        ),
    }


def rows(response) -> list[str]:
    """The device codes listed in the table, in order."""
    return re.findall(
        r'<tr data-sensor="\d+">\s*<td><a href="/sensors/\d+/">([^<]+)</a>', html(response)
    )


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the list ----------------------------------------------------------------------------


def test_the_list_shows_the_devices_a_street_sees_with_counts(client_for, users, devices):
    page = html(client_for(users.street).get(LIST))
    assert rows(client_for(users.street).get(LIST)) == ["CAM-1", "VP-1", "VP-2", "WT-1"]
    assert "SD-9" not in page
    # Counts by type and status: two voice poles, one in fault, one in maintenance.
    counts = re.search(r'<tr data-type="voice_pole">(.*?)</tr>', page, re.S)[1]
    assert re.search(r'data-status="fault"><a href="\?type=voice_pole&amp;status=fault">1<', counts)
    assert re.search(r'data-status="maintenance"><a [^>]*>1<', counts)
    assert re.search(r'data-status="online"><span class="muted">0<', counts)
    assert '<td class="num">2</td>' in counts
    # Status with its colour class, and the grid.
    assert '<span class="status sensor-fault">' in page
    assert "网格111" in page


def test_the_list_shows_heartbeat_age_and_latest_reading(client_for, users, devices):
    tank = devices["tank"]
    now = timezone.now()
    ingest(
        tank, {"readings": [{"sensor": "WT-1", "at": now.isoformat(), "values": {"level_pct": 42}}]}
    )
    page = html(client_for(users.street).get(LIST, {"q": "WT-1"}))
    row = re.search(rf'<tr data-sensor="{tank.pk}">(.*?)</tr>', page, re.S)[1]
    assert "level_pct 42" in row
    # "0 minutes ago", in the platform's default Chinese.
    assert re.search(r"<time datetime=\"[^\"]+\"[^>]*>0\s分钟前</time>", row), row


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "voice_pole"}, ["VP-1", "VP-2"]),
        ({"status": "fault"}, ["VP-1"]),
        ({"type": "voice_pole", "status": "maintenance"}, ["VP-2"]),
        ({"area": "500118001001002"}, ["VP-2"]),  # a grid by its code
        ({"area": "500118001001"}, ["CAM-1", "VP-1", "VP-2", "WT-1"]),  # a community
        ({"area": "999999"}, []),
        ({"q": "东门"}, ["CAM-1"]),
        ({"q": "wt-"}, ["WT-1"]),
        ({"status": "no-such-status"}, ["CAM-1", "VP-1", "VP-2", "WT-1"]),
    ],
)
def test_filters(client_for, users, devices, params, expected):
    assert rows(client_for(users.street).get(LIST, params)) == expected


def test_a_grid_worker_sees_only_their_grid(client_for, users, devices):
    response = client_for(users.worker).get(LIST)
    assert rows(response) == ["CAM-1", "VP-1", "WT-1"]
    # Even when asking for the neighbour grid by its code.
    assert rows(client_for(users.worker).get(LIST, {"area": "500118001001002"})) == []


def test_open_alerts_newest_first_with_their_incident(client_for, users, devices, incident):
    now = timezone.now()

    def alert(sensor, kind, minutes_ago, **kwargs):
        at = now - dt.timedelta(minutes=minutes_ago)
        return SensorAlert.objects.create(
            sensor=sensor, kind=kind, started_at=at, last_at=at, **kwargs
        )

    old = alert(devices["tank"], "low_level", 60)
    smoke = alert(devices["camera"], "smoke_fire", 5, count=3, incident=incident)
    alert(devices["pole"], "offline", 1, ended_at=now)  # ended: not open
    alert(devices["detector"], "fault", 2)  # another street's device
    page = html(client_for(users.street).get(LIST))
    panel = re.search(r'<section class="card" id="open-alerts">(.*?)</section>', page, re.S)[1]
    assert re.findall(r'data-alert="(\d+)"', panel) == [str(smoke.pk), str(old.pk)]
    assert f'href="/incidents/{incident.pk}/"' in panel
    assert '<td class="num">3</td>' in panel
    assert '<small class="muted">2</small>' in panel


def test_recent_broadcasts_with_counts_per_state(client_for, users, devices):
    made = broadcast.create_broadcast(
        user=users.street,
        message="山林起火,请立即撤离",
        pole_ids=[devices["pole"].pk, devices["pole2"].pk],
    )
    Delivery.objects.filter(pole=devices["pole"]).update(state=DeliveryState.FAILED)
    page = html(client_for(users.worker).get(LIST))
    item = re.search(rf'<li data-broadcast="{made.pk}">(.*?)</li>', page, re.S)[1]
    assert f'href="/sensors/broadcasts/{made.pk}/"' in item
    assert re.search(r'delivery-queued">\S+ 1<', item)
    assert re.search(r'delivery-failed">\S+ 1<', item)
    assert "delivery-sent" not in item


def _more_devices(tree, n: int, start: int) -> None:
    here = centre_of(tree.grids[(1, 2, 1)])
    now = timezone.now()
    for i in range(start, start + n):
        sensor = create_sensor(
            SensorSpec(
                code=f"T-{i:03d}",
                type="temp_humidity",
                location=near(here, 0.0001 * i),
                status="online",
            )
        )
        sensor.latest = {"temperature_c": 20 + i, "humidity_pct": 50}
        sensor.latest_at = sensor.last_seen_at = now
        sensor.save(update_fields=["latest", "latest_at", "last_seen_at"])
        SensorAlert.objects.create(sensor=sensor, kind="fault", started_at=now, last_at=now)


def test_list_query_count_does_not_grow_with_devices(
    client_for, users, tree, devices, django_assert_max_num_queries
):
    client = client_for(users.street)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    _more_devices(tree, 3, 0)
    few = count()
    _more_devices(tree, 27, 3)
    with django_assert_max_num_queries(13):
        assert len(rows(client.get(LIST))) == 34
    assert count() == few


# --- one device -------------------------------------------------------------------------


def test_a_camera_page_shows_type_properties_and_coverage(client_for, users, devices, incident):
    camera = devices["camera"]
    now = timezone.now()
    SensorAlert.objects.create(
        sensor=camera,
        kind="smoke_fire",
        started_at=now,
        last_at=now,
        incident=incident,
    )
    page = html(client_for(users.street).get(f"/sensors/{camera.pk}/"))
    assert "CAM-1" in page and "东门监控" in page
    properties = re.search(r'<dl class="fields" id="properties">(.*?)</dl>', page, re.S)[1]
    assert re.search(r"<dt>bearing</dt><dd>90 °</dd>", properties)
    assert re.search(r"<dt>range</dt><dd>300 m</dd>", properties)
    reach = re.search(r'<dl class="fields" id="reach">(.*?)</dl>', page, re.S)[1]
    assert "60 °" in reach and "300 m" in reach
    assert '<span class="status sensor-online"' in page
    assert "网格111" in page
    assert f'href="/incidents/{incident.pk}/"' in page
    lon, lat = camera.location.x, camera.location.y
    assert f'href="/?lon={lon:.6f}&amp;lat={lat:.6f}&amp;z=16"' in page
    # A camera's readings carry no number: no chart.
    assert 'id="readings"' not in page


def test_a_pole_page_shows_its_broadcast_radius(client_for, users, devices):
    page = html(client_for(users.street).get(f"/sensors/{devices['pole'].pk}/"))
    reach = re.search(r'<dl class="fields" id="reach">(.*?)</dl>', page, re.S)[1]
    assert "500 m" in reach


def test_a_tank_page_draws_its_last_week_of_levels(client_for, users, devices):
    tank = devices["tank"]
    now = timezone.now()
    levels = [(now - dt.timedelta(days=d), 100 - 10 * d) for d in (8, 5, 3, 1, 0)]
    ingest(
        tank,
        {
            "readings": [
                {"sensor": "WT-1", "at": at.isoformat(), "values": {"level_pct": level}}
                for at, level in levels
            ]
        },
    )
    page = html(client_for(users.street).get(f"/sensors/{tank.pk}/"))
    section = re.search(r'<section class="card" id="readings">(.*?)</section>', page, re.S)[1]
    assert "level_pct" in section
    points = re.search(r'<polyline class="line" points="([^"]+)"', section)[1].split()
    # The reading 8 days old is outside the chart; the others oldest first, left to right.
    assert len(points) == 4
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert xs == sorted(xs)
    # Levels rise toward today (50, 70, 90, 100): y falls on the screen. The schema's 0-100.
    assert ys == sorted(ys, reverse=True)
    assert ys[-1] == pytest.approx(30.0)  # 100 % sits at the top padding


def test_a_tank_without_readings_says_so(client_for, users, devices):
    page = html(client_for(users.street).get(f"/sensors/{devices['tank'].pk}/"))
    section = re.search(r'<section class="card" id="readings">(.*?)</section>', page, re.S)[1]
    assert "<polyline" not in section
    assert 'class="empty"' in section


def test_a_device_outside_the_users_sight_is_404(client_for, users, devices):
    assert client_for(users.street).get(f"/sensors/{devices['detector'].pk}/").status_code == 404
    assert client_for(users.worker).get(f"/sensors/{devices['pole2'].pk}/").status_code == 404
    assert client_for(users.worker).get(f"/sensors/{devices['pole'].pk}/").status_code == 200
    # The department sees the device it owns in another street.
    assert (
        client_for(users.department).get(f"/sensors/{devices['detector'].pk}/").status_code == 200
    )


# --- one broadcast ----------------------------------------------------------------------


@pytest.fixture
def sent(users, devices):
    made = broadcast.create_broadcast(
        user=users.street,
        message="山林起火,请立即撤离",
        pole_ids=[devices["pole"].pk, devices["pole2"].pk],
    )
    Delivery.objects.filter(pole=devices["pole"]).update(
        state=DeliveryState.FAILED, attempts=5, last_error="broker refused: no such pole"
    )
    Delivery.objects.filter(pole=devices["pole2"]).update(
        state=DeliveryState.ACKNOWLEDGED, attempts=1, sent_at=timezone.now()
    )
    return made


def test_a_broadcast_page_lists_each_poles_delivery(client_for, users, sent):
    page = html(client_for(users.street).get(f"/sensors/broadcasts/{sent.pk}/"))
    table = re.search(r'<table class="queue" id="deliveries">(.*?)</table>', page, re.S)[1]
    assert re.findall(r'data-state="(\w+)"', table) == ["failed", "acknowledged"]
    assert "broker refused: no such pole" in table
    assert '<td class="num">5</td>' in table
    counts = re.search(r'<p id="state-counts">(.*?)</p>', page, re.S)[1]
    assert re.search(r'data-state="failed">\S+ 1<', counts)
    assert re.search(r'data-state="queued">\S+ 0<', counts)
    assert 'id="retry-failed"' in page and 'data-url="/api/sensors/broadcasts/' in page
    assert "sensors/pages.js" in page


def test_the_retry_button_is_only_for_roles_that_broadcast(client_for, users, sent):
    page = html(client_for(users.worker).get(f"/sensors/broadcasts/{sent.pk}/"))
    assert "山林起火" in page
    assert 'id="retry-failed"' not in page


def test_the_retry_posts_to_the_api_with_the_pages_csrf_token(client_for, users, sent):
    client = client_for(users.street, enforce_csrf_checks=True)
    page = html(client.get(f"/sensors/broadcasts/{sent.pk}/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    url = re.search(r'<form id="retry-form" data-url="([^"]+)"', page)[1]
    assert client.post(url).status_code == 403  # no token: refused
    assert client.post(url, headers={"X-CSRFToken": token}).status_code == 200
    assert Delivery.objects.get(broadcast=sent, pole__code="VP-1").state == DeliveryState.QUEUED


def test_a_broadcast_of_another_district_is_404(client_for, users, sent, make_user):
    elsewhere = boundaries.create_region(
        level=Level.DISTRICT,
        code="500116",
        name="江津区",
        geom=box(106.1, 29.1, 106.2, 29.2),
        valid_from=dt.date(2024, 1, 1),
    )
    stranger = make_user("stranger", "district_centre", region=elsewhere)
    assert client_for(stranger).get(f"/sensors/broadcasts/{sent.pk}/").status_code == 404


# --- login, navigation, notifications ---------------------------------------------------


@pytest.mark.parametrize("path", [LIST, "/sensors/1/", "/sensors/broadcasts/1/"])
def test_anonymous_users_are_sent_to_log_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_nav_links_to_the_sensors(client_for, users, tree):
    page = html(client_for(users.worker).get(LIST))
    assert '<a href="/sensors/">' in page


def test_offline_notifications_open_the_offline_devices():
    assert NOTIFICATION_URL == "/sensors/?status=offline"


# --- in a real browser: the retry button and "show on map" -----------------------------


@needs_chromium
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_retry_and_show_on_map_in_a_browser(browser, live_server, users, devices, sent):  # noqa: F811
    page = open_page(browser, live_server.url, users.street, path="/sensors/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sensor-list.png"), full_page=True)

    page.goto(f"{page.base}/sensors/broadcasts/{sent.pk}/")
    page.click("#retry-failed")
    page.wait_for_selector("#flash.ok", timeout=10000)
    assert page.locator("tr[data-state=failed]").count() == 0
    assert page.locator("tr[data-state=queued]").count() == 1
    assert page.locator("#retry-failed").is_disabled()
    page.screenshot(path=str(ARTIFACTS / "sensor-broadcast.png"), full_page=True)

    tank = devices["tank"]
    now = timezone.now()
    levels = [
        {
            "sensor": "WT-1",
            "at": (now - dt.timedelta(hours=h)).isoformat(),
            "values": {"level_pct": 60 + h % 7 * 5},
        }
        for h in range(0, 160, 4)
    ]
    ingest(tank, {"readings": levels})
    page.goto(f"{page.base}/sensors/{tank.pk}/")
    assert page.locator("#readings polyline").count() == 1
    page.screenshot(path=str(ARTIFACTS / "sensor-detail.png"), full_page=True)
    page.click("#show-on-map")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20000)
    centre = page.evaluate("() => window.gridlineMap.map.getCenter()")
    assert centre["lng"] == pytest.approx(tank.location.x, abs=1e-5)
    assert centre["lat"] == pytest.approx(tank.location.y, abs=1e-5)
    assert page.evaluate("() => window.gridlineMap.map.getZoom()") == 16
    assert outside_requests(page) == []
    assert page.errors == []
