"""The HTML pages of /ogc/ (issue #19: a readable page per collection and item, Chinese first):
chosen by `f=html` or a browser's Accept header, on the base page; a browser without a
session goes to the login page; errors are pages with the same status."""

from __future__ import annotations

import pytest
from django.test import Client

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def browser(users):
    c = Client()
    c.force_login(users.street)
    return c


def page(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/ogc/",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/grids",
        "/ogc/collections/grids/items",
        "/ogc/collections/grids/queryables",
    ],
)
def test_pages_by_accept_and_by_f(browser, url):
    by_accept = page(browser.get(url, HTTP_ACCEPT=BROWSER))
    assert 'class="bar"' in by_accept  # the site's own base page
    page(browser.get(url, {"f": "html"}, HTTP_ACCEPT="application/json"))
    # f=json wins over a browser's Accept.
    response = browser.get(url, {"f": "json"}, HTTP_ACCEPT=BROWSER)
    assert "json" in response["Content-Type"]


def test_chinese_first(browser):
    html = page(browser.get("/ogc/collections", {"f": "html"}))
    assert '<html lang="zh-hans"' in html
    assert "网格" in html  # the grids collection's title


def test_collections_page_links_each_collection(browser):
    html = page(browser.get("/ogc/collections", {"f": "html"}))
    assert 'href="/ogc/collections/grids?f=html"' in html
    assert 'href="/ogc/collections/households/items?f=html"' in html


def test_items_page_table_and_next_link(browser, tree):
    html = page(browser.get("/ogc/collections/grids/items", {"f": "html", "limit": 2}))
    codes = sorted(g.code for key, g in tree.grids.items() if key[0] == 1)
    for code in codes[:2]:
        assert f'data-feature="{code}"' in html
    assert codes[2] not in html
    assert 'id="next-page"' in html
    assert f"after={codes[1]}&amp;f=html" in html
    # A map of the page's features (ids and geometries only), from a data block.
    assert 'id="ogc-map"' in html and 'id="ogc-map-data" type="application/json"' in html


def test_items_page_last_page_has_no_next(browser):
    html = page(browser.get("/ogc/collections/grids/items", {"f": "html", "limit": 100}))
    assert 'id="next-page"' not in html


def test_item_page(browser, homes):
    home = homes[(1, 1, 1)]
    html = page(browser.get(f"/ogc/collections/households/items/{home.pk}", {"f": "html"}))
    assert 'id="feature-properties"' in html
    assert home.address in html
    # A small map from the page's own data block and static scripts (no inline script).
    assert 'id="ogc-map"' in html and 'id="ogc-map-data" type="application/json"' in html
    assert "ogc/map.js" in html


def test_html_escapes_properties(browser, tree, add_household):
    from tests.conftest import centre_of

    home = add_household(centre_of(tree.grids[(1, 1, 1)]), address="<script>alert(1)</script>")
    html = page(browser.get(f"/ogc/collections/households/items/{home.pk}", {"f": "html"}))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_browser_without_session_goes_to_login():
    response = Client().get("/ogc/collections", HTTP_ACCEPT=BROWSER)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert "next=/ogc/collections" in response["Location"]
    # A desktop client asking for JSON gets the Basic challenge instead.
    response = Client().get("/ogc/collections", HTTP_ACCEPT="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/ogc/collections/grids/items?f=html&bbox=1,2,3", 400, "bbox"),
        ("/ogc/collections/grids/items?f=html&limit=abc", 400, "limit"),
        ("/ogc/collections/nothing?f=html", 404, "collectionId"),
        ("/ogc/collections/grids/items/nothing?f=html", 404, "featureId"),
    ],
)
def test_errors_are_pages(browser, url, status, field):
    html = page(browser.get(url), status)
    assert f"<code>{field}</code>" in html
    assert 'id="ogc-error"' in html


