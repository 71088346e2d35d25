"""The Content-Security-Policy in a real browser (issue #15): the main pages run under it
without a single violation, so nothing on them depends on an inline script."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from grids.models import Role

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "csp-test-password"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]

# Every violation is reported to the page before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@pytest.fixture(scope="module")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        yield browser
        browser.close()


def test_no_inline_scripts_in_the_policy(users):
    client = Client()
    client.force_login(users.street)
    policy = client.get(reverse("incident-list"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    # The admin alone allows inline scripts (django-leaflet's widget), documented in grids/csp.
    users.admin.is_staff = users.admin.is_superuser = True
    users.admin.save()
    client.force_login(users.admin)
    admin_policy = client.get("/admin/")["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in admin_policy


def test_basemap_host_is_allowed(settings):
    from config.settings import basemap_origins

    assert basemap_origins("none", "") == []
    assert basemap_origins("xyz", "/tiles/{z}/{x}/{y}.png") == []
    assert basemap_origins("xyz", "https://{s}.tiles.example.cn/{z}/{x}/{y}.png") == [
        "https://*.tiles.example.cn"
    ]
    assert basemap_origins("xyz", "http://10.1.2.3:8080/osm/{z}/{x}/{y}.png") == [
        "http://10.1.2.3:8080"
    ]
    assert basemap_origins("tianditu", "") == ["https://*.tianditu.gov.cn"]


def test_main_pages_run_without_csp_violations(browser, live_server, users, homes, tree):
    admin = users.admin
    admin.role = Role.ADMINISTRATOR
    admin.is_staff = admin.is_superuser = True
    admin.set_password(PASSWORD)
    admin.save()
    grid = tree.grids[(1, 1, 1)]
    pages = [
        reverse("map"),
        reverse("incident-list"),
        reverse("incident-new"),
        reverse("report-hub"),
        reverse("sensor-list"),
        reverse("boundary-list"),
        reverse("notifications"),
        reverse("home"),
        reverse("api-docs"),
        "/admin/",
        f"/admin/grids/grid/{grid.pk}/change/",
    ]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    seen: dict[str, list[str]] = {}
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", admin.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        seen["/login/"] = page.evaluate("window.__cspViolations")
        for path in pages:
            response = page.goto(f"{live_server.url}{path}", wait_until="networkidle")
            assert response.status == 200, path
            assert response.headers.get("content-security-policy"), path
            seen[path] = page.evaluate("window.__cspViolations")
        # The language switch (formerly an inline onchange) still works.
        page.goto(f"{live_server.url}{reverse('incident-list')}", wait_until="networkidle")
        with page.expect_navigation():
            page.select_option("select[name=language]", "en")
        assert page.evaluate("document.documentElement.lang") == "en"
    finally:
        page.close()
    violations = {path: found for path, found in seen.items() if found}
    csp_console = [m for m in console if "Content Security Policy" in m]
    assert not violations, violations
    assert not csp_console, csp_console
