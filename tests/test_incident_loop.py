"""The closed loop (#4): every step, who may take it, versions, the clocks, merging."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import Action, Incident, IncidentEvent, Status
from incidents.services import Report, report_incident
from incidents.services.clocks import mark_overdue
from incidents.services.transitions import StaleVersion, Step, StepRefused, take_step
from notifications.models import Notification
from tests.conftest import centre_of


def step(incident, user, action, **kwargs):
    current = Incident.objects.get(pk=incident.pk)
    return take_step(incident.pk, Step(action=action, version=current.version, **kwargs), user=user)


def test_the_whole_loop_from_grid_to_department_and_back(users, incident, catalogue):
    """The Yongchuan bus case: grid -> community -> street, whistled to transport, acknowledged,
    fed back, verified, closed and rated by the street and the reporter."""
    transport_user = users.department
    transport_user.department = catalogue["transport"]
    transport_user.save()
    step(incident, users.worker, "escalate")
    step(incident, users.community, "escalate")
    held = step(incident, users.street, "whistle", department="transport", whistle_class="urgent")
    assert (held.level, held.status, held.department) == (
        "department",
        "dispatched",
        catalogue["transport"],
    )
    assert held.due_at - timezone.now() < dt.timedelta(minutes=31)
    step(incident, transport_user, "acknowledge")
    step(incident, transport_user, "feed_back", comment="加开两班校车")
    back = step(incident, users.street, "verify")
    assert back.level == "street"
    closed = step(incident, users.street, "close")
    assert closed.status == Status.CLOSED and closed.closed_at
    step(incident, users.street, "assess", score=5, comment="响应快")
    rated = step(incident, users.worker, "assess", score=4)
    assert (rated.department_score, rated.satisfaction, rated.status) == (5, 4, "assessed")
    actions = list(IncidentEvent.objects.filter(incident=incident).values_list("action", flat=True))
    assert actions == [
        "report",
        "escalate",
        "escalate",
        "whistle",
        "acknowledge",
        "feed_back",
        "verify",
        "close",
        "assess",
        "assess",
    ]
    assert rated.version == 10
    told = set(Notification.objects.values_list("user__username", "kind"))
    assert {
        ("community", "incident.escalated"),
        ("street", "incident.escalated"),
        ("department", "incident.whistled"),
        ("street", "incident.fed_back"),
    } <= told


def test_a_grid_handles_its_own_incident(users, incident):
    step(incident, users.worker, "register")
    step(incident, users.worker, "dispatch")
    step(incident, users.worker, "acknowledge")
    step(incident, users.worker, "feed_back")
    step(incident, users.worker, "verify")
    assert step(incident, users.worker, "close").status == Status.CLOSED


def test_a_stale_version_is_refused_and_nothing_changes(users, incident):
    step(incident, users.worker, "register")
    with pytest.raises(StaleVersion) as stale:
        take_step(incident.pk, Step(action="dispatch", version=1), user=users.worker)
    assert stale.value.incident.version == 2
    assert Incident.objects.get(pk=incident.pk).status == Status.REGISTERED
    assert IncidentEvent.objects.filter(incident=incident).count() == 2


@pytest.mark.parametrize(
    "who,action,code,status",
    [
        ("other_worker", "register", None, None),  # not visible at all
        ("community", "register", "not_permitted", 403),  # the grid holds it
        ("department", "register", None, None),
        ("worker", "verify", "not_allowed_in_status", 409),
        ("worker", "whistle", "not_allowed_in_status", 409),
        ("worker", "dismiss", "reason_required", 400),
        ("worker", "assess", "not_allowed_in_status", 409),
    ],
)
def test_steps_out_of_turn_are_refused(users, incident, who, action, code, status):
    user = getattr(users, who)
    if code is None:
        with pytest.raises(Incident.DoesNotExist):
            step(incident, user, action)
    else:
        with pytest.raises(StepRefused) as refused:
            step(incident, user, action)
        assert (refused.value.problems[0].code, refused.value.status_code) == (code, status)
    assert Incident.objects.get(pk=incident.pk).version == 1


def test_rework_send_back_and_transfer_need_a_reason_and_a_destination(users, incident, catalogue):
    step(incident, users.worker, "escalate")
    step(incident, users.community, "dispatch", department="civil-affairs")
    with pytest.raises(StepRefused) as no_reason:
        step(incident, users.community, "transfer", department="transport")
    assert no_reason.value.problems[0].code == "reason_required"
    with pytest.raises(StepRefused) as nowhere:
        step(incident, users.community, "transfer", department="nowhere", comment="不归我们")
    assert nowhere.value.problems[0].code == "unknown_department"
    moved = step(incident, users.community, "transfer", department="transport", comment="属交通")
    assert moved.department == catalogue["transport"]
    users.department.department = catalogue["transport"]
    users.department.save()
    back = step(incident, users.department, "send_back", comment="不属于本部门职责")
    assert (back.level, back.status, back.department) == ("community", "registered", None)
    step(incident, users.community, "dispatch")
    step(incident, users.community, "acknowledge")
    step(incident, users.community, "feed_back")
    reworked = step(incident, users.community, "rework", comment="没修好")
    assert (reworked.status, reworked.rework_count) == ("handling", 1)


def test_the_clock_marks_overdue_once_and_escalates_when_the_category_says(
    users, incident, catalogue
):
    later = incident.due_at + dt.timedelta(minutes=1)
    run = mark_overdue(later)
    assert (run.overdue, run.escalated) == (1, 0)
    assert mark_overdue(later).overdue == 0  # once per step
    marked = Incident.objects.get(pk=incident.pk)
    assert (marked.step_overdue, marked.overdue_count, marked.version) == (True, 1, 1)
    assert Notification.objects.filter(user=users.worker, kind="incident.overdue").exists()
    catalogue["category"].escalate_when_overdue = True
    catalogue["category"].save()
    step(incident, users.worker, "register")
    run = mark_overdue(Incident.objects.get(pk=incident.pk).due_at + dt.timedelta(minutes=1))
    assert (run.overdue, run.escalated) == (1, 1)
    up = Incident.objects.get(pk=incident.pk)
    assert (up.level, up.status, up.overdue_count, up.step_overdue) == (
        "community",
        "registered",
        2,
        False,
    )
    auto = IncidentEvent.objects.filter(incident=incident, action=Action.ESCALATE).get()
    assert auto.actor is None and auto.data["automatic"]


def test_a_duplicate_is_merged_into_the_first(tree, users, incident):
    near = centre_of(tree.grids[(1, 1, 1)])
    second, _ = report_incident(
        Report(title="又一个", category="T0101", source="resident", location=near),
        user=users.worker,
    )
    merged = step(second, users.worker, "merge", target=incident.pk)
    assert (merged.status, merged.merged_into_id) == ("closed", incident.pk)
    note = IncidentEvent.objects.filter(incident=incident, action="merge").get()
    assert note.data == {"merged": second.pk}
    with pytest.raises(StepRefused):
        step(incident, users.worker, "merge", target=second.pk)
