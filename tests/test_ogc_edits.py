"""OGC API – Features Part 4 (issue #19): create, replace, update and delete households and
sensors through /ogc/, with ETag / If-Match, scope, roles, audit and bad input."""

from __future__ import annotations

import json
import threading

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from grids.models import AuditLog, Household, today
from grids.services import stats
from grids.services import tokens as api_tokens
from grids.signals import data_changed
from ogc.collections import CHANGE_SETS
from sensors.models import AlertKind, Sensor, SensorAlert
from sensors.services import registry
from tests.conftest import centre_of
from tests.test_import_words import assert_chinese

ITEMS = "/ogc/collections/households/items"
GEOJSON = "application/geo+json"
PATCH = "application/merge-patch+json"
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"


def feature(point: Point | None, **properties) -> dict:
    body = {"type": "Feature", "properties": properties}
    body["geometry"] = (
        None if point is None else {"type": "Point", "coordinates": [point.x, point.y]}
    )
    return body


def send(client, method: str, path: str, body, content_type: str = GEOJSON, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(path, data=data, content_type=content_type, headers=headers)


def fields_of(response) -> set[str]:
    return {error.get("field") for error in response.json()["errors"]}


@pytest.fixture
def worker_grid(tree):
    return tree.grids[(1, 1, 1)]


# --- households ---------------------------------------------------------------------------


def test_create_keys_to_the_grid_and_answers_like_get(api, users, worker_grid):
    client = api(users.worker)
    response = send(client, "post", ITEMS, feature(centre_of(worker_grid), address="新路1号"))
    assert response.status_code == 201, response.content
    household = Household.objects.get(address="新路1号")
    assert household.grid == worker_grid
    assert response["Location"].endswith(f"{ITEMS}/{household.pk}")
    assert response["ETag"].startswith('"')
    body = response.json()
    assert body["id"] == household.pk
    assert body["properties"]["grid"] == worker_grid.code
    got = client.get(f"{ITEMS}/{household.pk}")
    assert got["ETag"] == response["ETag"]
    entry = AuditLog.objects.get(action=AuditLog.Action.EDIT)
    assert (entry.user, entry.model, entry.object_ids, entry.channel) == (
        users.worker,
        "household",
        [household.pk],
        "ogc",
    )
    assert entry.path == ITEMS


def test_a_resend_with_the_client_key_is_not_duplicated(api, users, worker_grid):
    client = api(users.worker)
    body = feature(centre_of(worker_grid), address="新路2号", client_key="phone-1-0001")
    first = send(client, "post", ITEMS, body)
    again = send(client, "post", ITEMS, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Household.objects.filter(client_key="phone-1-0001").count() == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.EDIT).count() == 1


def test_a_client_key_of_another_jurisdiction_is_a_conflict(api, users, tree, worker_grid):
    other = api(users.other_worker)
    body = feature(centre_of(tree.grids[(2, 2, 2)]), address="别处", client_key="shared-key")
    assert send(other, "post", ITEMS, body).status_code == 201
    mine = feature(centre_of(worker_grid), address="这里", client_key="shared-key")
    response = send(api(users.worker), "post", ITEMS, mine)
    assert response.status_code == 400
    assert fields_of(response) == {"properties.client_key"}
    assert "别处" not in response.content.decode()
    assert Household.objects.count() == 1


def test_create_outside_the_jurisdiction_names_only_the_geometry(api, users, tree):
    other = tree.grids[(2, 2, 2)]
    response = send(api(users.worker), "post", ITEMS, feature(centre_of(other), address="x"))
    assert response.status_code == 400
    assert fields_of(response) == {"geometry"}
    assert other.code not in response.content.decode()
    assert not Household.objects.exists()
    assert not AuditLog.objects.exists()


def test_replace_moves_and_rekeys(api, users, tree, homes):
    home = homes[(1, 1, 1)]
    target = tree.grids[(1, 1, 2)]
    client = api(users.community)
    path = f"{ITEMS}/{home.pk}"
    etag = client.get(path)["ETag"]
    response = send(
        client, "put", path, feature(centre_of(target), address="搬家路3号"), **{"If-Match": etag}
    )
    assert response.status_code == 200, response.content
    home.refresh_from_db()
    assert (home.address, home.grid) == ("搬家路3号", target)
    assert response.json()["properties"]["grid"] == target.code
    assert response["ETag"] != etag


def test_replace_needs_geometry_and_required_properties(api, users, homes):
    home = homes[(1, 1, 1)]
    response = send(api(users.worker), "put", f"{ITEMS}/{home.pk}", feature(None, client_key=None))
    assert response.status_code == 400
    assert fields_of(response) == {"geometry", "properties.address"}
    home.refresh_from_db()
    assert home.address == "地址(1, 1, 1)"


def test_update_changes_only_what_is_sent(api, users, homes, worker_grid):
    home = homes[(1, 1, 1)]
    client = api(users.worker)
    path = f"{ITEMS}/{home.pk}"
    response = send(client, "patch", path, {"properties": {"address": "改名路"}}, PATCH)
    assert response.status_code == 200, response.content
    home.refresh_from_db()
    assert home.address == "改名路"
    assert home.location == centre_of(worker_grid)
    moved = Point(home.location.x + 0.001, home.location.y + 0.001, srid=4326)
    geometry = {"type": "Point", "coordinates": [moved.x, moved.y]}
    response = send(client, "patch", path, {"geometry": geometry}, PATCH)
    assert response.status_code == 200, response.content
    home.refresh_from_db()
    assert home.address == "改名路"
    assert home.location.distance(moved) < 1e-9
    assert AuditLog.objects.filter(action="edit", object_ids=[home.pk]).count() == 2


def test_delete_removes_today_and_the_figures_follow(api, users, homes, worker_grid):
    home = homes[(1, 1, 1)]
    assert stats.current_figures()[worker_grid.pk].households == 1
    client = api(users.worker)
    path = f"{ITEMS}/{home.pk}"
    response = client.delete(path)
    assert response.status_code == 204
    home.refresh_from_db()
    assert home.removed_on == today()  # kept: households are history
    assert client.get(path).status_code == 404
    assert stats.current_figures().get(worker_grid.pk, stats.Figures()).households == 0
    assert client.delete(path).status_code == 404


def test_if_match_stale_is_412_fresh_passes(api, users, homes):
    home = homes[(1, 1, 1)]
    client = api(users.worker)
    path = f"{ITEMS}/{home.pk}"
    old = client.get(path)["ETag"]
    assert send(client, "patch", path, {"properties": {"address": "一"}}, PATCH).status_code == 200
    fresh = client.get(path)["ETag"]
    assert fresh != old
    stale = send(
        client, "patch", path, {"properties": {"address": "二"}}, PATCH, **{"If-Match": old}
    )
    assert stale.status_code == 412
    assert stale["ETag"] == fresh
    assert stale.json()["etag"] == fresh
    assert fields_of(stale) == {"If-Match"}
    assert client.delete(path, headers={"If-Match": old}).status_code == 412
    home.refresh_from_db()
    assert (home.address, home.removed_on) == ("一", None)
    ok = send(
        client, "patch", path, {"properties": {"address": "二"}}, PATCH, **{"If-Match": fresh}
    )
    assert ok.status_code == 200
    anything = send(
        client, "patch", path, {"properties": {"address": "三"}}, PATCH, **{"If-Match": "*"}
    )
    assert anything.status_code == 200
    assert client.get(path, headers={"If-None-Match": anything["ETag"]}).status_code == 304


def test_outside_scope_is_404_and_untouched(api, users, homes):
    other = homes[(2, 2, 2)]
    client = api(users.worker)
    path = f"{ITEMS}/{other.pk}"
    for method, body in (("put", feature(centre_of_home(other), address="x")), ("patch", {})):
        response = send(client, method, path, body, PATCH if method == "patch" else GEOJSON)
        assert response.status_code == 404
        assert other.grid.code not in response.content.decode()
    assert client.delete(path).status_code == 404
    # A stale If-Match on it is still "not found": no 412, no ETag of a feature not the caller's.
    refused = client.delete(path, headers={"If-Match": '"stale"'})
    assert refused.status_code == 404 and not refused.has_header("ETag")
    assert "etag" not in refused.json()
    other.refresh_from_db()
    assert (other.address, other.removed_on) == ("地址(2, 2, 2)", None)


def centre_of_home(home):
    return home.location


def test_moving_out_of_the_jurisdiction_is_refused(api, users, tree, homes):
    home = homes[(1, 1, 1)]
    outside = centre_of(tree.grids[(2, 2, 2)])
    geometry = {"type": "Point", "coordinates": [outside.x, outside.y]}
    response = send(api(users.worker), "patch", f"{ITEMS}/{home.pk}", {"geometry": geometry}, PATCH)
    assert response.status_code == 400
    assert fields_of(response) == {"geometry"}
    home.refresh_from_db()
    assert home.location == centre_of(tree.grids[(1, 1, 1)])


def test_roles_that_only_read(api, users, homes, worker_grid):
    home = homes[(1, 1, 1)]
    district = api(users.district)
    body = feature(centre_of(worker_grid), address="x")
    assert send(district, "post", ITEMS, body).status_code == 403
    assert district.delete(f"{ITEMS}/{home.pk}").status_code == 403
    assert district.options(ITEMS)["Allow"] == "GET, HEAD, OPTIONS"
    # A department sees no households: the collection is not there for it.
    assert send(api(users.department), "post", ITEMS, body).status_code == 404
    assert Household.objects.count() == len(homes)


def test_allow_answers_per_role(api, users, homes):
    worker = api(users.worker)
    assert worker.options(ITEMS)["Allow"] == "GET, HEAD, OPTIONS, POST"
    item = worker.options(f"{ITEMS}/{homes[(1, 1, 1)].pk}")
    assert item["Allow"] == "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"
    assert worker.options(f"{ITEMS}/{homes[(2, 2, 2)].pk}").status_code == 404


def test_grids_are_read_only_and_say_where_edits_go(api, users, tree):
    response = send(api(users.admin), "post", "/ogc/collections/grids/items", feature(None))
    assert response.status_code == 405
    assert "POST" not in response["Allow"] and "GET" in response["Allow"]
    body = response.json()
    assert body["errors"][0]["field"] == "method"
    assert "变更" in body["description"] or "change set" in body["description"]
    assert body["links"][0]["href"].endswith(CHANGE_SETS)
    code = tree.grids[(1, 1, 1)].code
    put = send(api(users.admin), "put", f"/ogc/collections/grids/items/{code}", feature(None))
    assert put.status_code == 405


def test_unsupported_media_types(api, users, homes, worker_grid):
    client = api(users.worker)
    body = feature(centre_of(worker_grid), address="x")
    assert send(client, "post", ITEMS, body, "text/plain").status_code == 415
    path = f"{ITEMS}/{homes[(1, 1, 1)].pk}"
    response = send(client, "put", path, body, PATCH)
    assert response.status_code == 415
    assert fields_of(response) == {"Content-Type"}
    assert Household.objects.count() == len(homes)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ({"type": "FeatureCollection", "features": []}, "type"),
        ([1, 2], "type"),
        ({"type": "Feature", "properties": [], "geometry": None}, "properties"),
        (
            {
                "type": "Feature",
                "properties": {"address": "x"},
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]},
            },
            "geometry",
        ),
        ({"type": "Feature", "properties": {"address": "x"}, "geometry": None}, "geometry"),
        (
            {"type": "Feature", "properties": {"address": "x"}, "geometry": {"type": "Point"}},
            "geometry",
        ),
        (feature(Point(999, 29.3), address="x"), "geometry"),
        (feature(Point(105.92, 91), address="x"), "geometry"),
        ("INSIDE", "properties.colour"),
        ("INSIDE_GRID", "properties.grid"),
        ("INSIDE_MEMBERS", "properties.member_count"),
        ("INSIDE_LIST", "properties.address"),
        ("INSIDE_FUTURE", "properties.registered_on"),
        ("INSIDE_NUL", "properties.address"),
        ("INSIDE_LONG", "properties.address"),
    ],
)
def test_bad_input_names_its_field(api, users, worker_grid, body, field):
    inside = centre_of(worker_grid)
    bodies = {
        "INSIDE": feature(inside, address="x", colour="red"),
        "INSIDE_GRID": feature(inside, address="x", grid="500118002002002"),
        "INSIDE_MEMBERS": feature(inside, address="x", member_count=3),
        "INSIDE_LIST": feature(inside, address=["x"]),
        "INSIDE_FUTURE": feature(inside, address="x", registered_on="2999-01-01"),
        "INSIDE_NUL": feature(inside, address="x\u0000y"),
        "INSIDE_LONG": feature(inside, address="长" * 300),
    }
    body = bodies.get(body, body) if isinstance(body, str) else body
    response = send(api(users.worker), "post", ITEMS, body)
    assert response.status_code == 400, response.content
    assert field in fields_of(response), response.json()
    assert response.json()["code"] == "InvalidParameterValue"
    assert not Household.objects.exists()
    assert not AuditLog.objects.exists()