def test_items_page_query_form_keeps_the_query(browser):
    html = page(browser.get("/ogc/collections/grids/items", {"f": "html", "bbox": "1,2,3,4"}))
    assert 'id="ogc-query"' in html
    assert 'name="bbox" value="1,2,3,4"' in html
    assert 'name="datetime"' in html  # grids have time


def test_first_page_link_when_paged(browser, tree):
    code = sorted(g.code for g in tree.grids.values())[0]
    html = page(browser.get("/ogc/collections/grids/items", {"f": "html", "after": code}))
    assert "limit" not in html.split('id="ogc-query"')[0][-200:]
    assert "第一页" in html or "First page" in html


def test_item_page_links_the_grid_and_shows_times_locally(browser, homes, tree):
    home = homes[(1, 1, 1)]
    html = page(browser.get(f"/ogc/collections/households/items/{home.pk}", {"f": "html"}))
    code = tree.grids[(1, 1, 1)].code
    assert f'href="/ogc/collections/grids/items/{code}?f=html"' in html
    assert "+00:00" not in html  # updated_at in local time, to the minute


def test_filter_error_marks_the_place(browser):
    url = "/ogc/collections/grids/items?f=html&filter=code%20LIKE"
    html = page(browser.get(url), 400)
    assert "<mark>" in html and "<code>filter</code>" in html
    # The retry link drops the refused parameter and keeps the format.
    assert 'href="http://testserver/ogc/collections/grids/items?f=html"' in html


def test_show_filter():
    from ogc.templatetags.ogc import show

    assert show(None) == "–" and show({}) == "–"
    assert show(True, "boolean") in {"是", "yes"}
    assert show({"fov": 87}, "object") == '{"fov": 87}'
    assert show("2026-12-07T06:16:03.489829+00:00", "date-time") == "2026-12-07 14:16"


def test_codes_are_shown_as_labels(browser, tree):
    """A grid's theme is stored as a code (governance); the page shows its label."""
    html = page(browser.get("/ogc/collections/grids/items", {"f": "html"}))
    assert ">governance<" not in html
    json_body = browser.get("/ogc/collections/grids/items", {"f": "json"}).json()
    assert json_body["features"][0]["properties"]["theme"] == "governance"


def test_code_links_only_to_pages_the_user_may_open(tree, users):
    """A grid's page links its community for the street centre; a grid worker, who may open
    its grid but not its community, gets the code without a link to a 404."""
    grid = tree.grids[(1, 1, 1)]
    community = f'href="/ogc/collections/communities/items/{grid.community.code}?f=html"'
    street, worker = Client(), Client()
    street.force_login(users.street)
    worker.force_login(users.worker)
    url = f"/ogc/collections/grids/items/{grid.code}"
    assert community in page(street.get(url, {"f": "html"}))
    html = page(worker.get(url, {"f": "html"}))
    assert community not in html
    assert grid.community.code in html


def test_catalogue_codes_read_as_names(browser, tree):
    """A sensor's type on its page reads as the type's name (视频监控), not the code `camera`;
    its grid stays a code (the tree's codes are how GIS staff name grids) and a link. JSON
    keeps the codes."""
    from sensors.services.registry import SensorSpec, create_sensor
    from tests.conftest import centre_of

    grid = tree.grids[(1, 1, 1)]
    create_sensor(
        SensorSpec(
            code="CAM-HTML",
            type="camera",
            location=centre_of(grid),
            properties={"bearing": 0, "fov": 90, "range": 100},
        )
    )
    url = "/ogc/collections/sensors-camera/items/CAM-HTML"
    html = page(browser.get(url, {"f": "html"}))
    assert "视频监控" in html
    assert f'href="/ogc/collections/grids/items/{grid.code}?f=html"' in html
    listed = page(browser.get("/ogc/collections/sensors-camera/items", {"f": "html"}))
    assert "视频监控" in listed
    data = browser.get(url, {"f": "json"}).json()
    assert data["properties"]["type"] == "camera"
