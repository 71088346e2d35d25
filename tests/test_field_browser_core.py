"""The field app's shell in Chromium at phone size (issue #18, CORE): login, home, the grid's
map, the shell and map offline after a first visit, a conflict shown side by side and settled
without losing either version, and a revoked device's data cleared on its next contact."""

from __future__ import annotations

import re

import pytest

from field.models import Device
from tests.browser_support import browser, needs_chromium, screenshot  # noqa: F401

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SMALL = {"width": 360, "height": 740}
PASSWORD = "field-test-password"
# Inside the conftest tree's worker grid (500118001001001: 105.900–105.925 E, 29.30–29.35 N).
GEO = {"longitude": 105.915, "latitude": 29.333, "accuracy": 12}


def phone(browser, base, size=PHONE, offline_ok=True):  # noqa: F811
    context = browser.new_context(
        viewport=size,
        geolocation=GEO,
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Mobile Safari/537.36"
        ),
        service_workers="allow",
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # HTTP refusals the app expects (409 conflicts, 401 wipes) are logged by Chromium as
    # "Failed to load resource"; anything else on the console is a bug.
    page.on(
        "console",
        lambda m: (
            page.errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.base = base
    return context, page


def log_in(page, user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    page.goto(f"{page.base}/field/")
    page.wait_for_selector("form.login")
    assert page.input_value("input[name=name]").startswith("Pixel 7")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("body[data-route='/home'] .cards .card")
    # The first sync has run: the last sync time is shown.
    page.wait_for_function("() => window.fieldApp.lastSync !== null", timeout=30000)


def close(context, page):
    """Close once the phone is quiet (no sync, no tile prefetch in flight): a request still
    running on the live server would hold locks while the test database is flushed."""
    try:
        page.wait_for_function(
            "() => !window.fieldApp"
            " || (!window.fieldApp.sync.running && !window.fieldApp.prefetching)",
            timeout=30000,
        )
        page.goto("about:blank")
    finally:
        context.close()


def worker_ready(page):
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30000)


def local_count(page, store="records"):
    return page.evaluate(
        """(store) => new Promise((resolve) => {
            const open = indexedDB.open("gridline-field");
            open.onupgradeneeded = () => { open.transaction.abort(); resolve(-1); };
            open.onerror = () => resolve(-1);
            open.onsuccess = () => {
              const db = open.result;
              if (!db.objectStoreNames.contains(store)) { db.close(); resolve(-1); return; }
              const r = db.transaction(store).objectStore(store).count();
              r.onsuccess = () => { db.close(); resolve(r.result); };
            };
        })""",
        store,
    )


def test_login_and_home(browser, live_server, users, homes):  # noqa: F811
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        header = page.eval_on_selector(".top", "el => el.getBoundingClientRect().height")
        assert header <= 56
        assert page.inner_text(".hello h2") == users.worker.grid.name
        # Nothing wider than the phone.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        # The tab bar's targets are at least 44 px tall.
        heights = page.eval_on_selector_all(
            ".tabs a", "els => els.map(e => e.getBoundingClientRect().height)"
        )
        assert len(heights) == 5 and min(heights) >= 44
        assert Device.objects.filter(user=users.worker, name__startswith="Pixel 7").exists()
        screenshot(page, "field-home-390")
        assert not page.errors, page.errors
    finally:
        close(context, page)
    context, page = phone(browser, live_server.url, size=SMALL)
    try:
        log_in(page, users.worker)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= SMALL["width"]
        screenshot(page, "field-home-360")
    finally:
        close(context, page)


def test_other_roles_are_refused_at_login(browser, live_server, users):  # noqa: F811
    context, page = phone(browser, live_server.url)
    try:
        users.community.set_password(PASSWORD)
        users.community.save(update_fields=["password"])
        page.goto(f"{live_server.url}/field/")
        page.fill("input[name=username]", "community")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_selector(".problem:not([hidden])")
        screenshot(page, "field-login-refused-390")
        assert page.url.endswith("#/login")
        assert local_count(page, "meta") <= 0  # no token kept
    finally:
        close(context, page)


def enqueue(page, item: dict) -> str:
    return page.evaluate(
        "async (item) => (await window.fieldApp.outbox.enqueue(item)).client_key", item
    )


def item_state(page, key: str):
    return page.evaluate("(key) => (window.fieldApp.outbox.get(key) || {}).state || null", key)


def test_conflict_shown_and_settled(browser, live_server, users, homes, api):  # noqa: F811
    household = homes[(1, 1, 1)]
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        local = page.evaluate(
            "async (id) => await window.fieldApp.store.get('households', id)", household.pk
        )
        assert local and local["version"], local
        # Offline on the phone: an edit saved on the phone, not sent.
        context.set_offline(True)
        page.wait_for_function("() => navigator.onLine === false")
        key = enqueue(
            page,
            {
                "kind": "household.update",
                "target": household.pk,
                "base_version": local["version"],
                "data": {"address": "手机上的地址"},
            },
        )
        assert item_state(page, key) == "saved"
        page.goto(f"{live_server.url}/field/#/outbox")
        page.wait_for_selector(f"article[data-key='{key}'] .badge.state-saved")
        screenshot(page, "field-outbox-saved-390")
        # Meanwhile community staff edit the same household online.
        answer = api(users.community).patch(
            f"/api/households/{household.pk}/",
            {"type": "Feature", "properties": {"address": "社区改的地址"}},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        # Back online: the push meets the newer record → conflict, both versions kept.
        context.set_offline(False)
        page.evaluate("() => window.fieldApp.sync.now()")
        page.wait_for_function(
            "(key) => (window.fieldApp.outbox.get(key) || {}).state === 'conflict'", arg=key
        )
        household.refresh_from_db()
        assert household.address == "社区改的地址"
        page.goto(f"{live_server.url}/field/#/outbox")
        page.wait_for_selector(f"article[data-key='{key}'] .badge.state-conflict")
        screenshot(page, "field-outbox-conflict-390")
        page.click(f"article[data-key='{key}'] a.button.primary")
        page.wait_for_selector(".compare-row[data-field='address']")
        row = page.inner_text(".compare-row[data-field='address']")
        assert "手机上的地址" in row and "社区改的地址" in row
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "field-conflict-390")
        page.set_viewport_size(SMALL)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= SMALL["width"]
        screenshot(page, "field-conflict-360")
        page.set_viewport_size(PHONE)
        # Keep mine: a new edit based on the server's version is sent and applied.
        page.click("button[data-action='mine']")
        page.wait_for_selector("body[data-route='/outbox']")
        page.wait_for_function(
            """() => window.fieldApp.outbox.items({kind: 'household.update'})
                .every((i) => i.state === 'sent')"""
        )
        household.refresh_from_db()
        assert household.address == "手机上的地址"
        assert item_state(page, key) is None  # the conflict item gave way to the new edit
        screenshot(page, "field-outbox-sent-390")
        assert not page.errors, page.errors
    finally:
        close(context, page)


def test_keep_theirs_restores_the_servers_record(browser, live_server, users, homes, api):  # noqa: F811
    household = homes[(1, 1, 1)]
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        local = page.evaluate(
            "async (id) => await window.fieldApp.store.get('households', id)", household.pk
        )
        answer = api(users.community).patch(
            f"/api/households/{household.pk}/",
            {"type": "Feature", "properties": {"address": "社区改的地址"}},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        key = enqueue(
            page,
            {
                "kind": "household.update",
                "target": household.pk,
                "base_version": local["version"],
                "data": {"address": "手机上的地址"},
            },
        )
        page.wait_for_function(
            "(key) => (window.fieldApp.outbox.get(key) || {}).state === 'conflict'", arg=key
        )
        page.goto(f"{live_server.url}/field/#/conflict/{key}")
        page.click("button[data-action='theirs']")
        page.wait_for_selector("body[data-route='/outbox']")
        kept = page.evaluate(
            "async (id) => await window.fieldApp.store.get('households', id)", household.pk
        )
        assert kept["address"] == "社区改的地址"
        household.refresh_from_db()
        assert household.address == "社区改的地址"
    finally:
        close(context, page)


def test_revoked_device_is_cleared(browser, live_server, users, homes):  # noqa: F811
    from field.services import devices

    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        assert local_count(page) > 0
        device = Device.objects.get(user=users.worker)
        devices.revoke(device, users.community)
        # The next contact: the server says wipe; everything of the worker leaves the phone.
        page.evaluate("() => window.fieldApp.sync.now()")
        page.wait_for_selector("body[data-route='/login'] .notice.warn")
        page.wait_for_function(
            """() => new Promise((resolve) => {
                const open = indexedDB.open("gridline-field");
                open.onupgradeneeded = () => { open.transaction.abort(); resolve(true); };
                open.onsuccess = () => {
                  const db = open.result;
                  const has = db.objectStoreNames.contains("records");
                  if (!has) { db.close(); resolve(true); return; }
                  const r = db.transaction("records").objectStore("records").count();
                  r.onsuccess = () => { db.close(); resolve(r.result === 0); };
                };
            })"""
        )
        assert local_count(page) <= 0
        assert local_count(page, "meta") <= 0
        caches = page.evaluate(
            "async () => (await caches.keys()).filter(n => !n.startsWith('field-shell-'))"
        )
        assert caches == []
        device.refresh_from_db()
        for _ in range(50):
            if device.wiped_at:
                break
            page.wait_for_timeout(100)
            device.refresh_from_db()
        assert device.wiped_at is not None
    finally:
        close(context, page)


def poll(page, script: str, tries: int = 60):
    """An async script's answer once truthy (wait_for_function does not await promises)."""
    for _ in range(tries):
        answer = page.evaluate(script)
        if answer:
            return answer
        page.wait_for_timeout(500)
    return None


def map_ready(page):
    page.wait_for_selector("[data-testid='grid-map'] canvas", timeout=60000)
    page.wait_for_function(
        "() => document.body.dataset.mapReady === '1' && window.gridlineMap", timeout=60000
    )


def test_shell_offline_after_a_visit(browser, live_server, users, homes):  # noqa: F811
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        worker_ready(page)
        cached = page.evaluate(
            "async () => (await caches.keys()).filter(n => n.startsWith('field-shell-')).length"
        )
        assert cached == 1
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-route='/home'] .cards .card")
        assert page.get_attribute(".status-line .dot", "data-online") == "0"
        assert page.inner_text(".hello h2") == users.worker.grid.name
        # The words came from the kept catalogue (/jsi18n/): Chinese, offline too.
        assert page.inner_text(".top h1") == "我的网格今日"
        page.goto(f"{live_server.url}/field/#/outbox")
        page.wait_for_selector("body[data-route='/outbox'] .button.wide")
        assert not page.errors, page.errors
    finally:
        close(context, page)


def test_shell_and_grid_map_offline_after_a_visit(browser, live_server, users, homes):  # noqa: F811
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        worker_ready(page)
        page.goto(f"{live_server.url}/field/#/map")
        map_ready(page)
        # My position (the context's geolocation) with its accuracy.
        page.wait_for_function("() => window.fieldApp.position !== null")
        assert "±12 m" in page.inner_text(".map-bar .accuracy")
        assert page.evaluate("() => window.gridlineMap.map.getSource('field-grid') !== undefined")
        screenshot(page, "field-map-390")
        # The grid's tiles were fetched into the phone's cache after the first sync.
        prefetched = poll(page, "() => window.fieldApp.store.meta('tiles_prefetched')", 120)
        assert 0 < prefetched["count"] <= 1500 and prefetched["failed"] == 0

        # The map pack (MapLibre and the map core) is in the worker's cache too.
        assert poll(
            page,
            """async () => !!(await caches.match(
                '/static/vendor/maplibre-gl/maplibre-gl.mjs', {ignoreSearch: true}))""",
        )
        # No signal: the shell, the home figures and the map still open.
        context.set_offline(True)
        page.reload()  # opens on #/map again, from the worker's cache
        map_ready(page)
        drawn = page.evaluate(
            "() => window.gridlineMap.map.queryRenderedFeatures()"
            ".filter(f => f.source === 'gridline').length"
        )
        assert drawn > 0  # tiles from the phone's cache
        screenshot(page, "field-map-offline-390")
        page.set_viewport_size(SMALL)
        page.wait_for_timeout(300)
        screenshot(page, "field-map-offline-360")
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/field/#/home")
        page.wait_for_selector("body[data-route='/home'] .cards .card")
        assert page.get_attribute(".status-line .dot", "data-online") == "0"
        assert not page.errors, page.errors
    finally:
        close(context, page)


def test_pick_point_on_the_grid_map(browser, live_server, users, homes):  # noqa: F811
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        page.evaluate(
            "() => { window.picked = undefined;"
            " window.fieldApp.pickPoint({title: '选择位置'}).then((p) => { window.picked = p; }); }"
        )
        page.wait_for_selector(".picker [data-testid='pick-map'] canvas", timeout=60000)
        page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=60000)
        box = page.locator(".picker [data-testid='pick-map']").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
        page.wait_for_selector(".picker .maplibregl-marker")
        screenshot(page, "field-pick-390")
        page.click(".picker .pick-bar .button.primary")
        page.wait_for_function("() => window.picked !== undefined")
        picked = page.evaluate("() => window.picked")
        assert 105.9 <= picked["lon"] <= 105.925 and 29.3 <= picked["lat"] <= 29.35, picked
        assert page.locator(".picker").count() == 0
        # "My position" takes the phone's fix.
        page.evaluate(
            "() => { window.picked = undefined;"
            " window.fieldApp.pickPoint({}).then((p) => { window.picked = p; }); }"
        )
        page.wait_for_selector(".picker .pick-bar")
        page.click(".picker .pick-bar .buttons .button:not(.primary)")
        page.wait_for_function("() => !document.querySelector('.picker .button.primary').disabled")
        page.click(".picker .pick-bar .button.primary")
        page.wait_for_function("() => window.picked !== undefined")
        picked = page.evaluate("() => window.picked")
        assert (
            abs(picked["lon"] - GEO["longitude"]) < 1e-6
            and abs(picked["lat"] - GEO["latitude"]) < 1e-6
        )
        assert not page.errors, page.errors
    finally:
        close(context, page)


def test_every_tab_and_view_opens_without_errors(browser, live_server, users, homes):  # noqa: F811
    """The shell's routes, the other helpers' views included, open at phone size with
    nothing wider than the screen and no script error."""
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        paths = page.evaluate(
            "async () => (await import('/static/field/views/index.js')).routes"
            ".map(r => r.path).filter(p => !p.includes(':'))"
        )
        assert {"/home", "/map", "/login", "/outbox", "/more"} <= set(paths)
        wide, words = {}, {}
        # Data, not words: the user name and the phone's name (from its user agent).
        device = Device.objects.get(user=users.worker).name
        data = {users.worker.username, *re.findall(r"[A-Za-z]{3,}", device)}
        for path in paths:
            if path == "/login":
                continue
            page.goto(f"{live_server.url}/field/#{path}")
            page.wait_for_function(
                "(path) => document.body.dataset.route === path", arg=path, timeout=15000
            )
            page.wait_for_timeout(1000)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide[path] = page.evaluate(
                    """(limit) => [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > limit)
                        .map(e => `${e.tagName}.${e.className}`).slice(0, 5)""",
                    PHONE["width"] + 1,
                )
            assert page.eval_on_selector(".top", "e => e.getBoundingClientRect().height") <= 56
            # Chinese page: no English word (≥ 3 Latin letters) but data (the user name).
            text = page.evaluate(
                """() => document.body.innerText + ' ' + [...document.querySelectorAll(
                    '[placeholder],[aria-label],[title]')].map(e => [e.placeholder,
                    e.getAttribute('aria-label'), e.title].filter(Boolean).join(' ')).join(' ')"""
            )
            english = set(re.findall(r"[A-Za-z]{3,}", text)) - data
            if english:
                words[path] = sorted(english)
        page.goto(f"{live_server.url}/field/#/more")
        page.wait_for_selector("button[data-action='logout']")
        screenshot(page, "field-more-390")
        assert not wide, wide
        assert not words, words
        assert not page.errors, page.errors
    finally:
        close(context, page)


def test_logout_warns_about_unsent_items_and_clears_the_phone(browser, live_server, users, homes):  # noqa: F811
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        context.set_offline(True)
        page.wait_for_function("() => navigator.onLine === false")
        enqueue(page, {"kind": "notification.read", "data": {"ids": []}})
        page.goto(f"{live_server.url}/field/#/more")
        page.click("button[data-action='logout']")
        page.wait_for_selector(".sheet .question")
        assert "1" in page.inner_text(".sheet .question")  # "1 item has not been sent"
        page.click(".sheet .button:not(.danger)")  # cancel: nothing happens
        assert page.evaluate("() => window.fieldApp.token !== null")
        context.set_offline(False)
        page.click("button[data-action='logout']")
        page.click(".sheet .button.danger")
        page.wait_for_selector("body[data-route='/login'] form.login")
        assert local_count(page) <= 0
    finally:
        close(context, page)


def test_logout_stops_a_running_patrol_and_the_gps(browser, live_server, users, homes):  # noqa: F811
    """Review 1b: a patrol started before a logout must not run on into the next login."""
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        page.goto(f"{live_server.url}/field/#/patrol")
        page.click(".work-patrol .work-button.is-primary.work-big")
        page.wait_for_selector(".work-patrol .work-banner.is-live")
        page.goto(f"{live_server.url}/field/#/more")
        page.click("button[data-action='logout']")
        page.click(".sheet .button.danger")
        page.wait_for_selector("body[data-route='/login'] form.login")
        assert page.evaluate("() => window.fieldApp.me === null")
        log_in(page, users.worker)
        page.goto(f"{live_server.url}/field/#/patrol")
        page.wait_for_selector(".work-patrol .work-button.is-primary.work-big")
        assert page.locator(".work-patrol .work-banner.is-live").count() == 0
        assert "巡查中" not in page.inner_text("#view")
        assert page.errors == []
    finally:
        close(context, page)


def test_401_without_wipe_keeps_the_data_until_another_worker_logs_in(
    browser,  # noqa: F811
    live_server,
    users,
    homes,
):
    """Review 11: an unknown token (401, no wipe) keeps the phone's data and outbox for the
    same worker; another worker logging in on the phone starts from an empty phone."""
    context, page = phone(browser, live_server.url)
    try:
        log_in(page, users.worker)
        before = local_count(page)
        assert before > 0
        page.wait_for_function("() => !window.fieldApp.sync.running")
        page.evaluate("() => { window.fieldApp.token = 'not-a-known-token'; }")
        # The item goes out with the unknown token: 401 without wipe → the login page.
        enqueue(page, {"kind": "notification.read", "data": {"ids": []}})
        page.wait_for_selector("body[data-route='/login'] form.login")
        page.wait_for_function("() => !window.fieldApp.sync.running")
        assert local_count(page) == before
        assert local_count(page, "outbox") == 1
        log_in(page, users.other_worker)
        assert local_count(page, "outbox") == 0
        mine = page.evaluate("() => window.fieldApp.me.username")
        assert mine == users.other_worker.username
    finally:
        close(context, page)