def test_read_only_properties_sent_back_unchanged_are_accepted(api, users, homes, worker_grid):
    """QGIS sends back every attribute it read: equal read-only values (and the server's
    times, whatever their rounding) pass; a changed one is refused."""
    home = homes[(1, 1, 1)]
    client = api(users.worker)
    path = f"{ITEMS}/{home.pk}"
    read = client.get(path).json()
    sent = {**read, "properties": {**read["properties"], "address": "回写路"}}
    sent["properties"]["updated_at"] = "2001-01-01T00:00:00Z"
    response = send(client, "put", path, sent)
    assert response.status_code == 200, response.content
    sent["properties"]["member_count"] = 7
    response = send(client, "put", path, sent)
    assert response.status_code == 400
    assert fields_of(response) == {"properties.member_count"}
    changed_id = {**read, "id": home.pk + 1}
    assert fields_of(send(client, "put", path, changed_id)) == {"id"}


def test_content_crs_is_read(api, users, worker_grid):
    inside = centre_of(worker_grid)
    # EPSG:4326 is latitude first.
    body = {
        "type": "Feature",
        "properties": {"address": "纬度在前"},
        "geometry": {"type": "Point", "coordinates": [inside.y, inside.x]},
    }
    response = send(
        api(users.worker),
        "post",
        ITEMS,
        body,
        **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"},
    )
    assert response.status_code == 201, response.content
    household = Household.objects.get(address="纬度在前")
    assert household.location.distance(inside) < 1e-7
    assert household.grid == worker_grid
    bad = send(api(users.worker), "post", ITEMS, body, **{"Content-Crs": "EPSG:99999"})
    assert bad.status_code == 400
    assert fields_of(bad) == {"Content-Crs"}


