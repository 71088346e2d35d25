"""The pull of the field app (issue #18): GET /api/field/sync/ answers a grid worker's working
set of their one grid, then only what changed since the token, and 304 when nothing did."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from boundaries.models import ChangeSet, ChangeSetItem
from field.models import Patrol
from field.services import devices
from grids import scoping
from grids.models import AuditLog, Household, Resident
from grids.services import basedata
from grids.services import households as household_service
from incidents.models import Visit
from incidents.services import Report, report_incident
from incidents.services.tasks import create_visit_task, record_visit
from needs import catalogue as need_kinds
from needs.models import Need, ServiceKind
from notifications.models import Notification
from reports.models import Indicator, ReportTemplate, TemplateColumn, ValidationRule
from reports.services.indicators import ensure_groups, sync_derived
from tests.conftest import centre_of
from tests.field_fixtures import token_client

pytestmark = pytest.mark.django_db

SETS = {
    "households",
    "residents",
    "buildings",
    "units",
    "incidents",
    "tasks",
    "visits",
    "categories",
    "ledger",
    "notifications",
    "changesets",
    "patrols",
    "needs",
    "servicekinds",
}


def resident(n: int) -> dict:
    return {
        "name": f"张三{n}",
        "id_number": f"50011819900101{n:04d}",
        "phone": f"1381234{n:04d}",
        "birth_date": "1990-01-01",
        "sex": "M",
    }


@pytest.fixture
def ledger_sheet(users):
    """A monthly grid template with one collected indicator and a rule on it."""
    sync_derived()
    groups = ensure_groups()
    insured = Indicator.objects.create(
        code="INSURED",
        name="参保人数",
        unit="人",
        group=groups["population"],
        value_type="integer",
        aggregation="sum",
        level="grid",
        period_type="month",
        source="collected",
        min_value=0,
    )
    template = ReportTemplate.objects.create(
        owner=users.department.department,
        code="civil-monthly",
        title="民政基础数据月报表",
        row_level="grid",
        period_type="month",
        due_day=5,
        grace_days=3,
    )
    TemplateColumn.objects.create(template=template, order=1, indicator=insured)
    ValidationRule.objects.create(
        code="insured-le-residents",
        left=insured,
        operator="<=",
        right=Indicator.objects.get(code="POP_RESIDENTS"),
        message="参保人数不能超过居民人数",
    )
    return template


@pytest.fixture
def grid_data(tree, users, catalogue, add_household, field_worker, ledger_sheet):
    """Records of every set in the worker's grid (1, 1, 1) and in another grid (2, 2, 2)."""
    data = {}
    need_kinds.seed(ServiceKind)  # a transactional test's flush may have emptied the seed
    for key, tag in (((1, 1, 1), "mine"), ((2, 2, 2), "far")):
        grid = tree.grids[key]
        point = centre_of(grid)
        home = add_household(point, address=f"{tag}路1号")
        household_service.add_residents(home, [resident(1 if tag == "mine" else 2)])
        building, _ = basedata.create_building(code=f"B-{tag}", location=point, floors=6)
        unit, _ = basedata.create_unit(
            name=f"{tag}超市",
            type="private",
            location=point,
            legal_person="李四",
            contact_phone="13900001111",
        )
        incident, _ = report_incident(
            Report(title=f"{tag}井盖", category="T0101", source="patrol", location=point),
            user=users.worker if tag == "mine" else users.other_worker,
        )
        worker = users.worker if tag == "mine" else users.other_worker
        task = create_visit_task(
            grid, title=f"{tag}走访", due_on=timezone.localdate(), user=users.admin
        )
        visit, _ = record_visit(home.pk, point, user=worker, note=tag)
        note = Notification.objects.create(user=worker, kind="test", title=f"{tag}通知")
        patrol = Patrol.objects.create(
            client_key=f"00000000-0000-0000-0000-00000000000{1 if tag == 'mine' else 2}",
            worker=worker,
            grid=grid,
            started_at=timezone.now() - dt.timedelta(hours=1),
            ended_at=timezone.now(),
        )
        change_set = ChangeSet.objects.create(
            title=f"{tag}调整",
            region=grid.community,
            author=users.admin,
            lock_expires_at=timezone.now() + dt.timedelta(hours=1),
        )
        ChangeSetItem.objects.create(
            change_set=change_set,
            grid=grid,
            community=grid.community,
            code=grid.code,
            name=grid.name,
            geom=grid.boundary_on(),
        )
        need = Need.objects.create(
            kind=ServiceKind.objects.get(code="elderly"),
            title=f"{tag}助餐",
            source="grid_worker",
            grid=grid,
            community=grid.community,
            location=point,
            contact_name="王五",
            contact_phone="13700001111",
        )
        data[tag] = {
            "households": home.pk,
            "residents": home.residents.get().pk,
            "buildings": building.pk,
            "units": unit.pk,
            "incidents": incident.pk,
            "tasks": task.pk,
            "visits": visit.pk,
            "notifications": note.pk,
            "patrols": patrol.pk,
            "changesets": change_set.pk,
            "needs": need.pk,
        }
    return data


