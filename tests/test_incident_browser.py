"""The whole closed loop through the pages, in a real browser (Debian's Chromium driven by
Playwright): a grid worker reports by clicking the map and escalates; the community
dispatches to a department, which acknowledges and feeds back; the community verifies and
closes; the reporter rates. Every step through the detail page's buttons."""

from __future__ import annotations

import pytest

from incidents.models import Category, Incident
from tests.browser_support import ARTIFACTS, CHROMIUM, browser  # noqa: F401
from tests.conftest import centre_of

PASSWORD = "browser-test-password"

pytestmark = [
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    # The flush after a transactional test would drop the catalogue the migrations seed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def log_in(browser, live_server):  # noqa: F811
    contexts = []

    def as_user(user, path):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        context = browser.new_context(viewport={"width": 1280, "height": 850})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(f"{live_server.url}/login/?next={path}")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}{path}")
        return page

    yield as_user
    for context in contexts:
        context.close()


def timeline(page) -> list[str]:
    return page.eval_on_selector_all("#timeline li", "items => items.map(li => li.dataset.action)")


def take(page, action: str, **fields) -> None:
    before = len(timeline(page))
    page.click(f".step-button[data-action='{action}']")
    form = f"form.step-form[data-step='{action}']"
    for name, value in fields.items():
        selector = f"{form} [name='{name}']"
        if page.eval_on_selector(selector, "el => el.tagName") == "SELECT":
            page.wait_for_selector(f"{selector} option[value='{value}']", state="attached")
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.click(f"{form} button[type=submit]")
    page.wait_for_function(
        "n => document.querySelectorAll('#timeline li').length > n", arg=before, timeout=10000
    )
    assert timeline(page)[-1] == action
    assert "flash ok" in page.get_attribute("#flash", "class")


def test_the_whole_loop_through_the_pages(log_in, live_server, users, tree):
    Category.objects.create(code="0101", name="井盖缺失")
    grid = tree.grids[(1, 1, 1)]
    point = centre_of(grid)

    # The grid worker reports by clicking the map.
    worker = log_in(users.worker, "/incidents/new/")
    worker.wait_for_selector("#report-form[data-ready='1']")
    # The report map is the command map's renderer (MapLibre), in click mode.
    worker.wait_for_selector("body[data-map-ready='1'][data-click-mode='1']", timeout=20000)
    xy = worker.evaluate(
        "([lon, lat]) => { const m = window.gridlineReport.map;"
        " const p = m.project([lon, lat]);"
        " const r = document.getElementById('report-map').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [point.x, point.y],
    )
    worker.mouse.click(*xy)
    worker.wait_for_selector("#point-chosen:not([hidden])")
    worker.fill("#report-form [name=title]", "路口井盖缺失")
    worker.select_option("#report-form [name=category]", "0101")
    worker.dblclick("#report-submit")  # a double click still makes one incident
    worker.wait_for_selector("body[data-reported]")
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.grid == grid and incident.reporter == users.worker
    worker.click("#reported-link")
    worker.wait_for_url(f"{live_server.url}/incidents/{incident.pk}/")
    assert timeline(worker) == ["report"]
    take(worker, "escalate", comment="需社区协调")

    # The community dispatches it to a department.
    community = log_in(users.community, f"/incidents/{incident.pk}/")
    take(community, "dispatch", department="civil-affairs", comment="请民政局处置")

    # The department acknowledges and feeds back.
    department = log_in(users.department, f"/incidents/{incident.pk}/")
    take(department, "acknowledge")
    take(department, "feed_back", comment="已补装井盖")

    # The community verifies and closes.
    community.reload()
    take(community, "verify")
    take(community, "close")

    # The reporter rates.
    worker.reload()
    take(worker, "assess", score="4", comment="满意")
    assert timeline(worker) == [
        "report",
        "escalate",
        "dispatch",
        "acknowledge",
        "feed_back",
        "verify",
        "close",
        "assess",
    ]
    assert "已补装井盖" in worker.inner_text("#timeline")
    done = Incident.objects.get()
    assert (done.status, done.satisfaction) == ("assessed", 4)
    ARTIFACTS.mkdir(exist_ok=True)
    worker.screenshot(path=str(ARTIFACTS / "incident-loop.png"), full_page=True)
    for page in (worker, community, department):
        assert page.errors == []
