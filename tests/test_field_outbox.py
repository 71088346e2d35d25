"""The phone's outbox on the server (issue #18): every kind applied through the apps'
services, answered in the working set's shape; a resend is one record; an interrupted sync
(the same key twice, also at once) writes nothing twice; refusals name the field and store
nothing; the phone's clock is kept but never used as a record's time."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.db import connection
from django.utils import timezone

from field.models import OutboxReceipt, TaskCompletion
from field.services import devices
from grids.models import Building, Household, Resident, Unit, UnitType
from grids.services import basedata, households
from incidents.models import Incident, IncidentPhoto, Task, TaskKind, Visit
from incidents.services import tasks as task_service
from notifications.models import Notification
from notifications.services import notify
from tests.conftest import centre_of
from tests.field_fixtures import token_client
from tests.field_push import URL, item, lonlat, photo, push, send


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def home(tree, field_worker, add_household):
    """A household in the field worker's grid."""
    return add_household(centre_of(tree.grids[(1, 1, 1)]), address="重庆市永川区测试路1号")


def report_data(tree, **extra) -> dict:
    return {
        "category": "T0101",
        "description": "井盖缺失，有人差点掉下去",
        "accuracy_m": 8,
        **lonlat(centre_of(tree.grids[(1, 1, 1)])),
        **extra,
    }


def error_of(answer) -> tuple[str, str | None]:
    error = answer.json()["errors"][0]
    return error["code"], error.get("field")


def applied(answer, kind: str, set_name: str) -> dict:
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "applied" and body["resent"] is False
    assert body["kind"] == kind and body["set"] == set_name
    assert body["record"]["id"] and body["record"]["version"] not in (None, "")
    return body["record"]


# --- every kind applied ------------------------------------------------------------------


def test_an_incident_report_arrives_with_its_photos(
    tree, catalogue, field_worker, field_client, media
):
    answer = push(field_client, "incident.report", report_data(tree), photos=[photo(), photo()])
    record = applied(answer, "incident.report", "incidents")
    incident = Incident.objects.get(pk=record["id"])
    assert incident.reporter == field_worker.user and incident.grid == tree.grids[(1, 1, 1)]
    assert incident.source == "patrol" and incident.category.code == "T0101"
    assert incident.title.startswith("井盖缺失")
    assert IncidentPhoto.objects.filter(incident=incident).count() == 2
    assert len(record["photos"]) == 2 and record["version"] == "1"
    receipt = OutboxReceipt.objects.get()
    assert receipt.device == field_worker.device and receipt.target_id == incident.pk


def test_a_report_near_the_grid_s_edge_is_the_worker_s_own_grid(tree, catalogue, field_client):
    # 105.925 is the edge between grids 001 and 002 of community 001001: 10 m inside 001.
    answer = push(field_client, "incident.report", report_data(tree, lon=105.9249, lat=29.32))
    record = applied(answer, "incident.report", "incidents")
    assert Incident.objects.get(pk=record["id"]).grid == tree.grids[(1, 1, 1)]


def test_an_incident_step_is_taken_on_the_incident_s_version(incident, field_client):
    answer = push(
        field_client,
        "incident.step",
        {"action": "register", "note": "已到现场核实"},
        target=incident.pk,
        base_version=str(incident.version),
    )
    record = applied(answer, "incident.step", "incidents")
    incident.refresh_from_db()
    assert incident.status == "registered" and record["version"] == str(incident.version) == "2"
    assert incident.events.last().comment == "已到现场核实"


def test_a_visit_is_recorded_and_ticks_off_the_task(tree, users, home, field_client):
    task = task_service.create_visit_task(
        tree.grids[(1, 1, 1)], title="走访", due_on=timezone.localdate(), user=users.community
    )
    data = {"household_id": home.pk, "note": "在家", "accuracy_m": 12, **lonlat(home.location)}
    record = applied(push(field_client, "visit.record", data), "visit.record", "visits")
    visit = Visit.objects.get(pk=record["id"])
    assert visit.household == home and visit.distance_m == 0 and not visit.flagged
    task.refresh_from_db()
    assert task.done_at is not None