def test_conformance_declares_part4(api, users):
    classes = api(users.worker).get("/ogc/conformance").json()["conformsTo"]
    assert PART4 + "create-replace-delete" in classes
    assert PART4 + "update" in classes


# --- sensors ------------------------------------------------------------------------------

TANKS = "/ogc/collections/sensors-water_tank/items"


def tank(point: Point, code: str = "T-1", **properties) -> dict:
    return feature(point, code=code, name="水池", properties={"capacity_m3": 50}, **properties)


def test_sensor_create_update_delete(api, users, tree):
    point = centre_of(tree.grids[(1, 1, 1)])
    street = api(users.street)
    response = send(street, "post", TANKS, tank(point))
    assert response.status_code == 201, response.content
    assert response["Location"].endswith(f"{TANKS}/T-1")
    sensor = Sensor.objects.get(code="T-1")
    assert (sensor.type.code, sensor.grid) == ("water_tank", tree.grids[(1, 1, 1)])
    body = response.json()
    assert body["properties"]["type"] == "water_tank"

    path = f"{TANKS}/T-1"
    patch = {"properties": {"properties": {"access": "北门"}, "status": "maintenance"}}
    response = send(street, "patch", path, patch, PATCH)
    assert response.status_code == 200, response.content
    sensor.refresh_from_db()
    assert sensor.properties == {"capacity_m3": 50, "access": "北门"}
    assert sensor.status == "maintenance"

    bad = send(street, "patch", path, {"properties": {"properties": {"capacity_m3": -1}}}, PATCH)
    assert bad.status_code == 400
    assert fields_of(bad) == {"properties.properties.capacity_m3"}
    renamed = send(street, "patch", path, {"properties": {"code": "T-2"}}, PATCH)
    assert fields_of(renamed) == {"properties.code"}

    # Deleting devices is the district's (as in the registry API).
    assert street.delete(path).status_code == 403
    assert "DELETE" not in street.options(path)["Allow"]
    assert api(users.district).delete(path).status_code == 204
    assert not Sensor.objects.filter(code="T-1").exists()
    assert AuditLog.objects.filter(action="edit", model="sensor").count() == 3


