"""The whole boundary redraw in a real browser (Debian's Chromium driven by Playwright), the
issue's "done when": a grid worker opens a change set for their community, splits a grid with
a drawn line, drags a shared corner onto the neighbouring grid's edge (snapping), merges two
grids, makes an overlap appear red and takes it back with Ctrl+Z, reads the impact and
submits; the community staff approves and applies; the new grid is on the command map and
the household moved to it."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from grids.models import Grid, Household
from tests.browser_support import ARTIFACTS, CHROMIUM, browser  # noqa: F401

PASSWORD = "browser-test-password"

pytestmark = [
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    # A live server: the data must be committed. The flush afterwards would drop the
    # catalogues migrations seed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
READY = "body[data-editor-ready='1']"


@pytest.fixture
def open_as(browser, live_server):  # noqa: F811
    pages = []

    def login(user):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.errors = []
        page.base = live_server.url
        page.requests = []
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("dialog", lambda dialog: dialog.accept())
        # Straight to the change sets: the command map need not load first.
        page.goto(f"{live_server.url}/login/?next=/boundaries/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/boundaries/")
        pages.append(page)
        return page

    yield login
    for page in pages:
        page.close()


def xy(page, lon: float, lat: float) -> tuple[float, float]:
    """Where a point of the editor's map is on the page."""
    return tuple(
        page.evaluate(
            "([lat, lon]) => { const m = window.gridlineEditor.map;"
            " const p = m.latLngToContainerPoint([lat, lon]);"
            " const r = m.getContainer().getBoundingClientRect();"
            " return [r.left + p.x, r.top + p.y]; }",
            [lat, lon],
        )
    )


def click_map(page, lon: float, lat: float) -> None:
    page.mouse.click(*xy(page, lon, lat))


def grids_of(page) -> dict[str, dict]:
    """The proposed grids as the editor holds them, by code."""
    features = page.evaluate("() => window.gridlineEditor.state.grids")
    return {f["properties"]["code"]: f for f in features}


def vertices(feature) -> list[tuple[float, float]]:
    geometry = feature["geometry"]
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    return [tuple(p) for polygon in polygons for ring in polygon for p in ring]


def problem_codes(page) -> list[str]:
    return page.locator("#problems li").evaluate_all("els => els.map(e => e.dataset.code)")


def operate(page, action) -> None:
    """Runs a UI action that calls the API and waits until the map is redrawn."""
    version = page.evaluate("() => window.gridlineEditor.state.detail.version")
    action()
    page.wait_for_function(
        "v => window.gridlineEditor.state.detail.version !== v"
        " && document.body.dataset.editorReady === '1'",
        arg=version,
        timeout=15000,
    )


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
    page.mouse.move(*end, steps=5)
    page.mouse.up()


