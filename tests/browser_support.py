"""One way to drive Debian's Chromium from the browser tests (Playwright for Python).

`npx playwright install` cannot work on a closed network, so the tests use the system
Chromium; WebGL (MapLibre) works in it through SwiftShader. Use the `browser` fixture (module
scope) and `open_page(...)` to log in and collect console errors and requests.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # WebGL through SwiftShader even with the GPU off (MapLibre needs WebGL2).
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)
SIZES = {
    "desk": {"width": 1440, "height": 900},
    "wide": {"width": 1920, "height": 1080},
    "phone": {"width": 390, "height": 844},
    "wall": {"width": 3840, "height": 2160},
}


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM is used here only
    # by the test itself, between browser calls, never concurrently.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def open_page(
    browser,
    base: str,
    user=None,
    password: str = "browser-test-password",
    path: str = "/",
    size: str | dict = "desk",
    wait_for: str | None = None,
):
    """A new page logged in as `user` (its password set here) at `path`. `page.errors`
    collects console errors and uncaught exceptions, `page.requests` every URL asked for."""
    viewport = SIZES[size] if isinstance(size, str) else size
    page = browser.new_page(viewport=viewport)
    page.errors = []
    page.requests = []
    page.base = base
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    if user is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
        page.goto(f"{base}/login/?next={quote(path)}")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
    else:
        page.goto(f"{base}{path}")
    if wait_for:
        page.wait_for_selector(wait_for, timeout=30000)
    return page


def outside_requests(page) -> list[str]:
    """What the page asked of any host but the app (must be nothing: closed networks)."""
    return [u for u in page.requests if not u.startswith(("data:", "blob:", page.base))]


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def report_through_api(user, point, title: str = "井盖缺失") -> int:
    """A patrol report of a missing manhole cover at `point`, POSTed as `user` the way a
    phone sends it (the live tests watch it reach open pages); its id."""
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        "/api/incidents/",
        {
            "title": title,
            "category": "T0101",
            "source": "patrol",
            "location": {"type": "Point", "coordinates": [point.x, point.y]},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]
