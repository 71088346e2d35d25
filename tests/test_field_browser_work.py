"""The day's work on the phone (issue #18, WORK) in Chromium at 390×844 with geolocation and
offline emulation: three incidents reported offline with photos (made small on the phone) and a
household visit reach the server exactly once each, with their photos, when the connection
returns — also when the same items are pushed a second time (a sync cut off mid-way); the
outbox is empty afterwards. Screenshots of report, incident detail, tasks, visit and patrol."""

from __future__ import annotations

import datetime as dt
import io
import time
from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import Point
from PIL import Image

from field.models import OutboxReceipt, Patrol, PatrolIncident, TaskCompletion
from incidents.models import Incident, IncidentPhoto, Task, TaskKind, Visit
from incidents.services.tasks import create_visit_task
from notifications.models import Notification
from notifications.services import notify
from tests.browser_support import browser, needs_chromium, screenshot  # noqa: F401
from tests.conftest import centre_of

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WAIT = 30000


def picture(width: int, height: int, fmt: str, colour=(180, 90, 40)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    # Some structure so the JPEG is not trivially small.
    for x in range(0, width, 97):
        for y in range(height):
            image.putpixel((x, y), (20, 20, 20))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def day(tree, users, catalogue, add_household, field_worker):
    """The worker's grid with four households near its centre and a visit task for them."""
    grid = tree.grids[(1, 1, 1)]
    centre = centre_of(grid)
    homes = [
        add_household(
            Point(centre.x + i * 0.0006, centre.y, srid=4326), address=f"永川区测试路{i + 1}号"
        )
        for i in range(4)
    ]
    task = create_visit_task(
        grid, title="冬季走访独居老人", due_on=dt.date.today(), user=users.community
    )
    due = dt.date.today() + dt.timedelta(days=3)
    patrol_task = Task.objects.create(title="本周巡查", kind=TaskKind.PATROL, grid=grid, due_on=due)
    other_task = Task.objects.create(title="拍摄宣传栏", kind=TaskKind.OTHER, grid=grid, due_on=due)
    return SimpleNamespace(
        grid=grid,
        centre=centre,
        homes=homes,
        task=task,
        patrol_task=patrol_task,
        other_task=other_task,
        users=users,
    )


def phone(chromium, live_server, field_worker, where: Point):
    """A phone at `where`, signed in with the worker's device token, after its first sync."""
    context = chromium.new_context(
        viewport=PHONE,
        device_scale_factor=1,
        geolocation={"longitude": where.x, "latitude": where.y, "accuracy": 8},
        permissions=["geolocation"],
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/field/")
    until(page, "() => window.fieldApp && document.body.dataset.ready")
    # The login form is CORE's test; here the phone takes the device token as a login would.
    page.evaluate(
        "(token) => window.fieldApp.signedIn({token, me: null, device: null})", field_worker.token
    )
    until(page, "() => window.fieldApp.lastSync && window.fieldApp.me")
    until(page, "() => window.fieldApp.position")
    return context, page


def until(page, predicate: str, arg=None, timeout: float = 30):
    """Wait until the JS function `predicate` returns something true. Not wait_for_function:
    it polls through eval, which the app's CSP (script-src 'self') rightly refuses."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(predicate, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate}")
        page.wait_for_timeout(100)


def fits(page) -> bool:
    """Nothing wider than the screen (no sideways scrolling at 360 px)."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def wide(page) -> list[str]:
    """What sticks out on the right (for the failure message)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 8)
            .map((e) => [e.tagName, e.className, Math.round(e.getBoundingClientRect().right)])
            .map((row) => row.join(" "))"""
    )


def real_errors(page) -> list[str]:
    """Console errors but the browser's own line for each request refused while offline."""
    return [e for e in page.errors if "ERR_INTERNET_DISCONNECTED" not in e]


def go(page, path: str, ready: str):
    page.evaluate("(path) => window.fieldApp.go(path)", path)
    page.wait_for_selector(ready, timeout=WAIT)


def outbox(page, states=None) -> list[dict]:
    return page.evaluate(
        """(states) => window.fieldApp.outbox.items(states ? {states} : {}).map((i) => ({
            key: i.client_key, kind: i.kind, state: i.state, error: i.error,
            photos: i.photos.length, bytes: i.photos.map((p) => p.data.byteLength)}))""",
        states,
    )


def report(page, description: str, files: list[dict], duplicates: int):
    go(page, "/report", "form.work-form")
    page.fill(".work-category .work-search", "井盖")
    page.click(".work-choice[data-code=T0101]")
    page.fill("#work-description", description)
    page.set_input_files(".work-photos-input", files)
    until(page, "(n) => document.querySelectorAll('.work-thumb img').length === n", len(files))
    if duplicates:
        # Offline, the phone finds the reports it keeps itself at the same spot.
        page.wait_for_selector(".work-same:not([hidden])", timeout=WAIT)
        assert page.locator(".work-same .work-row").count() == duplicates
    before = len(outbox(page))
    page.click(".work-send")
    if duplicates:
        page.click(".shade .button.primary")
    until(page, "(n) => window.fieldApp.outbox.items({}).length === n", before + 1)
    page.wait_for_selector("body[data-route='/incidents']", timeout=WAIT)


def test_offline_day_arrives_exactly_once(browser, live_server, day, field_worker):  # noqa: F811
    context, page = phone(browser, live_server, field_worker, day.centre)
    context.set_offline(True)
    until(page, "() => navigator.onLine === false")

    big = {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": picture(4000, 3000, "JPEG")}
    wide = {"name": "shot.png", "mimeType": "image/png", "buffer": picture(2400, 600, "PNG")}
    small = {"name": "small.jpg", "mimeType": "image/jpeg", "buffer": picture(800, 600, "JPEG")}
    report(page, "井盖缺失，行人易跌落", [big], duplicates=0)
    report(page, "路灯不亮", [wide, small], duplicates=1)
    screenshot(page, "field-work-incidents-offline")
    report(page, "垃圾堆放", [small], duplicates=2)

    # A file that is not a picture is refused on the phone with the reason.
    go(page, "/report", "form.work-form")
    page.set_input_files(
        ".work-photos-input",
        [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}],
    )
    page.wait_for_selector(".work-photos .work-problems p", timeout=WAIT)
    assert "notes.txt" in page.inner_text(".work-photos .work-problems")

    # A visit: the household list by distance, the location check in metres.
    go(page, "/visits", ".work-list .work-row")
    first = page.locator(".work-list a.work-row").first
    assert "永川区测试路1号" in first.inner_text()
    go(page, f"/visits/{day.homes[1].pk}", "form.work-form")
    page.wait_for_selector(".work-check.is-near", timeout=WAIT)
    assert "米" in page.inner_text(".work-check-metres")
    page.fill("#work-visit-note", "老人身体良好")
    screenshot(page, "field-work-visit")
    page.click("form.work-form button[type=submit]")
    until(page, "() => window.fieldApp.outbox.items({kind: 'visit.record'}).length === 1")

    items = outbox(page)
    assert [i["kind"] for i in items] == ["incident.report"] * 3 + ["visit.record"]
    assert {i["state"] for i in items} == {"saved"}
    assert [i["photos"] for i in items] == [1, 2, 1, 0]
    # Downscaled on the phone: a 4000×3000 camera JPEG leaves as a JPEG well under 1 MB.
    assert max(max(i["bytes"] or [0]) for i in items) < 1_000_000
    assert not Incident.objects.filter(client_key__in=[i["key"] for i in items]).exists()

    context.set_offline(False)
    page.evaluate("window.fieldApp.sync.now()")
    until(
        page,
        "() => !window.fieldApp.outbox.items({states: ['saved', 'sending']}).length",
        timeout=60,
    )
    items = outbox(page)
    assert {i["state"] for i in items} == {"sent"}, items

    keys = [i["key"] for i in items]
    incidents = Incident.objects.filter(client_key__in=keys[:3])
    assert incidents.count() == 3
    photos = {i.client_key.hex: list(IncidentPhoto.objects.filter(incident=i)) for i in incidents}
    assert sorted(len(p) for p in photos.values()) == [1, 1, 2]
    for stored in (p for ps in photos.values() for p in ps):
        assert max(stored.width, stored.height) <= 1600
        assert stored.extension == "jpg"
    assert all(i.reporter_id == field_worker.user.pk for i in incidents)
    visits = Visit.objects.filter(client_key=keys[3])
    assert visits.count() == 1
    assert visits.get().household_id == day.homes[1].pk
    assert not visits.get().flagged

    # A sync cut off mid-way sends the same items again: nothing is written twice.
    page.evaluate(
        """async () => {
            const app = window.fieldApp;
            for (const item of app.outbox.items({})) await app.outbox.retry(item.client_key);
            await app.sync.now();
        }"""
    )
    until(
        page,
        "() => !window.fieldApp.outbox.items({states: ['saved', 'sending']}).length",
        timeout=60,
    )
    assert Incident.objects.filter(client_key__in=keys[:3]).count() == 3
    assert IncidentPhoto.objects.filter(incident__client_key__in=keys[:3]).count() == 4
    assert Visit.objects.filter(client_key=keys[3]).count() == 1
    assert OutboxReceipt.objects.filter(client_key__in=keys).count() == 4
    assert not outbox(page, ["saved", "sending", "conflict", "refused"])
    # The pulled records replaced the ones made on the phone.
    local = page.evaluate("window.fieldApp.store.all('incidents')")
    assert not [r for r in local if str(r["id"]).startswith("new:")]
    assert not real_errors(page), real_errors(page)
    context.close()


def test_screens_of_the_day(browser, live_server, day, field_worker, incident):  # noqa: F811
    """Report, incident detail, tasks, visit and patrol as a worker sees them (looked at)."""
    context, page = phone(browser, live_server, field_worker, day.centre)
    go(page, "/report", "form.work-form")
    page.fill(".work-category .work-search", "井盖")
    page.wait_for_selector(".work-choice[data-code=T0101]")
    screenshot(page, "field-work-report")
    # Online: the server says an incident of this category is already open here.
    page.click(".work-choice[data-code=T0101]")
    page.wait_for_selector(".work-same:not([hidden])", timeout=WAIT)
    screenshot(page, "field-work-report-duplicates")

    go(page, f"/incidents/{incident.pk}", ".work-facts")
    screenshot(page, "field-work-incident")
    go(page, "/incidents", ".work-list")
    screenshot(page, "field-work-incidents")

    go(page, "/tasks", ".work-list")
    screenshot(page, "field-work-tasks")
    go(page, f"/tasks/{day.task.pk}", ".work-list")
    screenshot(page, "field-work-task")

    go(page, "/patrol", ".work-button.work-big")
    page.click(".work-button.work-big")
    page.wait_for_selector(".work-figures .work-figure", timeout=WAIT)
    # Walking east: each fix 39 m from the last (a poor fix, ±120 m, is left out).
    for step, accuracy in ((1, 8), (2, 120), (3, 8), (4, 6)):
        context.set_geolocation(
            {
                "longitude": day.centre.x + step * 0.0004,
                "latitude": day.centre.y,
                "accuracy": accuracy,
            }
        )
        page.wait_for_timeout(400)
    page.wait_for_selector(".work-sketch polyline", state="attached", timeout=WAIT)
    figures = page.inner_text(".work-figures")
    assert "米" in figures
    assert "已舍弃 1 个定位点" in page.inner_text(".work-patrol")
    screenshot(page, "field-work-patrol")

    # The narrowest phones the issue names: nothing wider than 360 px on any of these views.
    page.set_viewport_size({"width": 360, "height": 740})
    for path, ready in [
        ("/report", "form.work-form"),
        (f"/incidents/{incident.pk}", ".work-facts"),
        ("/incidents", ".work-list"),
        ("/tasks", ".work-list"),
        (f"/tasks/{day.task.pk}", ".work-list"),
        ("/visits", ".work-list"),
        (f"/visits/{day.homes[0].pk}", ".work-check"),
        ("/patrol", ".work-figures"),
        ("/notices", ".work-page"),
        ("/changes", ".work-page"),
    ]:
        go(page, path, ready)
        assert fits(page), (path, wide(page))
    go(page, f"/incidents/{incident.pk}", ".work-step-button[data-action=register]")
    page.click(".work-step-button[data-action=register]")
    assert fits(page)
    screenshot(page, "field-work-step-360")
    assert not real_errors(page), real_errors(page)
    context.close()


def sync_all(page):
    page.evaluate("() => window.fieldApp.sync.now()")
    until(
        page,
        "() => !window.fieldApp.syncing"
        " && !window.fieldApp.outbox.items({states: ['saved', 'sending']}).length",
        timeout=60,
    )
    problems = outbox(page, ["conflict", "refused"])
    assert not problems, problems


def test_steps_patrol_task_and_notice_round_trip(
    browser,  # noqa: F811
    live_server,
    day,
    field_worker,
    incident,
):
    """Online: a step with a photo, a patrol with an incident found on the way (sent before
    the patrol), every household of a visit task visited, a patrol task and another task
    completed with their evidence, a notice read — each lands on the server as shown."""
    notify([field_worker.user], kind="task", title="新任务：冬季走访", url=f"/tasks/{day.task.pk}/")
    context, page = phone(browser, live_server, field_worker, day.centre)
    photo = {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": picture(1200, 900, "JPEG")}

    # A step the sync says the worker may take, with the "after" photo.
    go(page, f"/incidents/{incident.pk}", ".work-step-button[data-action=register]")
    page.click(".work-step-button[data-action=register]")
    page.fill("#work-step-note-register", "已到现场核实")
    page.set_input_files(".work-step .work-photos-input", [photo])
    until(page, "() => document.querySelectorAll('.work-step .work-thumb img').length === 1")
    page.click(".work-step button[type=submit]")
    until(page, "() => document.body.dataset.route === '/incidents'")
    sync_all(page)
    incident.refresh_from_db()
    assert incident.status == "registered"
    assert IncidentPhoto.objects.filter(incident=incident, event__action="register").count() == 1

    # A patrol: an incident reported on the way is sent at once, the patrol at its stop.
    go(page, "/patrol", ".work-button.work-big")
    page.click(".work-button.work-big")
    # The first fix (where the patrol starts) before walking.
    until(page, "() => document.querySelector('.work-figures')?.textContent.includes('±')")
    for step in (1, 2, 3):
        context.set_geolocation(
            {"longitude": day.centre.x + step * 0.0005, "latitude": day.centre.y, "accuracy": 5}
        )
        page.wait_for_timeout(300)
    go(page, "/report", "form.work-form")
    page.wait_for_selector(".work-note:not([hidden])", timeout=WAIT)  # "on patrol"
    page.fill(".work-category .work-search", "T01")
    page.click(".work-choice[data-code=T0101]")
    page.fill("#work-description", "巡查发现井盖松动")
    page.click(".work-send")
    until(page, "() => document.body.dataset.route === '/incidents'")
    sync_all(page)
    found = Incident.objects.get(description="巡查发现井盖松动")
    go(page, "/patrol", ".work-button.is-danger")
    assert "巡查发现井盖松动" in page.inner_text(".work-patrol .work-list")
    page.fill("#work-patrol-note", "沿测试路巡查")
    page.click(".work-button.is-danger")
    page.click(".shade .button.primary")
    page.wait_for_selector(".work-button.work-big", timeout=WAIT)
    sync_all(page)
    patrol = Patrol.objects.get(worker=field_worker.user)
    assert PatrolIncident.objects.filter(patrol=patrol, incident=found).exists()
    assert 140 < patrol.distance_m < 150  # 3 × 48.5 m east
    assert len(patrol.points) == 4
    assert patrol.note == "沿测试路巡查"

    # The visit task: each household from the task's page; the last visit finishes it.
    for home in day.homes:
        go(page, f"/visits/{home.pk}?task={day.task.pk}", "form.work-form")
        page.wait_for_selector(".work-check", timeout=WAIT)
        page.click("form.work-form button[type=submit]")
        until(page, "() => document.body.dataset.route === '/tasks/:id'")
    sync_all(page)
    day.task.refresh_from_db()
    assert day.task.done_at is not None
    assert Visit.objects.filter(worker=field_worker.user).count() == 4
    go(page, f"/tasks/{day.task.pk}", ".work-list")
    until(page, "() => document.querySelectorAll('.work-row.is-done').length === 4")
    assert not page.locator("#work-task-note").count()

    # A patrol task is completed with the patrol just saved; another with a photo.
    go(page, f"/tasks/{day.patrol_task.pk}", "input[name=work-task-patrol]:checked")
    page.fill("#work-task-note", "本周巡查")
    page.click("form.work-form button[type=submit]")
    until(page, "() => document.body.dataset.route === '/tasks'")
    go(page, f"/tasks/{day.other_task.pk}", "#work-task-note")
    page.click("form.work-form button[type=submit]")
    page.wait_for_selector(".work-problems p", timeout=WAIT)  # a note or a photo first
    page.set_input_files("form.work-form .work-photos-input", [photo])
    until(page, "() => document.querySelectorAll('form.work-form .work-thumb img').length === 1")
    page.click("form.work-form button[type=submit]")
    until(page, "() => document.body.dataset.route === '/tasks'")
    sync_all(page)
    assert TaskCompletion.objects.get(task=day.patrol_task).patrol == patrol
    assert len(TaskCompletion.objects.get(task=day.other_task).photos) == 1

    # The notice: opening it marks it read and opens the task on the phone.
    go(page, "/notices", ".work-notice.is-unread")
    screenshot(page, "field-work-notices")
    page.click(".work-notice.is-unread")
    until(page, "() => document.body.dataset.route === '/tasks/:id'")
    sync_all(page)
    assert Notification.objects.get(user=field_worker.user).read_at is not None
    assert not real_errors(page), real_errors(page)
    context.close()