def test_a_household_is_created_and_updated(tree, field_client, home):
    point = centre_of(tree.grids[(1, 1, 1)])
    data = {"address": "重庆市永川区测试路2号", **lonlat(point)}
    made = applied(push(field_client, "household.create", data), "household.create", "households")
    household = Household.objects.get(pk=made["id"])
    assert household.grid == tree.grids[(1, 1, 1)] and made["address"] == "重庆市永川区测试路2号"
    changed = push(
        field_client,
        "household.update",
        {"address": "重庆市永川区测试路2号附1号"},
        target=household.pk,
        base_version=made["version"],
    )
    record = applied(changed, "household.update", "households")
    assert (
        record["address"] == "重庆市永川区测试路2号附1号" and record["version"] != made["version"]
    )


def test_residents_are_added_and_edited(home, field_client, catalogue):
    data = {
        "household_id": home.pk,
        "name": "李四",
        "id_number": "500118199001011234",
        "birth_date": "1990-01-01",
        "sex": "M",
        "tags": ["elderly"],
    }
    # The check digit of these 17 digits is 7, not 4: refused by name, as the phone does.
    wrong = push(field_client, "resident.create", data)
    assert wrong.status_code == 400 and error_of(wrong) == ("id_checksum", "id_number")
    assert not Resident.objects.exists()
    data["id_number"] = "500118199001011237"
    made = applied(push(field_client, "resident.create", data), "resident.create", "residents")
    resident = Resident.objects.get(pk=made["id"])
    assert resident.household == home and resident.tags == ["elderly"]
    home.refresh_from_db()
    assert home.member_count == 1
    edited = push(
        field_client,
        "resident.update",
        {"phone": "13800000000"},
        target=resident.pk,
        base_version=made["version"],
    )
    assert applied(edited, "resident.update", "residents")["phone"] == "13800000000"


def test_buildings_and_units_are_written(tree, field_client, field_worker):
    point = centre_of(tree.grids[(1, 1, 1)])
    building, _ = basedata.create_building(code="B1", location=point)
    version = Building.objects.get(pk=building.pk).updated_at.isoformat(timespec="microseconds")
    changed = push(
        field_client,
        "building.update",
        {"floors": 6, "name": "一号楼"},
        target=building.pk,
        base_version=version,
    )
    assert applied(changed, "building.update", "buildings")["floors"] == 6
    unit_type = UnitType.objects.filter(active=True).first()
    data = {
        "name": "便民超市",
        "type": unit_type.code,
        "employees": 3,
        "building_id": building.pk,
        **lonlat(point),
    }
    made = applied(push(field_client, "unit.create", data), "unit.create", "units")
    unit = Unit.objects.get(pk=made["id"])
    assert unit.building == building and unit.grid == tree.grids[(1, 1, 1)]
    edited = push(
        field_client, "unit.update", {"employees": 4}, target=unit.pk, base_version=made["version"]
    )
    assert applied(edited, "unit.update", "units")["employees"] == 4


def test_a_task_is_completed_with_its_evidence(tree, users, field_client, media):
    task = Task.objects.create(
        title="清理楼道杂物",
        kind=TaskKind.OTHER,
        grid=tree.grids[(1, 1, 1)],
        due_on=timezone.localdate(),
        created_by=users.community,
    )
    refused = push(field_client, "task.complete", {"note": ""}, target=task.pk)
    assert refused.status_code == 400
    assert error_of(refused) == ("evidence_required", "note")
    answer = push(
        field_client, "task.complete", {"note": "已清理"}, target=task.pk, photos=[photo()]
    )
    record = applied(answer, "task.complete", "tasks")
    task.refresh_from_db()
    completion = TaskCompletion.objects.get(task=task)
    assert task.done_at is not None and record["done_at"] is not None
    assert completion.note == "已清理" and completion.photos[0].startswith(
        f"field/tasks/{task.pk}/"
    )
    # The photo is served to those who see the task, and to nobody else.
    url = f"/media/{completion.photos[0]}"
    assert field_client.get(url).status_code == 200
    assert token_client(devices.register(users.other_worker, "x")[1]).get(url).status_code == 404


