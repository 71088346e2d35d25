"""The boundary editor's pages (#7): the change-set list with its "new change set" form, the
editor shell with its configuration, and a grid's history with "restore this version"."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from shapely.geometry import box

from boundaries.models import ChangeSet, Kind, Status
from boundaries.services import changesets
from grids.services.boundaries import BoundaryChange, change_boundaries, to_geos

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def config_of(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="editor-config" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def test_the_list_offers_a_grid_worker_only_the_community_of_their_grid(client, users, tree):
    response = login(client, users.worker).get("/boundaries/")
    assert response.status_code == 200
    options = response.context["regions"]
    assert [r.code for r in options] == [tree.communities[(1, 1)].code]
    assert b'id="nav-boundaries"' in response.content


def test_a_street_centre_may_open_its_street_and_its_communities(client, users, tree):
    response = login(client, users.street).get("/boundaries/")
    codes = [r.code for r in response.context["regions"]]
    assert codes == [
        tree.streets[1].code,
        tree.communities[(1, 1)].code,
        tree.communities[(1, 2)].code,
    ]


def test_a_department_user_has_no_boundary_link_and_no_form(client, users):
    response = login(client, users.department).get("/boundaries/")
    assert response.status_code == 200
    assert b'id="nav-boundaries"' not in response.content
    assert b'id="new-changeset"' not in response.content


def test_creating_a_change_set_opens_the_editor(client, users, tree):
    community = tree.communities[(1, 1)]
    response = login(client, users.worker).post(
        "/boundaries/", {"region": community.code, "title": "新小区拆分", "valid_from": ""}
    )
    change_set = ChangeSet.objects.get()
    assert response.status_code == 302
    assert response.url == f"/boundaries/{change_set.pk}/"
    assert (change_set.region, change_set.author, change_set.status) == (
        community,
        users.worker,
        Status.DRAFT,
    )


@pytest.mark.parametrize(
    "form, message",
    [
        ({"region": "500118002002", "title": "别人的社区"}, "Choose a community"),
        ({"region": "500118001001", "title": ""}, "title"),
        ({"region": "500118001001", "title": "x", "valid_from": "2024-13-45"}, "YYYY-MM-DD"),
    ],
)
def test_a_bad_new_change_set_is_refused_with_the_reason(client, users, tree, form, message):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the messages are checked in English
    response = login(client, users.worker).post("/boundaries/", form)
    assert response.status_code == 400
    assert any(message in e for e in response.context["errors"])
    assert not ChangeSet.objects.exists()


def test_a_future_valid_from_is_refused_by_the_service(client, users, tree):
    tomorrow = dt.date.today() + dt.timedelta(days=30)
    response = login(client, users.community).post(
        "/boundaries/",
        {"region": tree.communities[(1, 1)].code, "title": "x", "valid_from": str(tomorrow)},
    )
    assert response.status_code == 400
    assert response.context["errors"]
    assert not ChangeSet.objects.exists()


def test_the_list_shows_my_drafts_and_what_waits_for_my_review(
    client, users, tree, django_assert_max_num_queries
):
    mine = changesets.create(user=users.worker, region=tree.communities[(1, 1)], title="甲")
    waiting = changesets.create(user=users.worker, region=tree.communities[(1, 1)], title="乙")
    ChangeSet.objects.filter(pk=waiting.pk).update(status=Status.SUBMITTED)
    client = login(client, users.community)
    with django_assert_max_num_queries(20):
        response = client.get("/boundaries/")
    assert [cs.pk for cs in response.context["waiting"]] == [waiting.pk]
    assert response.context["mine"] == []
    worker_view = login(client, users.worker).get("/boundaries/")
    assert {cs.pk for cs in worker_view.context["mine"]} == {mine.pk, waiting.pk}
    # The author never reviews their own change set.
    assert worker_view.context["waiting"] == []


def test_the_editor_page_carries_the_api_urls_and_the_neighbours_to_snap_to(
    client, users, tree, draft
):
    response = login(client, users.worker).get(f"/boundaries/{draft.pk}/")
    assert response.status_code == 200
    config = config_of(response)
    assert config["urls"]["operations"] == f"/api/boundaries/changesets/{draft.pk}/operations/"
    assert config["extent"] == pytest.approx([105.90, 29.30, 105.95, 29.35])
    # Grids of the communities around (1, 1) that touch it; never its own grids.
    codes = {f["properties"]["code"] for f in config["neighbours"]["features"]}
    assert codes == {tree.grids[k].code for k in [(1, 2, 1), (1, 2, 2), (2, 1, 1), (2, 2, 1)]}
    html = response.content.decode()
    assert "leaflet-geoman-free/leaflet-geoman.min.js" in html
    # An ES module; its words come from the catalogue (words.js), not a JSON block.
    assert '<script type="module" src="/static/boundaries/editor.js">' in html
    assert 'id="editor-i18n"' not in html


def test_the_vendor_and_editor_files_are_served_from_the_app():
    for path in (
        "vendor/@geoman-io/leaflet-geoman-free/leaflet-geoman.min.js",
        "vendor/@geoman-io/leaflet-geoman-free/leaflet-geoman.css",
        "boundaries/editor.js",
        "boundaries/editor-map.js",
        "boundaries/editor-panel.js",
        "boundaries/words.js",
        "boundaries/editor.css",
        "boundaries/history.js",
    ):
        assert finders.find(path), path


def test_a_change_set_outside_the_jurisdiction_is_absent(client, users, draft):
    assert login(client, users.other_worker).get(f"/boundaries/{draft.pk}/").status_code == 404


def test_the_history_lists_versions_and_restoring_opens_a_new_change_set(client, users, tree):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    first = west.boundaries.get()
    # The shared edge moves 0.005° east; both grids get a new version.
    change_boundaries(
        [
            BoundaryChange(west, to_geos(box(105.90, 29.30, 105.930, 29.35))),
            BoundaryChange(east, to_geos(box(105.930, 29.30, 105.95, 29.35))),
        ],
        valid_from=dt.date(2025, 1, 1),
    )
    client = login(client, users.community)
    response = client.get(f"/boundaries/grids/{west.code}/")
    assert response.status_code == 200
    assert [v["valid_from"] for v in response.context["versions"]] == [
        dt.date(2025, 1, 1),
        dt.date(2024, 1, 1),
    ]
    assert f'data-restore="{first.pk}"'.encode() in response.content

    response = client.post(f"/boundaries/grids/{west.code}/", {"version": first.pk})
    change_set = ChangeSet.objects.get()
    assert response.status_code == 302
    assert response.url == f"/boundaries/{change_set.pk}/"
    assert change_set.kind == Kind.RESTORE
    assert change_set.items.filter(code=west.code).exists()


def test_a_grid_worker_sees_only_the_history_of_their_grid(client, users, tree):
    client = login(client, users.worker)
    assert client.get(f"/boundaries/grids/{tree.grids[(1, 1, 1)].code}/").status_code == 200
    assert client.get(f"/boundaries/grids/{tree.grids[(1, 1, 2)].code}/").status_code == 404