def test_a_grid_worker_redraws_and_the_community_approves_and_applies(open_as, users, tree, homes):
    community = tree.communities[(1, 1)]
    west, east = tree.grids[(1, 1, 1)].code, tree.grids[(1, 1, 2)].code
    new = f"{community.code}003"
    ARTIFACTS.mkdir(exist_ok=True)

    # --- the grid worker opens a change set for their community -----------------------------
    page = open_as(users.worker)
    assert page.locator("#id_region option").count() == 1
    page.fill("#id_title", "新建小区拆分网格")
    page.click("#create-changeset")
    page.wait_for_url("**/boundaries/*/")
    page.wait_for_selector(READY)
    page.wait_for_function("() => window.gridlineEditor.state.grids.length === 2")
    # The neighbouring communities' grids are there to snap to.
    assert page.evaluate("() => window.gridlineEditor.layers.neighbours.getLayers().length") == 4

    # --- split the west grid with a line drawn across it at 29.33 --------------------------
    click_map(page, 105.9125, 29.32)
    page.wait_for_selector(f"#grid-table tr.selected[data-code='{west}']")
    page.click("[data-tool=split]")
    click_map(page, 105.896, 29.33)
    click_map(page, 105.929, 29.33)
    operate(page, lambda: click_map(page, 105.929, 29.33))  # the last point again: done
    grids = grids_of(page)
    assert set(grids) == {west, east, new}
    assert grids[new]["properties"]["action"] == "new"
    assert "overlap" not in problem_codes(page) and "gap" not in problem_codes(page)

    # --- reshape: drag the corner the two west grids share onto the east grid's edge ---------
    corner = max(vertices(grids[west]), key=lambda p: (p[0], p[1]))
    assert corner[0] == pytest.approx(105.925, abs=1e-7)
    click_map(page, 105.9125, 29.315)
    page.wait_for_selector(f"#grid-table tr.selected[data-code='{west}']")
    page.click("[data-tool=reshape]")
    page.wait_for_selector(".marker-icon")
    start = xy(page, *corner)
    target = xy(page, 105.925, 29.34)
    # Dropped 6 px east of the shared edge: snapping puts it back on the edge exactly.
    operate(page, lambda: (drag(page, start, (target[0] + 6, target[1])), page.click("#tool-save")))
    grids = grids_of(page)
    moved = [p for p in vertices(grids[west]) if abs(p[1] - 29.34) < 0.001]
    assert moved, vertices(grids[west])
    assert moved[0][0] == pytest.approx(105.925, abs=1e-7)
    assert grids[west]["properties"]["action"] == "reshape"
    assert "overlap" not in problem_codes(page) and "gap" not in problem_codes(page)
    page.screenshot(path=str(ARTIFACTS / "boundary-editor-reshaped.png"))

    # --- merge the old west grid into the new one ---------------------------------------------
    page.click("[data-tool=merge]")
    click_map(page, 105.905, 29.345)
    click_map(page, 105.9125, 29.31)
    page.wait_for_selector("#tool-merge:not([disabled])")
    operate(page, lambda: page.click("#tool-merge"))
    grids = grids_of(page)
    assert grids[west]["properties"]["action"] == "retire"
    assert grids[west]["geometry"] is None
    assert grids[new]["geometry"] is not None

    # --- an overlap: the east grid's corner dragged west without adjusting neighbours ---------
    click_map(page, 105.94, 29.32)
    page.wait_for_selector(f"#grid-table tr.selected[data-code='{east}']")
    page.click("[data-tool=reshape]")
    page.wait_for_selector(".marker-icon")
    page.uncheck("#adjust-neighbours")
    operate(
        page,
        lambda: (
            drag(page, xy(page, 105.925, 29.30), xy(page, 105.915, 29.30)),
            page.click("#tool-save"),
        ),
    )
    page.click("[data-tab=validation]")
    overlap = page.locator("#problems li[data-code='overlap']")
    assert overlap.count() >= 1
    with translation.override("zh-hans"):  # the page's language
        assert gettext("m²") in overlap.first.inner_text()
    red = page.evaluate(
        "() => window.gridlineEditor.layers.problemsLayer.getLayers()"
        ".flatMap(g => g.getLayers ? g.getLayers() : [g])"
        ".filter(l => l.options && l.options.color === '#d7301f').length"
    )
    assert red >= 1
    assert page.locator(".problem-label.overlap").count() >= 1
    overlap.first.click()  # zooms to it
    page.screenshot(path=str(ARTIFACTS / "boundary-editor-overlap.png"))

    # Ctrl+Z takes the overlap back.
    operate(page, lambda: page.keyboard.press("Control+z"))
    assert "overlap" not in problem_codes(page)
    assert page.evaluate("() => window.gridlineEditor.state.detail.can_redo")
    assert page.locator("#validation-summary").get_attribute("data-errors") == "0"

    # --- the impact: the household of the old west grid goes to the new one -----------------
    page.click("[data-tab=impact]")
    row = page.locator(f"#impact-table tr[data-from='{west}'][data-to='{new}']")
    assert row.locator("[data-kind=households]").inner_text() == "1"
    page.screenshot(path=str(ARTIFACTS / "boundary-editor-impact.png"))

    page.click("#submit")
    page.wait_for_selector("#status[data-status='submitted']")
    assert page.locator("[data-tool=split]").is_hidden()
    assert page.errors == []

    # --- the community staff reviews, approves and applies -----------------------------------
    review = open_as(users.community)
    review.click("#waiting a")
    review.wait_for_selector(READY)
    review.wait_for_selector("#approve")
    # The old outlines, dashed, under the new ones.
    assert review.evaluate(
        "() => window.gridlineEditor.map.hasLayer(window.gridlineEditor.layers.currentLayer)"
    )
    review.screenshot(path=str(ARTIFACTS / "boundary-review.png"))
    # The reviewer goes on on a phone: the map above, the panel with its buttons below.
    review.set_viewport_size({"width": 390, "height": 844})
    assert review.locator("#approve").is_visible()
    review.screenshot(path=str(ARTIFACTS / "boundary-review-phone.png"))
    review.click("#approve")
    review.wait_for_selector("#status[data-status='approved']")
    review.wait_for_selector("#apply")
    review.click("#apply")
    review.wait_for_selector("#status[data-status='applied']", timeout=15000)
    review.wait_for_selector("#applied [data-moved=households]")
    assert review.locator("#applied [data-moved=households] b").first.inner_text() == "1"
    review.screenshot(path=str(ARTIFACTS / "boundary-applied.png"))
    assert review.errors == []

    # Stored: the west grid retired, the new one current, the household moved to it.
    assert Grid.objects.get(code=west).valid_to is not None
    created = Grid.objects.get(code=new)
    assert created.valid_to is None
    assert Household.objects.get(pk=homes[(1, 1, 1)].pk).grid == created

    # The new grid is on the command-centre map.
    review.click("#open-map")
    review.wait_for_selector("body[data-map-ready='1']", timeout=20000)
    review.fill("#search", new)
    review.press("#search", "Enter")
    review.wait_for_selector(f"#panel[data-grid='{new}']", timeout=10000)
    assert review.locator("#panel [data-figure=households]").inner_text() == "1"
    outside = [
        url for url in review.requests + page.requests if not url.startswith(("data:", review.base))
    ]
    assert outside == []
