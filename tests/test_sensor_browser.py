"""The sensor layers and fire mode on the MapLibre command-centre map, in a real browser
(Debian's Chromium driven by Playwright): a device's symbol opens its popup with a link to its
page; in fire mode a click anywhere — on a device's symbol too — is the fire point, and the
nearest water tanks, the camera that sees the spot and the voice poles around it are listed,
drawn with labels that do not overlap, and broadcast to until each delivery is sent."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from pyproj import Geod

from incidents.models import Category
from sensors import catalogue
from sensors.models import Broadcast, SensorType
from sensors.services import broadcast as broadcasts
from sensors.services.registry import SensorSpec, create_sensor
from tests.browser_support import (  # noqa: F401
    browser,
    needs_chromium,
    open_page,
    outside_requests,
    screenshot,
)
from tests.conftest import centre_of

pytestmark = [
    needs_chromium,
    # The flush after a transactional test would drop the types and categories migrations
    # seed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
GEOD = Geod(ellps="WGS84")
READY = "body[data-map-ready='1']"


def at(point: Point, azimuth: float, metres: float) -> Point:
    lon, lat, _ = GEOD.fwd(point.x, point.y, azimuth, metres)
    return Point(lon, lat, srid=4326)


def distance(a: Point, lon: float, lat: float) -> float:
    return GEOD.inv(a.x, a.y, lon, lat)[2]


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


def open_fire_map(browser, live_server, user, point: Point, z: int = 16, size="desk"):  # noqa: F811
    # Logged in on a plain page first: open_page's ?next= would cut the query at its "&".
    page = open_page(browser, live_server.url, user, path="/sensors/", size=size)
    page.goto(f"{live_server.url}/?preset=fire&lon={point.x}&lat={point.y}&z={z}")
    try:
        page.wait_for_selector(READY, timeout=30000)
        page.wait_for_selector("#fire-toggle", timeout=20000)  # the sensors' module installed
    except Exception as exc:
        raise AssertionError(f"the map did not come up: {page.errors}") from exc
    return page


def wait_for_symbol(page, sensor_id: int):
    """Until the device's symbol is drawn (its tile loaded and placed)."""
    try:
        page.wait_for_function(
            """(id) => window.gridlineMap.map.queryRenderedFeatures({layers: ["sensors-symbol"]})
                  .some((f) => Number(f.properties.id) === id)""",
            arg=sensor_id,
            timeout=20000,
        )
    except Exception as exc:
        state = page.evaluate(
            """() => { const m = window.gridlineMap.map;
              return {zoom: m.getZoom(), vis: m.getLayoutProperty("sensors-symbol", "visibility"),
                      tiles: m.getSource("gridline").tiles,
                      feats: m.querySourceFeatures("gridline", {sourceLayer: "sensors"})
                        .map(f => f.properties),
                      on: [...window.gridlineMap.tiles.on]}; }"""
        )
        raise AssertionError(f"no symbol of {sensor_id}: {state} {page.errors}") from exc


def click_at(page, point: Point):
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate(
        "([lon, lat]) => { const p = window.gridlineMap.map.project([lon, lat]);"
        " return [p.x, p.y]; }",
        [point.x, point.y],
    )
    page.mouse.click(box["x"] + x, box["y"] + y)


# The boxes MapLibre placed for one symbol layer (each feature's icon and label), from its
# collision index (what it keeps labels apart with), in screen pixels: [feature, x1, y1, x2, y2].
LABEL_BOXES = """(layer) => {
  const placement = window.gridlineMap.map.style.placement;
  const grid = placement.collisionIndex.grid;
  const boxes = [];
  grid.boxKeys.forEach((key, i) => {
    const q = placement.retainedQueryData[key.bucketInstanceId];
    const ids = q && q.featureIndex.bucketLayerIDs[q.bucketIndex];
    if (ids && ids.includes(layer)) {
      boxes.push([key.featureIndex, ...grid.bboxes.slice(i * 4, i * 4 + 4)]);
    }
  });
  return boxes;
}"""


