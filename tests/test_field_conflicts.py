"""Conflicts (issue #18): an edit from the phone based on an older version of its record is
refused with 409 and the record as it is now (in the working set's shape), nothing of it is
written and nothing is stored, so the worker can choose and send again with the same key."""

from __future__ import annotations

import pytest
from django.utils import timezone

from field.models import OutboxReceipt
from field.services import devices, versions
from grids.models import Resident
from grids.services import households
from incidents.models import Incident, Task, TaskKind
from incidents.services.transitions import Step, take_step
from reports.models import LedgerEntry
from reports.periods import Period
from reports.services import ledger
from tests.conftest import centre_of
from tests.field_fixtures import token_client
from tests.field_push import item, push, send
from tests.test_reports import groups, items, make_indicator, template  # noqa: F401

THIS_MONTH = Period.containing(timezone.localdate(), "month")


def conflict(answer, set_name: str) -> dict:
    assert answer.status_code == 409, answer.json()
    body = answer.json()
    assert body["errors"][0]["code"] == "conflict" and body["set"] == set_name
    assert body["current"]["version"] == body["current_version"]
    assert not OutboxReceipt.objects.exists()
    return body


@pytest.fixture
def home(tree, users, add_household):
    return add_household(centre_of(tree.grids[(1, 1, 1)]), address="测试路1号")


def test_a_household_edited_by_the_community_meanwhile(home, users, api, field_client):
    seen = versions.record_version("households", home)
    changed = api(users.community).patch(
        f"/api/households/{home.pk}/", {"address": "社区改的地址"}, format="json"
    )
    assert changed.status_code == 200
    body = item(
        "household.update", {"address": "网格员改的地址"}, target=home.pk, base_version=seen
    )
    refused = conflict(send(field_client, body), "households")
    assert refused["current"]["address"] == "社区改的地址"
    home.refresh_from_db()
    assert home.address == "社区改的地址"
    # The worker keeps theirs: the same item on the current version, under the same key.
    body["base_version"] = refused["current_version"]
    kept = send(field_client, body)
    assert kept.status_code == 201 and kept.json()["record"]["address"] == "网格员改的地址"


def test_a_resident_edited_meanwhile(home, field_client):
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
    seen = versions.record_version("residents", resident)
    Resident.objects.filter(pk=resident.pk).update(phone="13900000000", updated_at=timezone.now())
    answer = push(
        field_client,
        "resident.update",
        {"phone": "13800000000"},
        target=resident.pk,
        base_version=seen,
    )
    assert conflict(answer, "residents")["current"]["phone"] == "13900000000"
    resident.refresh_from_db()
    assert resident.phone == "13900000000"


def test_an_incident_step_on_an_older_version(incident, users, field_client):
    take_step(incident.pk, Step(action="register", version=incident.version), user=users.worker)
    answer = push(
        field_client,
        "incident.step",
        {"action": "escalate", "note": "需社区处理"},
        target=incident.pk,
        base_version="1",
    )
    body = conflict(answer, "incidents")
    assert body["current_version"] == "2" and body["current"]["status"] == "registered"
    assert "escalate" in body["current"]["actions"]
    assert Incident.objects.get(pk=incident.pk).version == 2


def test_a_ledger_cell_changed_meanwhile(tree, users, template, field_client):  # noqa: F811
    grid = tree.grids[(1, 1, 1)]
    ledger.save(users.worker, grid, THIS_MONTH, {"INSURED": 10})
    ledger.save(users.community, grid, THIS_MONTH, {"INSURED": 12}, versions={"INSURED": 1})
    target = f"{grid.code}:{THIS_MONTH.key}"
    answer = push(
        field_client,
        "ledger.save",
        {"values": {"INSURED": 11}, "versions": {"INSURED": 1}},
        target=target,
    )
    body = conflict(answer, "ledger")
    assert body["current"]["id"] == target
    current = {i["indicator"]: i for i in body["current"]["items"]}
    assert current["INSURED"]["value"] == 12 and current["INSURED"]["version"] == 2
    # Another cell saved on its own version does not conflict with that change.
    answer = push(
        field_client,
        "ledger.save",
        {"values": {"NEWBORN": 3}, "versions": {"NEWBORN": 0}},
        target=target,
    )
    assert answer.status_code == 201, answer.json()
    assert LedgerEntry.objects.get(indicator__code="INSURED").number == 12


def test_a_ledger_saved_on_an_old_sheet_version(tree, users, template, field_client):  # noqa: F811
    grid = tree.grids[(1, 1, 1)]
    seen = versions.ledger(ledger.sheet(grid, THIS_MONTH))
    ledger.save(users.community, grid, THIS_MONTH, {"INSURED": 12})
    target = f"{grid.code}:{THIS_MONTH.key}"
    answer = push(
        field_client, "ledger.save", {"values": {"INSURED": 11}}, target=target, base_version=seen
    )
    body = conflict(answer, "ledger")
    answer = push(
        field_client,
        "ledger.save",
        {"values": {"INSURED": 11}},
        target=target,
        base_version=body["current_version"],
    )
    assert answer.status_code == 201, answer.json()
    assert LedgerEntry.objects.get(indicator__code="INSURED").number == 11


def test_ledger_refusals_name_the_indicator(tree, template, field_client):  # noqa: F811
    grid = tree.grids[(1, 1, 1)]
    target = f"{grid.code}:{THIS_MONTH.key}"
    answer = push(
        field_client,
        "ledger.save",
        {"values": {"INSURED": -1}, "versions": {"INSURED": 0}},
        target=target,
    )
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "INSURED"
    other = tree.grids[(2, 2, 2)]
    answer = push(
        field_client,
        "ledger.save",
        {"values": {"INSURED": 1}, "versions": {"INSURED": 0}},
        target=f"{other.code}:{THIS_MONTH.key}",
    )
    assert answer.status_code == 404
    answer = push(
        field_client, "ledger.save", {"values": {"INSURED": 1}}, target=f"{grid.code}:2026-13"
    )
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "target"
    assert not LedgerEntry.objects.exists() and not OutboxReceipt.objects.exists()


def test_a_task_completed_by_a_teammate_meanwhile(tree, users, make_user, field_client):
    task = Task.objects.create(
        title="清理楼道",
        kind=TaskKind.OTHER,
        grid=tree.grids[(1, 1, 1)],
        due_on=timezone.localdate(),
    )
    teammate = make_user("teammate", "grid_worker", grid=tree.grids[(1, 1, 1)])
    other_phone = token_client(devices.register(teammate, "手机")[1])
    assert (
        push(other_phone, "task.complete", {"note": "我清理了"}, target=task.pk).status_code == 201
    )
    OutboxReceipt.objects.all().delete()
    body = conflict(
        push(field_client, "task.complete", {"note": "也清理了"}, target=task.pk), "tasks"
    )
    assert body["current"]["done_at"] is not None


def test_an_edit_without_its_base_version_is_refused(home, field_client):
    answer = push(field_client, "household.update", {"address": "x"}, target=home.pk)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "base_version"


def test_a_locked_period_is_a_refusal_not_a_conflict(tree, template, field_client):  # noqa: F811
    old = THIS_MONTH.shifted(-3)
    grid = tree.grids[(1, 1, 1)]
    answer = push(
        field_client,
        "ledger.save",
        {"values": {"INSURED": 1}, "versions": {"INSURED": 0}},
        target=f"{grid.code}:{old.key}",
    )
    assert answer.status_code == 403 and "current" not in answer.json()
    assert answer.json()["errors"][0]["code"] == "period_locked"
