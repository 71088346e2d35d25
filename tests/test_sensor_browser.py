"""Fire mode on the command-centre map, in a real browser (Debian's Chromium driven by
Playwright): a street's command centre turns fire mode on, clicks next to its devices, sees
the nearest water tanks with their distances, the camera that sees the spot and the voice
poles around it, and broadcasts to the poles until each delivery is sent."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from pyproj import Geod

from incidents.models import Category
from sensors import catalogue
from sensors.models import Broadcast, SensorType
from sensors.services import broadcast as broadcasts
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import centre_of
from tests.test_map_browser import ARTIFACTS, CHROMIUM, browser, click_at, open_map  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    # The flush after a transactional test would drop the types and categories migrations
    # seed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
GEOD = Geod(ellps="WGS84")


def at(point: Point, azimuth: float, metres: float) -> Point:
    lon, lat, _ = GEOD.fwd(point.x, point.y, azimuth, metres)
    return Point(lon, lat, srid=4326)


@pytest.fixture
def scene(tree, users):
    """Around a spot in grid (1,1,1): two water tanks east, a camera west looking at the
    spot, a pole whose circle covers it and one farther away whose circle does not."""
    catalogue.seed(SensorType, Category)
    spot = centre_of(tree.grids[(1, 1, 1)])

    def make(code, type_, point, properties, name=""):
        return create_sensor(
            SensorSpec(
                code=code,
                type=type_,
                name=name,
                location=point,
                properties=properties,
                status="online",
            )
        )

    return {
        "spot": spot,
        "near_tank": make(
            "WT-A", "water_tank", at(spot, 90, 200), {"capacity_m3": 300, "level_pct": 75}, "东水池"
        ),
        "far_tank": make(
            "WT-B", "water_tank", at(spot, 80, 600), {"capacity_m3": 100, "level_pct": 40}, "北水池"
        ),
        "camera": make(
            "CAM-A",
            "camera",
            at(spot, 270, 150),
            {"bearing": 90, "fov": 90, "range": 400},
            "西山监控",
        ),
        "blind_camera": make(
            "CAM-B", "camera", at(spot, 270, 150), {"bearing": 270, "fov": 60, "range": 400}
        ),
        "pole": make("VP-A", "voice_pole", at(spot, 0, 300), {"broadcast_radius": 500}, "一号杆"),
        "far_pole": make(
            "VP-B", "voice_pole", at(spot, 180, 800), {"broadcast_radius": 300}, "二号杆"
        ),
    }


def test_fire_mode_finds_water_cameras_and_poles_and_broadcasts(open_map, users, scene):  # noqa: F811
    page = open_map(users.street)
    page.click("#fire-toggle")
    page.wait_for_selector("body[data-fire-mode='1']")
    page.evaluate(
        "([lat, lon]) => window.gridlineMap.map.setView([lat, lon], 15, { animate: false })",
        [scene["spot"].y, scene["spot"].x],
    )
    click_at(page, scene["spot"])
    page.wait_for_selector("#fire-response[data-state='ready']", timeout=15000)

    # The water tanks, nearest first, with their distance in metres and level.
    rows = page.eval_on_selector_all(
        "#fire-tanks tbody tr",
        "rs => rs.map(r => [Number(r.dataset.id), Number(r.dataset.distance), r.dataset.level])",
    )
    assert [r[0] for r in rows] == [scene["near_tank"].pk, scene["far_tank"].pk]
    assert 190 < rows[0][1] < 210 and 590 < rows[1][1] < 610
    assert rows[0][2] == "75"
    assert "75%" in page.inner_text("#fire-tanks")
    # The camera looking at the spot, not the one looking away.
    cameras = page.eval_on_selector_all("#fire-cameras li", "l => l.map(i => Number(i.dataset.id))")
    assert cameras == [scene["camera"].pk]
    # Both poles listed; the one covering the spot ticked.
    poles = page.eval_on_selector_all(
        "#fire-poles li", "l => l.map(i => [Number(i.dataset.id), i.dataset.covers])"
    )
    assert dict(poles) == {scene["pole"].pk: "1", scene["far_pole"].pk: "0"}
    ticked = page.eval_on_selector_all(
        "#fire-poles input:checked", "l => l.map(i => Number(i.value))"
    )
    assert ticked == [scene["pole"].pk]
    # Drawn on the map: the point, lines to the tanks, the camera's sector, the circles.
    assert page.locator(".fire-marker").count() == 1
    assert page.locator(".tank-label").count() == 2
    assert page.input_value("#broadcast-message").strip() != ""

    # One-key broadcast to both poles.
    page.check(f"#fire-poles input[value='{scene['far_pole'].pk}']")
    page.click("#broadcast-send")
    page.wait_for_selector("#broadcast-status[data-broadcast]", timeout=10000)
    made = Broadcast.objects.get()
    assert made.deliveries.count() == 2
    assert made.point is not None
    # The worker's job, run here: the log adapter sends at once.
    broadcasts.deliver(made.pk)
    page.wait_for_selector("#broadcast-status[data-done='1']", timeout=10000)
    states = page.eval_on_selector_all(
        "#deliveries li", "l => l.map(i => [Number(i.dataset.pole), i.dataset.state])"
    )
    assert dict(states) == {scene["pole"].pk: "sent", scene["far_pole"].pk: "sent"}
    assert page.locator("#fire-poles .delivery[data-state='sent']").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fire-mode.png"))
    assert page.errors == []

    # Coordinates typed in work as well; a bad pair is explained.
    page.fill("#fire-coords", "abc")
    page.click("#fire-go")
    page.wait_for_selector("#fire-error")
    page.fill("#fire-coords", f"{scene['spot'].x}, {scene['spot'].y}")
    page.click("#fire-go")
    page.wait_for_selector("#fire-response[data-state='ready']")
    # Fire mode off: the map's own clicks come back.
    page.click("#fire-toggle")
    assert page.get_attribute("body", "data-fire-mode") == "0"
    assert page.locator(".fire-marker").count() == 0