def overlapping(boxes):
    """The pairs of boxes of different features that overlap."""
    return [
        (a, b)
        for i, (fa, *a) in enumerate(boxes)
        for fb, *b in boxes[i + 1 :]
        if fa != fb and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


def test_clicking_a_device_opens_its_popup_with_its_page(browser, live_server, users, scene):  # noqa: F811
    tank = scene["near_tank"]
    page = open_fire_map(browser, live_server, users.street, tank.location)
    wait_for_symbol(page, tank.pk)
    click_at(page, tank.location)
    popup = page.wait_for_selector(f".sensor-popup[data-sensor='{tank.pk}']", timeout=10000)
    text = popup.inner_text()
    assert "东水池" in text and "WT-A" in text and "在线" in text
    assert popup.query_selector("a").get_attribute("href") == f"/sensors/{tank.pk}/"
    # The legend explains the symbols on screen: the role shapes and the status colours.
    legend = page.inner_text(".map-legend")
    assert "设备类型" in legend and "在线" in legend

    # Zoomed out: a count per grid over the grids' colours, explained by the legend.
    page.evaluate(
        "() => { window.gridlineMap.closePopup(); window.gridlineMap.map.jumpTo({zoom: 12.5}); }"
    )
    page.wait_for_function(
        "() => window.gridlineMap.map.queryRenderedFeatures({layers: ['sensors-count']})"
        ".length > 0",
        timeout=20000,
    )
    page.wait_for_selector(READY, timeout=20000)
    legend = page.inner_text(".map-legend")
    assert "网格内设备数" in legend and "设备类型" not in legend
    screenshot(page, "map-sensors-counts")
    assert outside_requests(page) == []
    assert page.errors == []


def test_fire_mode_takes_a_click_on_a_symbol_lists_draws_and_broadcasts(
    browser,  # noqa: F811
    live_server,
    users,
    scene,
):
    tank = scene["near_tank"]
    page = open_fire_map(browser, live_server, users.street, scene["spot"], z=15)
    wait_for_symbol(page, tank.pk)
    page.click("#fire-toggle")
    page.wait_for_selector("body[data-fire-mode='1']")

    # A click on a device's symbol is the fire point too (no popup swallows it).
    click_at(page, tank.location)
    page.wait_for_selector("#fire-response[data-state='ready']", timeout=15000)
    lon, lat = (float(v) for v in page.inner_text("#fire-response .code").split(","))
    assert distance(tank.location, lon, lat) < 10
    assert page.locator(".sensor-popup").count() == 0

    # At the spot: the water tanks nearest first, with metres and level.
    click_at(page, scene["spot"])
    page.wait_for_function(
        "() => document.querySelector('#fire-tanks tbody tr') && "
        "Number(document.querySelector('#fire-tanks tbody tr').dataset.distance) < 250",
        timeout=15000,
    )
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

    # Drawn on the map: one fire point; every device numbered as in the list, the labels
    # placed by MapLibre so that none covers another label or a point.
    assert page.locator(".fire-marker").count() == 1
    page.wait_for_function(
        "() => window.gridlineMap.map.queryRenderedFeatures({layers: ['fire-points']}).length === 5"
    )
    page.wait_for_timeout(400)  # the label placement runs after the data is drawn
    labels = page.evaluate(
        "() => window.gridlineMap.map.queryRenderedFeatures({layers: ['fire-labels']})"
        ".map(f => f.properties.label)"
    )
    assert len(labels) == 6, labels  # the fire point's and five devices'
    assert any(label.startswith("水池1") for label in labels)
    boxes = page.evaluate(LABEL_BOXES, "fire-labels")
    assert len(boxes) == 12  # a point's space and its label, six times
    assert overlapping(boxes) == []
    assert "水池1" in page.inner_text("#fire-tanks")
    assert page.input_value("#broadcast-message").strip() != ""
    screenshot(page, "map-fire")

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
    screenshot(page, "map-fire-broadcast")

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
    click_at(page, tank.location)
    page.wait_for_selector(f".sensor-popup[data-sensor='{tank.pk}']", timeout=10000)
    assert outside_requests(page) == []
    assert page.errors == []


def test_fire_mode_at_phone_width(browser, live_server, users, scene):  # noqa: F811
    page = open_fire_map(browser, live_server, users.street, scene["spot"], z=15, size="phone")
    page.click("#fire-toggle")
    click_at(page, scene["spot"])
    page.wait_for_selector("#fire-response[data-state='ready']", timeout=15000)
    assert page.locator("#fire-tanks tbody tr").count() == 2
    # What was found is drawn in the part of the map the panel leaves free.
    page.wait_for_function(
        "() => window.gridlineMap.map.queryRenderedFeatures({layers: ['fire-points']})"
        ".length === 5",
        timeout=10000,
    )
    page.wait_for_selector(READY, timeout=20000)
    screenshot(page, "map-fire-phone")
    assert outside_requests(page) == []