def test_a_visit_task_needs_every_household_visited(tree, users, home, field_client):
    task = task_service.create_visit_task(
        tree.grids[(1, 1, 1)], title="走访", due_on=timezone.localdate(), user=users.community
    )
    answer = push(field_client, "task.complete", {"note": "都去了"}, target=task.pk)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["code"] == "task_targets_unvisited" and str(home.pk) in error["message"]
    assert not TaskCompletion.objects.exists() and not OutboxReceipt.objects.exists()


def test_notifications_are_marked_read(users, field_client, field_worker):
    notify([field_worker.user], kind="incident.fed_back", title="请核查")
    note = Notification.objects.get()
    answer = push(field_client, "notification.read", {"ids": [note.pk]})
    assert answer.status_code == 201 and answer.json()["marked"] == 1
    note.refresh_from_db()
    assert note.read_at is not None


# --- resends and interrupted syncs ---------------------------------------------------------


def test_a_resend_answers_the_first_result_and_writes_nothing(tree, catalogue, field_client, media):
    body = item("incident.report", report_data(tree))
    first = send(field_client, body, photos=[photo()])
    again = send(field_client, body, photos=[photo()])
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json() | {"resent": True}
    assert Incident.objects.count() == 1 and IncidentPhoto.objects.count() == 1
    assert OutboxReceipt.objects.count() == 1


def test_an_edit_resent_after_a_lost_answer_is_not_a_conflict(home, field_client):
    version = push(field_client, "household.update", {}, target=home.pk, base_version="x")
    current = version.json()["current_version"]
    body = item("household.update", {"address": "新地址1号"}, target=home.pk, base_version=current)
    assert send(field_client, body).status_code == 201
    # The phone never got the answer and sends the same item again: the receipt answers it.
    again = send(field_client, body)
    assert again.status_code == 200 and again.json()["resent"] is True


def test_a_phone_clock_offset_beyond_what_postgresql_stores_is_kept_in_utc(
    tree, catalogue, field_client
):
    # ISO 8601 allows +20:55; PostgreSQL's timestamptz input stops at ±15:59.
    body = item("incident.report", report_data(tree), client_time="2026-10-21T18:24:58.4+20:55")
    answer = send(field_client, body)
    assert answer.status_code == 201, answer.json()
    kept = OutboxReceipt.objects.get().client_time
    assert kept.isoformat() == "2026-10-20T21:29:58.400000+00:00"


def test_an_applied_key_sent_again_with_other_content_is_refused_not_dropped(home, field_client):
    version = push(field_client, "household.update", {}, target=home.pk, base_version="x")
    current = version.json()["current_version"]
    body = item("household.update", {"address": "新地址1号"}, target=home.pk, base_version=current)
    assert send(field_client, body).status_code == 201
    # Edited on the phone after it was applied (its answer lost): telling the phone "applied"
    # would lose the edit without a word.
    body["data"]["address"] = "新地址2号"
    again = send(field_client, body)
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "key_conflict"
    home.refresh_from_db()
    assert home.address == "新地址1号"


def test_a_refused_item_may_be_fixed_and_sent_again_with_its_key(tree, catalogue, field_client):
    body = item("incident.report", report_data(tree, category="NOPE"))
    assert send(field_client, body).status_code == 400
    body["data"]["category"] = "T0101"
    assert send(field_client, body).status_code == 201
    assert Incident.objects.count() == 1