def pull(client, since=None, etag=None, **extra):
    params = {"since": since} if since else {}
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get("/api/field/sync/", params, **headers, **extra)


def test_the_first_pull_is_the_whole_grid_and_nothing_else(grid_data, field_client, users):
    response = pull(field_client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["full"] is True and body["token"]
    assert response["ETag"].strip('"').removeprefix('W/"') == body["token"]
    assert body["me"]["grid"]["code"] == "500118001001001"
    assert set(body["sets"]) == SETS
    for name, ids in (
        (name, {r["id"] for r in body["sets"][name]["upsert"]}) for name in grid_data["mine"]
    ):
        # Mine are there; another grid's records never are, in any set.
        assert grid_data["mine"][name] in ids, name
        assert grid_data["far"][name] not in ids, name
        assert set(body["sets"][name]["ids"]) == ids, name
    for name, content in body["sets"].items():
        for record in content["upsert"]:
            assert "id" in record and record["version"], name
    text = json.dumps(body, ensure_ascii=False)
    for far_word in (
        "far路",
        "far超市",
        "far井盖",
        "far走访",
        "far通知",
        "far调整",
        "B-far",
        "far助餐",
    ):
        assert far_word not in text

    sets = body["sets"]
    (home,) = sets["households"]["upsert"]
    assert set(home) == {
        "id",
        "version",
        "address",
        "lon",
        "lat",
        "building_id",
        "member_count",
        "registered_on",
    }
    assert home["member_count"] == 1
    (person,) = sets["residents"]["upsert"]
    # A grid worker's work needs the names: unmasked, and the read is audited.
    assert person["name"] == "张三1" and person["id_number"] == "500118199001010001"
    assert person["household_id"] == home["id"]
    audit = AuditLog.objects.get(model="resident", channel="field")
    assert audit.user == users.worker and audit.object_ids == [person["id"]]
    (unit,) = sets["units"]["upsert"]
    assert unit["type"] == "private" and unit["type_name"] and unit["legal_person"] == "李四"
    (incident,) = sets["incidents"]["upsert"]
    assert incident["mine"] is True and incident["status"] == "reported"
    assert incident["version"] == "1" and isinstance(incident["actions"], list)
    assert incident["category"] == "T0101" and incident["category_name"] == "井盖缺失"
    (task,) = sets["tasks"]["upsert"]
    assert task["targets"] == [
        {"household_id": home["id"], "visit_id": grid_data["mine"]["visits"]}
    ]
    assert {c["id"] for c in sets["categories"]["upsert"]} >= {"T0101"}
    (sheet,) = sets["ledger"]["upsert"]
    assert sheet["id"].startswith("500118001001001:") and sheet["grid"] == "500118001001001"
    assert [i["indicator"] for i in sheet["items"]] == ["INSURED"]
    assert sheet["rules"] == [
        {
            "code": "insured-le-residents",
            "left": "INSURED",
            "operator": "<=",
            "right": "POP_RESIDENTS",
            "factor": "1.0000",
            "constant": "0.0000",
            "severity": "error",
            "message": "参保人数不能超过居民人数",
        }
    ]
    (change_set,) = sets["changesets"]["upsert"]
    assert change_set["url"] == f"/boundaries/{grid_data['mine']['changesets']}/"
    (need,) = sets["needs"]["upsert"]
    # The grid's needs with the contact as the worker sees it (personal data: unmasked).
    assert need["title"] == "mine助餐" and need["status"] == "submitted"
    assert need["number"].startswith("XQ") and need["version"] == "1"
    assert need["kind"] == "elderly" and need["contact_phone"] == "13700001111"
    assert {k["code"] for k in sets["servicekinds"]["upsert"]} >= {"elderly", "goods"}
    assert body["tiles"]["style"] == "/api/map/style.json?preset=worker"
    assert body["tiles"]["bbox"] == body["me"]["grid"]["bbox"]
    assert (body["tiles"]["minzoom"], body["tiles"]["maxzoom"]) == (13, 18)


def test_an_unchanged_resync_is_one_304_without_a_body(grid_data, field_client):
    first = pull(field_client)
    token = first.json()["token"]
    again = pull(field_client, since=token, etag=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == f'"{token}"'
    # Without If-None-Match: the same token and no set.
    body = pull(field_client, since=token).json()
    assert body["token"] == token and body["full"] is False and body["sets"] == {}


def test_the_answer_is_gzipped_and_small_enough_to_be_one_request(grid_data, field_client):
    response = pull(field_client, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.content))
    assert body["full"] is True
    token = body["token"]
    again = pull(field_client, since=token, etag=response["ETag"], HTTP_ACCEPT_ENCODING="gzip")
    assert again.status_code == 304
    size = len(again.serialize_headers()) + len(again.content)
    assert size < 1024


def test_a_delta_sends_what_changed_and_the_ids_that_remain(
    grid_data, field_client, users, tree, add_household, api
):
    # Saved an hour ago: older than the margin a delta re-sends (field.services.workingset).
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    Household.objects.update(updated_at=an_hour_ago)
    Resident.objects.update(updated_at=an_hour_ago)
    first = pull(field_client).json()
    mine = grid_data["mine"]
    # Community staff edit a household online, remove another, and add a resident.
    second_home = add_household(centre_of(tree.grids[(1, 1, 1)]), address="mine路2号")
    Household.objects.filter(pk=second_home.pk).update(updated_at=an_hour_ago)
    token = pull(field_client, since=first["token"]).json()["token"]

    # Community staff edit the household through the main API while the phone is away.
    edited = api(users.community).patch(
        f"/api/households/{mine['households']}/", {"address": "mine路1号之一"}, format="json"
    )
    assert edited.status_code == 200, edited.content
    home = Household.objects.get(pk=mine["households"])
    second_home.removed_on = timezone.localdate()
    second_home.save()
    added = household_service.add_residents(home, [resident(3)])[0]

    body = pull(field_client, since=token).json()
    assert body["full"] is False
    sets = body["sets"]
    # Only the sets that changed; the rest are left out.
    assert set(sets) == {"households", "residents"}
    households = sets["households"]
    assert [h["address"] for h in households["upsert"]] == ["mine路1号之一"]
    assert households["upsert"][0]["member_count"] == 2
    assert households["ids"] == [mine["households"]]  # the removed one is gone
    residents = sets["residents"]
    assert [r["id"] for r in residents["upsert"]] == [added.pk]
    assert sorted(residents["ids"]) == sorted([mine["residents"], added.pk])

    # A deleted resident leaves `ids`.
    Resident.objects.filter(pk=added.pk).delete()
    body = pull(field_client, since=body["token"]).json()
    assert body["sets"]["residents"]["ids"] == [mine["residents"]]

    # Moved into the next grid by community staff: gone from the phone, with its residents.
    moved = api(users.community).patch(
        f"/api/households/{mine['households']}/",
        {"location": {"type": "Point", "coordinates": list(centre_of(tree.grids[(1, 1, 2)]))}},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    body = pull(field_client, since=body["token"]).json()
    assert body["sets"]["households"] == {"upsert": [], "ids": []}
    assert body["sets"]["residents"] == {"upsert": [], "ids": []}


def test_the_small_sets_are_sent_whole_when_they_change(grid_data, field_client, users):
    first = pull(field_client).json()
    Notification.objects.create(user=users.worker, kind="test", title="新通知")
    Notification.objects.create(user=users.other_worker, kind="test", title="别人的")
    body = pull(field_client, since=first["token"]).json()
    assert set(body["sets"]) == {"notifications"}
    titles = [n["title"] for n in body["sets"]["notifications"]["upsert"]]
    assert titles == ["新通知", "mine通知"]


def test_a_token_of_another_user_or_a_damaged_one_means_a_full_pull(grid_data, field_client, users):
    _, secret = devices.register(users.other_worker, "别人的手机")
    other = pull(token_client(secret)).json()
    for since in (other["token"], "not-a-token", "eyJ2Ijo5fQ"):
        body = pull(field_client, since=since).json()
        assert body["full"] is True and set(body["sets"]) == SETS


def test_roles_without_personal_data_get_no_residents_and_masked_units(
    grid_data, field_client, monkeypatch
):
    monkeypatch.setattr(scoping, "PERSONAL_DATA_ROLES", frozenset({"administrator"}))
    body = pull(field_client).json()
    assert body["me"]["sees_personal_data"] is False
    assert body["sets"]["residents"] == {"upsert": [], "ids": []}
    (unit,) = body["sets"]["units"]["upsert"]
    assert unit["legal_person"] == "李*" and unit["contact_phone"] == "139****1111"
    assert not AuditLog.objects.filter(channel="field").exists()


def test_residents_are_emptied_on_the_phone_when_personal_data_is_taken_away(
    grid_data, field_client, monkeypatch
):
    first = pull(field_client).json()
    assert first["sets"]["residents"]["ids"]
    monkeypatch.setattr(scoping, "PERSONAL_DATA_ROLES", frozenset({"administrator"}))
    second = pull(field_client, since=first["token"]).json()
    assert second["sets"]["residents"] == {"upsert": [], "ids": []}
    # Once emptied, an unchanged grid is a 304 again.
    third = pull(field_client, since=second["token"], etag=f'"{second["token"]}"')
    assert third.status_code == 304


def test_only_grid_workers_pull(grid_data, api, users):
    for user in (users.community, users.admin):
        response = api(user).get("/api/field/sync/")
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "field_app_grid_workers_only"


def count_queries(client, since=None, etag=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = pull(client, since=since, etag=etag)
    return len(queries), response


def test_query_counts_do_not_grow_with_the_grid(grid_data, field_client, add_household, tree):
    full, response = count_queries(field_client)
    token = response.json()["token"]
    unchanged, response = count_queries(field_client, since=token, etag=response["ETag"])
    assert response.status_code == 304
    point = centre_of(tree.grids[(1, 1, 1)])
    for n in range(5):
        home = add_household(point, address=f"mine路{n + 10}号")
        household_service.add_residents(home, [resident(20 + n)])
    full_more, response = count_queries(field_client)
    delta, _ = count_queries(field_client, since=token)
    # Pinned, and the same with 5 more households: the token with its user, grid and device
    # (1; the first request also writes last_used_at), ME's boundary (1), the 4 large sets
    # (1 each), incidents, tasks and patrols with their prefetch (2 each), visits,
    # categories, notifications, change sets (1 each), the ledger sheet and its rules (12),
    # the needs with their photos and dispatches (3) and the service kinds (1, #20),
    # the audit row (1), the token's slide and the device's sync time (2).
    assert full == FULL_QUERIES + 1
    assert full_more == FULL_QUERIES
    # Unchanged: each large set's versions instead of its records, and no audit row.
    assert unchanged == FULL_QUERIES - 1
    # The changed large sets read their versions, then their changed rows.
    assert delta == FULL_QUERIES + 2


FULL_QUERIES = 34


def test_visits_and_tasks_are_the_workers(grid_data, field_client, users, tree):
    # Another worker of the same grid: their visits are not mine; the grid's tasks are.
    from grids.models import User

    colleague = User.objects.create_user(
        "colleague", password="x", role="grid_worker", grid=tree.grids[(1, 1, 1)]
    )
    record_visit(grid_data["mine"]["households"], centre_of(tree.grids[(1, 1, 1)]), user=colleague)
    body = pull(field_client).json()
    assert [v["id"] for v in body["sets"]["visits"]["upsert"]] == [grid_data["mine"]["visits"]]
    assert Visit.objects.count() == 3