def test_sensor_in_use_is_409(api, users, tree):
    point = centre_of(tree.grids[(1, 1, 1)])
    sensor = registry.create_sensor(
        registry.SensorSpec(
            code="T-9", type="water_tank", location=point, properties={"capacity_m3": 5}
        )
    )
    moment = timezone.now()
    SensorAlert.objects.create(
        sensor=sensor, kind=AlertKind.LOW_LEVEL, started_at=moment, last_at=moment
    )
    response = api(users.district).delete(f"{TANKS}/T-9")
    assert response.status_code == 409
    assert Sensor.objects.filter(code="T-9").exists()
    assert not AuditLog.objects.exists()


def test_sensor_scope_and_roles(api, users, tree):
    inside = centre_of(tree.grids[(1, 1, 1)])
    outside = centre_of(tree.grids[(2, 2, 2)])
    # Grid workers read sensors only.
    assert send(api(users.worker), "post", TANKS, tank(inside)).status_code == 403
    response = send(api(users.community), "post", TANKS, tank(outside))
    assert response.status_code == 400
    assert fields_of(response) == {"geometry"}
    # A department registers its own devices, and changes only those.
    department = api(users.department)
    response = send(department, "post", TANKS, tank(inside, code="D-1"))
    assert response.status_code == 201, response.content
    assert Sensor.objects.get(code="D-1").department == users.department.department
    registry.create_sensor(
        registry.SensorSpec(
            code="S-1", type="water_tank", location=inside, properties={"capacity_m3": 5}
        )
    )
    response = send(department, "patch", f"{TANKS}/S-1", {"properties": {"name": "x"}}, PATCH)
    assert response.status_code == 403
    # Another jurisdiction's device is not found.
    registry.create_sensor(
        registry.SensorSpec(
            code="S-2", type="water_tank", location=outside, properties={"capacity_m3": 5}
        )
    )
    response = send(api(users.community), "patch", f"{TANKS}/S-2", {"properties": {}}, PATCH)
    assert response.status_code == 404
    assert Sensor.objects.count() == 3