def test_a_key_used_by_another_item_or_user_is_refused(users, field_client, field_worker):
    body = item("notification.read", {"ids": [1]})
    assert send(field_client, body).status_code == 201
    other_item = item("visit.record", {"household_id": 1}, key=body["client_key"])
    assert error_of(send(field_client, other_item)) == ("key_conflict", "client_key")
    other_phone = token_client(devices.register(users.worker, "第二部手机")[1])
    assert send(other_phone, body).status_code == 200  # the same worker's other phone
    stranger = make_phone(users)
    assert error_of(send(stranger, body)) == ("key_conflict", "client_key")
    assert OutboxReceipt.objects.count() == 1


def make_phone(users):
    users.other_worker.refresh_from_db()
    return token_client(devices.register(users.other_worker, "别人的手机")[1])


@pytest.mark.django_db(transaction=True)
def test_the_same_item_sent_twice_at_once_is_written_once(tree, catalogue, field_worker):
    body = item(
        "household.create", {"address": "并发路1号", **lonlat(centre_of(tree.grids[(1, 1, 1)]))}
    )
    statuses, barrier = [], threading.Barrier(2)

    def send_once():
        try:
            barrier.wait()
            statuses.append(send(token_client(field_worker.token), body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 201]
    assert Household.objects.filter(address="并发路1号").count() == 1
    assert OutboxReceipt.objects.count() == 1


# --- server time wins ----------------------------------------------------------------------


@pytest.mark.parametrize("phone_clock", ["2019-03-01T08:00:00+08:00", "2031-06-01T08:00:00Z"])
def test_the_phone_s_clock_is_kept_but_the_server_s_time_is_used(
    tree, catalogue, home, field_client, phone_clock
):
    before = timezone.now()
    report = push(field_client, "incident.report", report_data(tree), client_time=phone_clock)
    visit = push(
        field_client,
        "visit.record",
        {"household_id": home.pk, **lonlat(home.location)},
        client_time=phone_clock,
    )
    after = timezone.now()
    incident = Incident.objects.get(pk=report.json()["record"]["id"])
    assert before <= incident.reported_at <= after
    assert before <= Visit.objects.get(pk=visit.json()["record"]["id"]).visited_at <= after
    kept = {r.client_time for r in OutboxReceipt.objects.all()}
    assert kept == {dt.datetime.fromisoformat(phone_clock)}


# --- refusals: the reason, named, and nothing written ----------------------------------------


def nothing_written():
    assert not OutboxReceipt.objects.exists()
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"category": "NOPE"}, "unknown_category", "category"),
        ({"lon": None}, "required", "lon"),
        ({"lat": 999}, "invalid", "lat"),
        ({"description": 5}, "invalid", "description"),
        ({"patrol_client_key": "not-a-key"}, "invalid", "patrol_client_key"),
    ],
)
def test_a_bad_report_names_the_field(tree, catalogue, field_client, change, code, field):
    answer = push(field_client, "incident.report", report_data(tree) | change)
    assert answer.status_code == 400, answer.json()
    error = answer.json()["errors"][0]
    assert (error["code"], error["field"]) == (code, field)
    nothing_written()


def test_another_grid_is_out_of_reach(tree, catalogue, homes, field_client):
    elsewhere = report_data(tree) | lonlat(centre_of(tree.grids[(2, 2, 2)]))
    answer = push(field_client, "incident.report", elsewhere)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "outside_jurisdiction"
    other = homes[(2, 2, 2)]
    answer = push(
        field_client, "household.update", {"address": "x"}, target=other.pk, base_version="1"
    )
    assert answer.status_code == 404 and "500118002002" not in answer.content.decode()
    answer = push(field_client, "resident.create", {"household_id": other.pk, "name": "x"})
    assert answer.status_code == 404
    nothing_written()
    other.refresh_from_db()
    assert other.address != "x"


