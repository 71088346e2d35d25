"""The change-set API (/api/boundaries/): the whole path a desktop GIS or a script takes, with
two people (a grid worker draws, the community's staff reviews and applies), and every
refusal: who may not, which state does not allow it, which parameter is wrong."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from shapely.geometry import LineString, box, mapping

from boundaries.models import ChangeSet, Kind
from grids.services.boundaries import BoundaryChange, change_boundaries
from tests.boundary_fixtures import EAST, WEST, west_grown

URL = "/api/boundaries/changesets/"
BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[105.90, 29.30], [105.93, 29.35], [105.93, 29.30], [105.90, 29.35], [105.90, 29.30]]
    ],
}


def errors(response) -> list[dict]:
    body = response.json()
    assert body["status"] == response.status_code, body
    return body["errors"]


def codes(response) -> set[str]:
    return {error["code"] for error in errors(response)}


def create(client, region: str = "500118001001", title: str = "调整网格边界", **extra):
    return client.post(URL, {"region": region, "title": title, **extra}, format="json")


def op(client, change_set: dict | int, **params):
    pk = change_set if isinstance(change_set, int) else change_set["id"]
    return client.post(f"{URL}{pk}/operations/", params, format="json")


@pytest.fixture
def worker_draft(users, api) -> dict:
    response = create(api(users.worker))
    assert response.status_code == 201, response.content
    return response.json()


def test_worker_draws_community_reviews_and_applies(tree, users, homes, api):
    worker, staff = api(users.worker), api(users.community)
    east_home = homes[(1, 1, 2)]

    response = create(worker)
    assert response.status_code == 201, response.content
    draft = response.json()
    assert draft["status"] == "draft" and draft["author"] == "worker" and draft["locked"]
    assert draft["permissions"]["edit"] and draft["permissions"]["submit"]
    assert not draft["permissions"]["review"] and not draft["permissions"]["apply"]
    assert draft["can_undo"] is False and draft["can_redo"] is False
    assert draft["events"][0]["action"] == "created"
    # The reviewer sees it, without the author's buttons.
    seen = staff.get(f"{URL}{draft['id']}/").json()
    assert not seen["permissions"]["edit"] and not seen["permissions"]["review"]

    grids = worker.get(f"{URL}{draft['id']}/grids/").json()
    assert grids["type"] == "FeatureCollection"
    assert {f["properties"]["code"]: f["properties"]["action"] for f in grids["features"]} == {
        WEST: "unchanged",
        EAST: "unchanged",
    }

    # The west grid swallows the east grid's centre (and its household).
    response = op(
        worker,
        draft,
        op="reshape",
        code=WEST,
        geometry=mapping(west_grown(0.015)),
        expected_version=draft["version"],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    edited = body["change_set"]
    assert edited["version"] == draft["version"] + 1
    assert edited["position"] == 1 and edited["can_undo"] and not edited["can_redo"]
    assert [s["operation"] for s in edited["steps"]] == ["reshape"]
    assert body["validation"]["valid"], body["validation"]
    assert body["validation"]["features"]["type"] == "FeatureCollection"
    actions = {
        f["properties"]["code"]: f["properties"]["action"]
        for f in worker.get(f"{URL}{draft['id']}/grids/").json()["features"]
    }
    assert actions == {WEST: "reshape", EAST: "reshape"}  # the neighbour gave up the ground
    current = worker.get(f"{URL}{draft['id']}/grids/", {"state": "current"}).json()
    west_now = next(f for f in current["features"] if f["properties"]["code"] == WEST)
    assert (
        west_now["properties"]["area_m2"]
        < next(f for f in grids["features"] if f["properties"]["code"] == WEST)["properties"][
            "area_m2"
        ]
        * 1.01
    )

    # Undo and redo, as in the editor.
    undone = worker.post(f"{URL}{draft['id']}/undo/", {}, format="json")
    assert undone.status_code == 200, undone.content
    undone = undone.json()["change_set"]
    assert undone["position"] == 0 and undone["can_redo"] and not undone["can_undo"]
    assert undone["items"] == []
    redone = worker.post(f"{URL}{draft['id']}/redo/", {}, format="json").json()["change_set"]
    assert redone["position"] == 1 and {i["code"] for i in redone["items"]} == {WEST, EAST}

    validation = worker.get(f"{URL}{draft['id']}/validation/").json()
    assert validation["summary"]["errors"] == 0

    impact = worker.get(f"{URL}{draft['id']}/impact/").json()
    moving = {(row["from"], row["to"]): row for row in impact["rows"]}
    assert moving[(EAST, WEST)]["households"] == 1
    assert impact["totals"]["households"] == 1
    assert impact["areas"]["features"]

    response = worker.post(f"{URL}{draft['id']}/submit/")
    assert response.status_code == 200, response.content
    submitted = response.json()
    assert submitted["status"] == "submitted"
    assert not submitted["permissions"]["edit"]
    # Separation of duties: the author may not approve their own change set.
    response = worker.post(f"{URL}{draft['id']}/approve/", {}, format="json")
    assert response.status_code == 403
    assert codes(response) == {"own_change_set"}

    reviewer_view = staff.get(f"{URL}{draft['id']}/").json()
    assert reviewer_view["permissions"]["review"] and not reviewer_view["permissions"]["apply"]
    response = staff.post(f"{URL}{draft['id']}/approve/", {"comment": "同意"}, format="json")
    assert response.status_code == 200, response.content
    approved = response.json()
    assert approved["status"] == "approved" and approved["reviewed_by"] == "community"
    assert approved["permissions"]["apply"]

    response = staff.post(f"{URL}{draft['id']}/apply/")
    assert response.status_code == 200, response.content
    applied = response.json()
    assert applied["change_set"]["status"] == "applied"
    assert applied["change_set"]["applied_by"] == "community"
    assert [e["action"] for e in applied["change_set"]["events"]] == [
        "created",
        "submitted",
        "approved",
        "applied",
    ]
    east_home.refresh_from_db()
    assert east_home.grid.code == WEST

    history = staff.get(f"/api/boundaries/grids/{WEST}/history/")
    assert history.status_code == 200, history.content
    versions = history.json()
    assert len(versions) == 2
    assert sum(1 for v in versions if v["current"]) == 1
    # Going back: the old boundary as a new change set, to be approved like any other.
    old = next(v for v in versions if not v["current"])
    response = staff.post(
        f"/api/boundaries/grids/{WEST}/restore/", {"version": old["id"]}, format="json"
    )
    assert response.status_code == 201, response.content
    restore = response.json()
    assert restore["kind"] == "restore" and restore["author"] == "community"
    assert WEST in {item["code"] for item in restore["items"]}


def test_list_is_scoped_filtered_and_its_queries_pinned(
    tree, users, api, worker_draft, django_assert_max_num_queries
):
    staff = api(users.community)
    for title in ("一", "二", "三"):
        assert create(staff, title=title).status_code == 201
    # The count and the page, whatever the number of change sets.
    with django_assert_max_num_queries(2):
        response = staff.get(URL)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 4
    assert {row["author"] for row in rows} == {"worker", "community"}
    assert {row["item_count"] for row in rows} == {0}
    mine = api(users.worker).get(URL, {"mine": 1}).json()["results"]
    assert [row["id"] for row in mine] == [worker_draft["id"]]
    assert staff.get(URL, {"status": "submitted,approved"}).json()["results"] == []
    response = staff.get(URL, {"status": "finished"})
    assert response.status_code == 400 and errors(response)[0]["field"] == "status"
    assert len(staff.get(URL, {"region": "500118001001"}).json()["results"]) == 4
    # Another community's grid worker and the other street see none of them.
    assert api(users.other_worker).get(URL).json()["results"] == []


def test_grids_collection_queries_do_not_grow_with_items(
    tree, users, api, worker_draft, django_assert_max_num_queries
):
    worker = api(users.worker)
    url = f"{URL}{worker_draft['id']}/grids/"
    # The change set, its communities, their grids, the grids' boundaries, the items.
    with django_assert_max_num_queries(5):
        worker.get(url)
    assert op(worker, worker_draft, op="reshape", code=WEST, geometry=mapping(west_grown()))
    with django_assert_max_num_queries(5):
        response = worker.get(url)
    assert {f["properties"]["action"] for f in response.json()["features"]} == {"reshape"}


def test_detail_of_a_change_set_outside_the_jurisdiction_is_404(users, api, worker_draft):
    for who in (users.other_worker,):
        client = api(who)
        pk = worker_draft["id"]
        assert client.get(f"{URL}{pk}/").status_code == 404
        assert client.get(f"{URL}{pk}/grids/").status_code == 404
        assert client.get(f"{URL}{pk}/validation/").status_code == 404
        response = op(client, pk, op="retire", code=WEST)
        assert response.status_code == 404
        assert codes(response) == {"not_found"}
        assert client.post(f"{URL}{pk}/submit/").status_code == 404
    assert api().get(f"{URL}{worker_draft['id']}/").status_code in (401, 403)


def test_who_may_not(tree, users, api, worker_draft):
    pk = worker_draft["id"]
    worker = api(users.worker)
    # Another community's grid worker may not draw this community's grids: to them it is
    # outside their jurisdiction, answered like a code that does not exist, naming nothing
    # (decision 4; it was a 403 naming the community before #15).
    response = create(api(users.other_worker))
    assert response.status_code == 400
    assert errors(response)[0]["field"] == "region"
    assert "500118001001" not in response.content.decode()
    assert create(api(users.other_worker), region="500118999999").json() == response.json()
    # Departments take no part in boundary changes: they do not even see the change sets.
    department = api(users.department)
    assert create(department).status_code == 403
    assert department.get(f"{URL}{pk}/").status_code == 404
    assert department.get(f"{URL}{pk}/grids/").status_code == 404
    assert op(department, pk, op="retire", code=WEST).status_code == 404
    # The street centre may author change sets of its communities, but not edit another's.
    street = api(users.street)
    response = op(street, pk, op="retire", code=WEST)
    assert response.status_code == 403
    assert codes(response) == {"not_author"}
    for step in ("undo", "redo", "submit", "extend"):
        assert street.post(f"{URL}{pk}/{step}/", {}, format="json").status_code == 403, step
    # A draft is not reviewed before it is submitted.
    response = street.post(f"{URL}{pk}/approve/", {}, format="json")
    assert response.status_code == 409
    assert codes(response) == {"not_submitted"}
    assert op(worker, pk, op="rename", code=WEST, name="西网格").status_code == 200
    assert worker.post(f"{URL}{pk}/submit/").status_code == 200
    # Separation of duties: the author neither approves nor returns their own change set.
    for step in ("approve", "return"):
        response = worker.post(f"{URL}{pk}/{step}/", {"comment": "x"}, format="json")
        assert response.status_code == 403
        assert codes(response) == {"own_change_set"}
    response = department.post(f"{URL}{pk}/approve/", {}, format="json")
    assert response.status_code == 404
    # Apply needs an approved change set; a submitted one is not yet.
    response = api(users.community).post(f"{URL}{pk}/apply/")
    assert response.status_code == 409
    # No edits while it is submitted.
    response = op(worker, pk, op="rename", code=WEST, name="又改")
    assert response.status_code == 409 and codes(response) == {"not_editable"}


def test_two_change_sets_on_one_grid_conflict(tree, users, api, worker_draft):
    worker, staff = api(users.worker), api(users.community)
    assert op(worker, worker_draft, op="rename", code=WEST, name="西网格").status_code == 200
    other = create(staff, title="另一个").json()
    response = op(staff, other, op="reshape", code=WEST, geometry=mapping(west_grown()))
    assert response.status_code == 409
    problem = errors(response)[0]
    assert problem["code"] == "conflict" and problem["feature"] == WEST
    assert f"#{worker_draft['id']}" in problem["message"]
    # The east grid is free.
    response = op(staff, other, op="rename", code=EAST, name="东网格")
    assert response.status_code == 200, response.content


def test_stale_change_set_is_refused_on_submit(tree, users, api, worker_draft):
    worker = api(users.worker)
    assert op(worker, worker_draft, op="rename", code=WEST, name="西网格").status_code == 200
    # Meanwhile the administrator redraws the shared edge directly.
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    change_boundaries(
        [
            BoundaryChange(west, box(105.90, 29.30, 105.926, 29.35)),
            BoundaryChange(east, box(105.926, 29.30, 105.95, 29.35)),
        ],
        reason="test",
    )
    response = worker.post(f"{URL}{worker_draft['id']}/submit/")
    assert response.status_code == 409
    assert "stale" in codes(response)
    assert {e["feature"] for e in errors(response) if e["code"] == "stale"} == {WEST}
    # Reverting the stale grid is the way out.
    assert op(worker, worker_draft, op="revert", code=WEST).status_code == 200


def test_an_edit_on_an_old_version_of_the_change_set_is_409(users, api, worker_draft):
    worker = api(users.worker)
    first = op(worker, worker_draft, op="rename", code=WEST, name="甲", expected_version=1)
    assert first.status_code == 200
    response = op(worker, worker_draft, op="rename", code=EAST, name="乙", expected_version=1)
    assert response.status_code == 409
    assert codes(response) == {"changeset_version"}
    assert errors(response)[0]["field"] == "expected_version"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"op": "explode", "code": WEST}, "op"),
        ({}, "op"),
        ({"op": "reshape", "code": WEST}, "geometry"),
        ({"op": "reshape", "geometry": mapping(west_grown())}, "code"),
        ({"op": "reshape", "code": WEST, "geometry": [1, 2]}, "geometry"),
        ({"op": "reshape", "code": WEST, "geometry": "{not json"}, "geometry"),
        ({"op": "split", "code": WEST}, "line"),
        ({"op": "merge", "codes": [WEST]}, "codes"),
        ({"op": "merge", "codes": [WEST, EAST], "keep": "500118001001009"}, "keep"),
        ({"op": "rename", "code": WEST}, "name"),
        (
            {"op": "rename", "code": WEST, "name": "x", "expected_version": "one"},
            "expected_version",
        ),
        ({"op": "add"}, "geometry"),
    ],
)
def test_bad_operation_parameters_are_named(users, api, worker_draft, params, field):
    response = op(api(users.worker), worker_draft, **params)
    assert response.status_code == 400, response.content
    assert field in {error.get("field") for error in errors(response)}, response.json()
    assert all(error["message"] for error in errors(response))


def test_invalid_geometry_is_400_naming_the_grid(users, api, worker_draft):
    worker = api(users.worker)
    response = op(worker, worker_draft, op="reshape", code=WEST, geometry=BOWTIE)
    assert response.status_code == 400
    problem = errors(response)[0]
    assert problem["code"] == "invalid_geometry"
    assert problem["feature"] == WEST and problem["field"] == "geometry"
    response = op(
        worker,
        worker_draft,
        op="split",
        code=WEST,
        line=mapping(LineString([(106.5, 29.0), (106.6, 29.1)])),
    )
    assert response.status_code == 400
    assert codes(response) == {"split_line_does_not_cross"}
    # A ring that does not end where it starts is refused, not closed behind the author.
    unclosed = {
        "type": "Polygon",
        "coordinates": [[[105.90, 29.30], [105.93, 29.30], [105.93, 29.35], [105.90, 29.35]]],
    }
    response = op(worker, worker_draft, op="reshape", code=WEST, geometry=unclosed)
    assert response.status_code == 400 and codes(response) == {"invalid_geometry"}
    assert errors(response)[0]["location"] == [105.90, 29.30]
    # Nothing was written.
    detail = worker.get(f"{URL}{worker_draft['id']}/").json()
    assert detail["version"] == worker_draft["version"] and detail["items"] == []


def test_split_merge_add_retire_through_the_api(tree, users, api, worker_draft):
    worker = api(users.worker)
    line = mapping(LineString([(105.91, 29.29), (105.91, 29.36)]))
    response = op(worker, worker_draft, op="split", code=WEST, line=line)
    assert response.status_code == 200, response.content
    items = {i["code"]: i["action"] for i in response.json()["change_set"]["items"]}
    assert items[WEST] == "reshape"
    new = [code for code, action in items.items() if action == "new"]
    assert new == ["500118001001003"]
    response = op(worker, worker_draft, op="merge", codes=[WEST, new[0]])
    assert response.status_code == 200, response.content
    assert new[0] not in {i["code"] for i in response.json()["change_set"]["items"]}
    response = op(worker, worker_draft, op="merge", codes=[WEST, "500118002002001"])
    assert response.status_code in (400, 404)
    # Retiring the east grid leaves a gap (an error where the district wants full coverage);
    # a new grid drawn over it closes it.
    response = op(worker, worker_draft, op="retire", code=EAST)
    assert response.status_code == 200
    assert "gap" in {p["code"] for p in response.json()["validation"]["problems"]}
    gap = next(
        f
        for f in response.json()["validation"]["features"]["features"]
        if f["properties"]["code"] == "gap"
    )
    assert gap["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert gap["properties"]["area_m2"] > 1_000_000
    response = op(
        worker, worker_draft, op="add", geometry=mapping(box(105.92, 29.29, 105.96, 29.36))
    )
    assert response.status_code == 200, response.content
    assert response.json()["validation"]["valid"], response.json()["validation"]


def test_return_needs_a_comment_and_gives_the_draft_back(tree, users, api, worker_draft):
    worker, staff = api(users.worker), api(users.community)
    pk = worker_draft["id"]
    assert (
        op(worker, pk, op="reshape", code=WEST, geometry=mapping(west_grown())).status_code == 200
    )
    assert worker.post(f"{URL}{pk}/submit/").status_code == 200
    response = staff.post(f"{URL}{pk}/return/", {}, format="json")
    assert response.status_code == 400
    assert errors(response)[0]["field"] == "comment"
    response = staff.post(f"{URL}{pk}/return/", {"comment": "东边沿河道走"}, format="json")
    assert response.status_code == 200, response.content
    returned = response.json()
    assert returned["status"] == "returned" and returned["comment"] == "东边沿河道走"
    assert returned["events"][-1] == returned["events"][-1] | {
        "action": "returned",
        "comment": "东边沿河道走",
        "by": "community",
    }
    detail = worker.get(f"{URL}{pk}/").json()
    assert detail["permissions"]["edit"] and detail["locked"]


def test_extend_take_over_and_withdraw(tree, users, api, worker_draft):
    worker, staff = api(users.worker), api(users.community)
    pk = worker_draft["id"]
    response = staff.post(f"{URL}{pk}/take-over/")
    assert response.status_code == 409  # the author's lock still holds
    assert codes(response) == {"locked"}
    ChangeSet.objects.filter(pk=pk).update(lock_expires_at=timezone.now() - dt.timedelta(hours=1))
    response = op(worker, pk, op="rename", code=WEST, name="x")
    assert response.status_code == 409 and codes(response) == {"lock_expired"}
    assert staff.get(f"{URL}{pk}/").json()["permissions"]["take_over"]
    response = worker.post(f"{URL}{pk}/extend/")
    assert response.status_code == 200, response.content
    assert response.json()["locked"]
    ChangeSet.objects.filter(pk=pk).update(lock_expires_at=timezone.now() - dt.timedelta(hours=1))
    response = staff.post(f"{URL}{pk}/take-over/")
    assert response.status_code == 200, response.content
    taken = response.json()
    assert taken["author"] == "community" and taken["permissions"]["edit"]
    assert op(worker, pk, op="rename", code=WEST, name="x").status_code == 403
    response = api(users.other_worker).post(f"{URL}{pk}/withdraw/", {}, format="json")
    assert response.status_code == 404
    response = staff.post(f"{URL}{pk}/withdraw/", {"comment": "重新规划"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    response = staff.post(f"{URL}{pk}/withdraw/", {}, format="json")
    assert response.status_code == 409


def test_create_refusals_name_the_field(tree, users, api):
    staff = api(users.community)
    response = create(staff, region="999999999999")
    assert response.status_code == 400 and errors(response)[0]["field"] == "region"
    response = staff.post(URL, {"region": "500118001001"}, format="json")
    assert response.status_code == 400 and errors(response)[0]["field"] == "title"
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = create(staff, valid_from=future)
    assert response.status_code == 400 and errors(response)[0]["field"] == "valid_from"
    # A grid cannot be a change set's region.
    response = create(staff, region=WEST)
    assert response.status_code == 400


def test_import_a_layout_file(tree, users, api):
    layout = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": mapping(geom),
            }
            for code, name, geom in [
                (WEST, "西", box(105.90, 29.30, 105.92, 29.35)),
                (EAST, "中", box(105.92, 29.30, 105.935, 29.35)),
                ("500118001001003", "东", box(105.935, 29.30, 105.95, 29.35)),
            ]
        ],
    }
    upload = SimpleUploadedFile(
        "layout.geojson", json.dumps(layout).encode(), content_type="application/geo+json"
    )
    staff = api(users.community)
    response = staff.post(
        f"{URL}import/",
        {"file": upload, "region": "500118001001", "title": "重新划分"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    imported = response.json()
    assert imported["kind"] == Kind.FILE
    assert imported["item_counts"] == {"reshape": 2, "new": 1, "retire": 0}
    validation = staff.get(f"{URL}{imported['id']}/validation/").json()
    assert validation["valid"], validation

    bad = SimpleUploadedFile("layout.geojson", b'{"type": "FeatureCollection", "features": []}')
    response = staff.post(
        f"{URL}import/",
        {"file": bad, "region": "500118001001", "title": "空"},
        format="multipart",
    )
    assert response.status_code == 400
    response = staff.post(f"{URL}import/", {"region": "500118001001", "title": "x"})
    assert response.status_code == 400 and errors(response)[0]["field"] == "file"


def test_history_of_a_grid_outside_the_jurisdiction_is_404(tree, users, api):
    assert api(users.other_worker).get(f"/api/boundaries/grids/{WEST}/history/").status_code == 404
    response = api(users.community).post(
        f"/api/boundaries/grids/{WEST}/restore/", {"version": 0}, format="json"
    )
    assert response.status_code == 400 and errors(response)[0]["field"] == "version"


def test_admin_lists_change_sets_in_the_jurisdiction_read_only(users, worker_draft):
    def admin(user) -> Client:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client = Client()
        client.force_login(user)
        return client

    page = admin(users.community).get("/admin/boundaries/changeset/").content.decode()
    assert "调整网格边界" in page
    page = admin(users.other_worker).get("/admin/boundaries/changeset/").content.decode()
    assert "调整网格边界" not in page
    response = admin(users.community).get(
        f"/admin/boundaries/changeset/{worker_draft['id']}/change/"
    )
    assert response.status_code == 200
    assert "created" in response.content.decode()
    response = admin(users.community).post(
        f"/admin/boundaries/changeset/{worker_draft['id']}/change/", {"title": "x"}
    )
    assert response.status_code == 403
    assert ChangeSet.objects.get(pk=worker_draft["id"]).title == "调整网格边界"


def test_detail_queries_do_not_grow_with_edits(
    tree, users, api, worker_draft, django_assert_max_num_queries
):
    worker = api(users.worker)
    url = f"{URL}{worker_draft['id']}/"
    for name in ("甲", "乙", "丙"):
        assert op(worker, worker_draft, op="rename", code=WEST, name=name).status_code == 200
    assert op(worker, worker_draft, op="rename", code=EAST, name="丁").status_code == 200
    # The change set with its region (and the regions above it, for the caller's rights),
    # author and reviewers; its items, steps and events.
    with django_assert_max_num_queries(5):
        detail = worker.get(url).json()
    assert len(detail["steps"]) == 4 and len(detail["items"]) == 2
    with django_assert_max_num_queries(5):
        api(users.community).get(url)