def test_refusals_speak_chinese_by_default(api, users, homes):
    client = api(users.worker)
    collection = {"type": "FeatureCollection", "features": []}
    response = send(client, "post", ITEMS, collection)
    assert (
        response.json()["errors"][0]["message"]
        == "每个请求发送一个 Feature，而不是 FeatureCollection"
    )
    path = f"{ITEMS}/{homes[(1, 1, 1)].pk}"
    stale = send(client, "patch", path, {"properties": {}}, PATCH, **{"If-Match": '"old"'})
    assert_chinese(stale.json()["description"].split(":", 1)[1])


def test_a_desktop_client_writes_with_its_token_and_no_csrf(users, worker_grid):
    """QGIS and scripts send `Authorization: Token …` (or Basic), no session and no CSRF
    token: the write goes through the real authentication."""
    _token, secret = api_tokens.issue(users.worker, "qgis")
    client = APIClient(enforce_csrf_checks=True)
    body = feature(centre_of(worker_grid), address="令牌路")
    response = send(client, "post", ITEMS, body, Authorization=f"Token {secret}")
    assert response.status_code == 201, response.content
    anonymous = send(APIClient(), "post", ITEMS, body)
    assert anonymous.status_code == 401
    assert Household.objects.filter(address="令牌路").count() == 1


