"""The OGC API – Features pages (issue #19) as district GIS staff see them: Debian's Chromium
driven by Playwright, signed in as a street centre, in Chinese. From the landing page through
the collections, one collection and its features to one feature, by the links on the pages:
no console error, no Content-Security-Policy violation, nothing fetched from outside the
server, Chinese headings and labels, and nothing wider than a 390 px phone (tables scroll
inside their box). Screenshots are kept in test-artifacts/ogc/ for a person to look at."""

from __future__ import annotations

import re

import pytest

from ogc import registry
from tests.browser_support import ARTIFACTS, CHROMIUM, browser  # noqa: F401

PASSWORD = "browser-test-password"

pytestmark = [
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    # A live server reads what the test wrote: the data must be committed. Serialized like the
    # other live-server modules: the flush afterwards would drop what the migrations seed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = ARTIFACTS / "ogc"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""
# The words a person reads as the interface: headings, column and row titles, buttons, the
# links' summary, labels and tooltips. Identifiers shown as such (<code>) are data.
INTERFACE = """() => {
  const words = [];
  const seen = (el) => el.checkVisibility ? el.checkVisibility() : true;
  const selector = "h1, h2, h3, caption, th, button, .button, summary, label, legend";
  for (const el of document.querySelectorAll(selector)) {
    if (!seen(el)) continue;
    const copy = el.cloneNode(true);
    copy.querySelectorAll("code").forEach((c) => c.remove());
    words.push(copy.innerText.trim());
  }
  for (const el of document.querySelectorAll("[title], [placeholder], [aria-label]")) {
    for (const name of ["title", "placeholder", "aria-label"]) {
      const value = el.getAttribute(name);
      if (value) words.push(value);
    }
  }
  words.push(document.title);
  return words.filter(Boolean);
}"""
# Names that stay as they are in a Chinese interface (a standard's and programs' names).
PROPER = re.compile(
    r"OGC API\s*[–-]\s*Features|\b(?:OGC|API|CQL2|JSON|GeoJSON|QGIS|GDAL|ArcGIS|WFS|HTTPS?|"
    r"CRS84|EPSG|CGCS2000|URL|ID|JavaScript|Leaflet)\b"
)
ENGLISH = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,}")  # identifiers whole: member_count
CJK = re.compile(r"[\u4e00-\u9fff]")


def english(texts: list[str], identifiers: frozenset[str]) -> list[str]:
    """Texts with an English word that is not a proper name or a data identifier."""
    found = []
    for text in texts:
        words = ENGLISH.findall(PROPER.sub(" ", text))
        if [w for w in words if w not in identifiers]:
            found.append(text)
    return found


@pytest.fixture
def street_page(browser, live_server, users):  # noqa: F811
    users.street.set_password(PASSWORD)
    users.street.save(update_fields=["password"])
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    page.base = live_server.url
    page.errors, page.outside = [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith((live_server.url, "data:", "blob:"))
            else page.outside.append(r.url)
        ),
    )
    # Straight to the OGC pages: the command map (the default landing page) is tested on its own.
    page.goto(f"{live_server.url}/login/?next=/ogc/")
    page.fill("#id_username", users.street.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/ogc/")
    page.wait_for_load_state("networkidle")
    yield page
    context.close()


def look(page, name: str, identifiers: frozenset[str]) -> dict:
    """What is wrong with the page on screen, at the desktop size and on a phone; both kept."""
    page.wait_for_load_state("networkidle")
    problems = {}
    heading = page.locator("h1").first.inner_text()
    if not CJK.search(heading):
        problems["heading"] = heading
    words = english(page.evaluate(INTERFACE), identifiers)
    if words:
        problems["english"] = words
    page.screenshot(path=str(SHOTS / f"{name}-1440.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)  # the layout after the resize, not a timing assertion
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems["phone width"] = width
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    violations = page.evaluate("window.__cspViolations")
    if violations:
        problems["csp"] = violations
    return problems


def test_street_centre_walks_from_the_landing_page_to_one_household(street_page, users, homes):
    page = street_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    households = registry.get("households", users.street)
    identifiers = frozenset(p.name for p in households.properties) | {households.id}
    problems = {}

    # A browser asks for text/html: the landing page without ?f=html is the HTML page.
    response = page.goto(f"{page.base}/ogc/")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    problems["landing"] = look(page, "landing", identifiers)

    page.click("a[href^='/ogc/collections?']")
    problems["collections"] = look(page, "collections", identifiers)
    assert page.locator("[data-collection=households]").count() == 1

    page.click("[data-collection=households] a[href*='/collections/households?']")
    problems["collection"] = look(page, "collection", identifiers)

    page.click("a[href*='/collections/households/items?']")
    problems["items"] = look(page, "items", identifiers)
    # The street centre's street holds four of the eight households.
    rows = page.locator("#features tbody tr[data-feature]")
    assert rows.count() == 4
    # The map of the page draws the same four households.
    assert page.locator("#ogc-map .leaflet-overlay-pane path").count() == 4

    first = rows.first.get_attribute("data-feature")
    rows.first.locator("a").first.click()
    problems["item"] = look(page, "item", identifiers)
    assert page.url.split("?")[0].endswith(f"/ogc/collections/households/items/{first}")
    home = next(h for h in homes.values() if str(h.pk) == first)
    assert home.address in page.locator("#feature-properties").inner_text()
    # Its map: the household, and the outline of its grid fetched from the same server (with
    # no base map on a closed network the dot alone would say nothing).
    page.wait_for_function("document.querySelectorAll('#ogc-map path').length === 2")

    assert {k: v for k, v in problems.items() if v} == {}
    assert page.errors == []
    assert page.outside == []


def test_a_bad_parameter_is_a_chinese_page_and_a_stranger_is_sent_to_sign_in(
    street_page, live_server, homes
):
    page = street_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    response = page.goto(f"{page.base}/ogc/collections/households/items?f=html&bbox=1,2,3")
    assert response.status == 400
    assert response.headers["content-type"].startswith("text/html")
    assert look(page, "error-bbox", frozenset({"bbox"})) == {}
    assert "bbox" in page.locator("#ogc-error").inner_text()
    # The browser's own note about the 400 document is the only console line.
    assert [e for e in page.errors if "status of 400" not in e] == []

    # Without a session a browser is sent to the login page, not asked for a Basic password.
    stranger = page.context.browser.new_page()
    try:
        stranger.goto(f"{live_server.url}/ogc/collections?f=html")
        assert stranger.url.startswith(f"{live_server.url}/login/")
        assert "next=/ogc/collections" in stranger.url
    finally:
        stranger.close()