def test_item_level_refusals(tree, catalogue, field_client, settings):
    answer = push(field_client, "incident.explode", {})
    assert answer.status_code == 400
    assert error_of(answer) == ("unknown_kind", "kind")
    answer = field_client.post(
        URL, {**item("notification.read"), "client_key": "123"}, format="json"
    )
    assert answer.json()["errors"][0]["field"] == "client_key"
    answer = push(field_client, "notification.read", {"ids": [1]}, client_time="yesterday")
    assert answer.json()["errors"][0]["field"] == "client_time"
    answer = push(field_client, "notification.read", {"ids": [1]}, photos=[photo()])
    assert answer.json()["errors"][0]["code"] == "photos_not_accepted"
    settings.GRIDLINE_PHOTO_MAX_MB = 0.001
    answer = push(
        field_client,
        "incident.report",
        report_data(tree),
        photos=[photo(size=(400, 400), noise=True)],
    )
    assert answer.status_code == 413
    assert error_of(answer) == ("photo_too_large", "photos")
    answer = field_client.post(URL, "kind=incident.report", content_type="text/plain")
    assert answer.status_code == 415
    nothing_written()


def test_a_broken_photo_is_refused_by_the_incident_service(tree, catalogue, field_client):
    not_an_image = io.BytesIO(b"GIF89a not really")
    not_an_image.name = "x.jpg"
    answer = push(field_client, "incident.report", report_data(tree), photos=[not_an_image])
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "not_an_image"
    nothing_written()


def test_a_revoked_phone_is_told_to_wipe(field_worker, field_client, users):
    devices.revoke(field_worker.device, users.community)
    answer = push(field_client, "notification.read", {"ids": [1]})
    assert answer.status_code == 401 and answer.json()["wipe"] is True
    assert answer.json()["errors"][0]["code"] == "device_revoked"


def test_other_roles_use_the_main_site(users, api):
    answer = push(api(users.community), "notification.read", {"ids": [1]})
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "field_app_grid_workers_only"


# --- junk never reaches a 500 ------------------------------------------------------------------

JUNK = [None, [], {"a": 1}, "²", -1, "x" * 3000]
FIELDS = {
    "incident.report": ["category", "description", "lon", "lat", "priority", "address", "grid"],
    "incident.step": ["action", "note", "department", "score", "target", "to_level"],
    "visit.record": ["household_id", "lon", "lat", "note"],
    "household.create": ["address", "lon", "lat", "building_id", "registered_on"],
    "household.update": ["address", "lon", "registered_on", "standard_address_id"],
    "resident.create": ["household_id", "name", "id_number", "birth_date", "sex", "tags"],
    "resident.update": ["name", "tags", "tag_levels", "residence_since"],
    "building.update": ["floors", "use", "built_year", "lon", "code"],
    "unit.create": ["name", "type", "credit_code", "employees", "contact_phone", "lon"],
    "unit.update": ["employees", "type", "building_id"],
    "task.complete": ["note", "patrol_client_key"],
    "ledger.save": ["values", "versions"],
    "patrol.save": ["started_at", "ended_at", "points", "note"],
    "notification.read": ["ids"],
}


def test_junk_in_any_field_is_a_named_refusal_never_a_500(
    tree, catalogue, incident, home, field_client
):
    (resident,) = households.add_residents(
        home,
        [
            {
                "name": "王五",
                "id_number": "500118198001011234",
                "birth_date": "1980-01-01",
                "sex": "M",
            }
        ],
    )
    targets = {
        "incident.step": incident.pk,
        "household.update": home.pk,
        "resident.update": resident.pk,
        "ledger.save": "500118001001001:2026-12",
    }
    statuses = set()
    for kind, fields in FIELDS.items():
        for name in fields:
            for junk in JUNK:
                answer = push(
                    field_client,
                    kind,
                    {name: junk},
                    target=targets.get(kind, 1),
                    base_version=junk if isinstance(junk, str) else "1",
                )
                assert answer.status_code < 500, (kind, name, junk)
                statuses.add(answer.status_code)
                if answer.status_code >= 400:
                    assert answer.json()["errors"][0]["message"], (kind, name, junk)
    for junk in JUNK:
        for member in ("target", "base_version", "client_time", "data", "kind"):
            body = item("notification.read", {"ids": [1]}) | {member: junk}
            assert send(field_client, body).status_code < 500, (member, junk)
    assert statuses <= {200, 201, 400, 403, 404, 409}