# --- what other parts learn of a write, and the order of the locks ----------------------------


def test_every_write_tells_the_tiles_after_the_commit(
    api, users, tree, homes, worker_grid, django_capture_on_commit_callbacks
):
    """Map tiles and figures are invalidated by grids.signals.data_changed, sent once the
    write commits: each OGC write of a household or a device must send it."""
    sent = []

    def heard(sender, **kwargs):
        sent.append(sender)

    data_changed.connect(heard)
    try:
        client = api(users.worker)
        path = f"{ITEMS}/{homes[(1, 1, 1)].pk}"
        writes = [
            lambda: send(client, "post", ITEMS, feature(centre_of(worker_grid), address="新")),
            lambda: send(client, "patch", path, {"properties": {"address": "改"}}, PATCH),
            lambda: client.delete(path),
            lambda: send(api(users.street), "post", TANKS, tank(centre_of(worker_grid))),
        ]
        for write, model in zip(writes, (Household, Household, Household, Sensor), strict=True):
            sent.clear()
            with django_capture_on_commit_callbacks(execute=True):
                response = write()
            assert response.status_code in (200, 201, 204), response.content
            assert model in sent, (model, response.status_code)
    finally:
        data_changed.disconnect(heard)


def test_a_change_takes_the_tree_lock_before_the_row(api, users, homes):
    """A boundary change takes the tree lock, then re-keys rows: a PUT/PATCH that held the
    row while it waited for the tree would deadlock against it. The statements' order
    shows which lock is taken first."""
    home = homes[(1, 1, 1)]
    path = f"{ITEMS}/{home.pk}"
    client = api(users.worker)
    client.get(path)  # signs in, warms the caches
    moved = {"type": "Point", "coordinates": [home.location.x + 0.001, home.location.y]}
    with CaptureQueriesContext(connection) as queries:
        response = send(client, "patch", path, {"geometry": moved}, PATCH)
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in queries.captured_queries]
    tree_lock = next(i for i, sql in enumerate(statements) if "pg_advisory_xact_lock" in sql)
    row_lock = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql)
    assert tree_lock < row_lock


@pytest.mark.django_db(transaction=True)
def test_a_feature_removed_while_the_write_waited_is_not_written(api, users, homes):
    """Another writer holds the household and removes it; the PATCH waits for the row. Once
    it has the row it must see the removal (not the state it saw before the wait): 404,
    nothing written, nothing audited."""
    home = homes[(1, 1, 1)]
    holding, release = threading.Event(), threading.Event()

    def remove_while_holding():
        try:
            with transaction.atomic():
                Household.objects.select_for_update().get(pk=home.pk)
                Household.objects.filter(pk=home.pk).update(removed_on=today())
                holding.set()
                # Commit only once the PATCH waits for this row (a lock wait, seen by the
                # server), so the PATCH's row lock is taken after the removal.
                with connection.cursor() as cursor:
                    while not release.is_set():
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                        if cursor.fetchone()[0]:
                            break
        finally:
            connection.close()

    remover = threading.Thread(target=remove_while_holding)
    remover.start()
    assert holding.wait(30)
    try:
        path = f"{ITEMS}/{home.pk}"
        response = send(api(users.worker), "patch", path, {"properties": {"address": "迟"}}, PATCH)
    finally:
        release.set()
        remover.join(30)
    assert response.status_code == 404, response.content
    home.refresh_from_db()
    assert (home.address, home.removed_on) == ("地址(1, 1, 1)", today())
    assert not AuditLog.objects.filter(action=AuditLog.Action.EDIT).exists()
