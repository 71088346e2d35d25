"""The closed loop (闭环): every step an incident can take, who may take it, and what it
changes. One table (`RULES`) says from which statuses an action starts and on whose behalf it
is taken; `take_step` checks the version, the status and the actor, applies the step and
appends its event, all in one transaction on the locked row.

Holders: the incident is held by `level` (a level of the tree, or `department`). A level that
dispatches or whistles becomes the `dispatcher_level`: the handling comes back to it to be
verified and closed. Escalation (上报) goes one level up the ladder grid -> community ->
street -> district; the street or district centre whistles (吹哨) to a department, which must
acknowledge (报到) and report back within its whistle class's hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import Department, Role, User
from grids.problems import Problem, ProblemsError
from incidents.models import (
    Action,
    Incident,
    IncidentEvent,
    Status,
    WhistleClass,
)
from incidents.models import Level as Holder
from incidents.services import live
from incidents.services.reporting import check_photos, due_at, save_photos
from notifications.services import notify

LADDER = [Holder.GRID, Holder.COMMUNITY, Holder.STREET, Holder.DISTRICT]
OPEN = {
    Status.REPORTED,
    Status.REGISTERED,
    Status.DISPATCHED,
    Status.HANDLING,
    Status.FED_BACK,
    Status.VERIFIED,
}
# The role that acts for each level, and the incident key its jurisdiction must match.
LEVEL_ROLE = {
    Holder.GRID: (Role.GRID_WORKER, "grid_id", "grid_id"),
    Holder.COMMUNITY: (Role.COMMUNITY_STAFF, "region_id", "community_id"),
    Holder.STREET: (Role.STREET_CENTRE, "region_id", "street_id"),
    Holder.DISTRICT: (Role.DISTRICT_CENTRE, "region_id", "district_id"),
    Holder.DEPARTMENT: (Role.DEPARTMENT, "department_id", "department_id"),
}
# Who an action is taken on behalf of.
HOLDER, DISPATCHER, HOLDER_OR_REPORTER = "holder", "dispatcher", "dispatcher_or_reporter"


class StepRefused(ProblemsError):
    """A step that may not be taken: 403 when the user may not act for the incident's
    holder, 409 when the incident's status does not allow it."""

    status_code = 400

    def __init__(self, code: str, message: str, field_name: str | None = None, status=400):
        super().__init__([Problem(code, message, field=field_name)])
        self.status_code = status


class StaleVersion(Exception):
    """The step was asked on an older version of the incident: answered 409 with the
    current state, so the client can show what changed and decide again."""

    def __init__(self, incident: Incident):
        super().__init__(f"incident {incident.pk} is at version {incident.version}")
        self.incident = incident


@dataclass(frozen=True)
class Rule:
    statuses: frozenset[str]
    on_behalf_of: str = HOLDER
    needs_reason: bool = False
    # Only the levels of the tree take it (a department dispatches nothing).
    tree_only: bool = False
    levels: frozenset[str] = field(default_factory=frozenset)  # empty: any level


def _rule(statuses, **kwargs) -> Rule:
    return Rule(frozenset(statuses), **kwargs)


RULES: dict[str, Rule] = {
    Action.REGISTER: _rule({Status.REPORTED}, tree_only=True),
    Action.DISMISS: _rule({Status.REPORTED, Status.REGISTERED}, tree_only=True, needs_reason=True),
    Action.DISPATCH: _rule({Status.REGISTERED}, tree_only=True),
    Action.ESCALATE: _rule(
        {Status.REPORTED, Status.REGISTERED, Status.DISPATCHED, Status.HANDLING},
        levels=frozenset({Holder.GRID, Holder.COMMUNITY, Holder.STREET}),
    ),
    Action.WHISTLE: _rule({Status.REGISTERED}, levels=frozenset({Holder.STREET, Holder.DISTRICT})),
    Action.ACKNOWLEDGE: _rule({Status.DISPATCHED}),
    Action.FEED_BACK: _rule({Status.HANDLING}),
    Action.VERIFY: _rule({Status.FED_BACK}),
    Action.REWORK: _rule({Status.FED_BACK}, needs_reason=True),
    Action.SEND_BACK: _rule({Status.DISPATCHED, Status.HANDLING}, needs_reason=True),
    Action.TRANSFER: _rule(
        {Status.DISPATCHED, Status.HANDLING}, on_behalf_of=DISPATCHER, needs_reason=True
    ),
    Action.CLOSE: _rule({Status.VERIFIED}),
    Action.ASSESS: _rule({Status.CLOSED, Status.ASSESSED}, on_behalf_of=HOLDER_OR_REPORTER),
    Action.MERGE: _rule({Status.REPORTED, Status.REGISTERED}, tree_only=True),
}


@dataclass(frozen=True)
class Step:
    action: str
    version: int
    comment: str = ""
    department: str | None = None  # department code: dispatch, whistle, transfer
    whistle_class: str | None = None  # whistle class code
    to_level: str | None = None  # send back: the level it goes back to
    score: int | None = None  # assess: 1-5
    target: int | None = None  # merge: the incident this one is a duplicate of
    photos: tuple = ()  # uploaded files attached to the step's event (e.g. after handling)


def acts_for(user, incident: Incident, level: str) -> bool:
    """Whether the user may act for that level of this incident (role and jurisdiction)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if scoping.sees_everything(user):
        return True
    if level not in LEVEL_ROLE:
        return False
    role, user_key, incident_key = LEVEL_ROLE[level]
    own = getattr(user, user_key)
    return user.role == role and own is not None and own == getattr(incident, incident_key)


def users_for(incident: Incident, level: str) -> QuerySet[User]:
    """The people who act for a level of this incident: they are told of its steps."""
    role, user_key, incident_key = LEVEL_ROLE[level]
    key = getattr(incident, incident_key)
    if key is None:
        return User.objects.none()
    return User.objects.filter(role=role, is_active=True, **{user_key: key})


def allowed_actions(user, incident: Incident) -> list[str]:
    """The steps this user may take now (drives the buttons on the detail page)."""
    return [action for action in RULES if _refusal(user, incident, action) is None]


def _refusal(user, incident: Incident, action: str) -> StepRefused | None:
    rule = RULES[action]
    if incident.status not in rule.statuses:
        return StepRefused(
            "not_allowed_in_status",
            f"'{action}' cannot be taken while the incident is {incident.status}",
            "action",
            status=409,
        )
    if rule.on_behalf_of == DISPATCHER:
        level = incident.dispatcher_level
        if not level or not acts_for(user, incident, level):
            return StepRefused(
                "not_permitted", f"only the dispatcher ({level or 'none'}) may {action}", status=403
            )
        return None
    if rule.on_behalf_of == HOLDER_OR_REPORTER:
        dispatcher = incident.dispatcher_level
        if incident.reporter_id == getattr(user, "pk", None) or (
            dispatcher and acts_for(user, incident, dispatcher)
        ):
            return None
        return StepRefused(
            "not_permitted", "only the dispatching level or the reporter may assess", status=403
        )
    if rule.tree_only and incident.level == Holder.DEPARTMENT:
        return StepRefused(
            "not_allowed_in_status",
            f"'{action}' is not a department's step",
            "action",
            status=409,
        )
    if rule.levels and incident.level not in rule.levels:
        return StepRefused(
            "not_allowed_at_level",
            f"'{action}' cannot be taken while the incident is held by the {incident.level}",
            "action",
            status=409,
        )
    if not acts_for(user, incident, incident.level):
        return StepRefused(
            "not_permitted",
            f"only the {incident.level} holding the incident may {action}",
            status=403,
        )
    return None


def _due(incident: Incident, step: str, start: dt.datetime) -> dt.datetime | None:
    """The whistle class times a whistled incident's acknowledge and report back; every
    other step is timed by the category, as at reporting."""
    whistle = incident.whistle_class
    if whistle is not None and step == Action.ACKNOWLEDGE:
        return start + dt.timedelta(hours=whistle.acknowledge_hours)
    if whistle is not None and step == Action.FEED_BACK:
        return start + dt.timedelta(hours=whistle.report_back_hours)
    return due_at(incident.category, step, incident.priority, start)


def _department(incident: Incident, code: str | None, action: str) -> Department:
    if not code:
        raise StepRefused("required", f"'{action}' needs a department", "department")
    department = Department.objects.filter(code=code, district=incident.district_id).first()
    if department is None:
        # The code sent is not echoed: it may be another district's department.
        raise StepRefused(
            "unknown_department",
            "no department with this code in the incident's district",
            "department",
        )
    return department


def _reason(step: Step) -> str:
    if not step.comment.strip():
        raise StepRefused("reason_required", f"'{step.action}' needs a reason", "comment")
    return step.comment.strip()


def _score(step: Step) -> int:
    if step.score is None or not 1 <= int(step.score) <= 5:
        raise StepRefused("invalid_score", "the score is a whole number from 1 to 5", "score")
    return int(step.score)


def hand_to(incident: Incident, level: str, now: dt.datetime) -> None:
    """The incident is now a case held by `level`, waiting to be dispatched."""
    incident.level = level
    incident.status = Status.REGISTERED
    incident.department = None
    incident.dispatcher_level = ""
    incident.handler_level = ""
    incident.whistle_class = None
    incident.due_at = _due(incident, Action.DISPATCH, now)


def next_level_up(incident: Incident) -> str | None:
    if incident.level not in LADDER[:-1]:
        return None
    for level in LADDER[LADDER.index(incident.level) + 1 :]:
        if getattr(incident, LEVEL_ROLE[level][2]) is not None:
            return level
    return None


def _apply(incident: Incident, step: Step, user, now: dt.datetime, notes: list) -> dict:
    """Change the incident for the step; returns the event's data. `notes` collects who to
    tell: (level, kind)."""
    action, data = step.action, {}
    if action == Action.REGISTER:
        incident.status = Status.REGISTERED
        incident.due_at = _due(incident, Action.DISPATCH, now)
    elif action == Action.DISMISS:
        _reason(step)
        incident.status, incident.closed_at, incident.due_at = Status.CLOSED, now, None
    elif action == Action.DISPATCH:
        incident.dispatcher_level = incident.level
        if step.department:
            incident.department = _department(incident, step.department, action)
            incident.level = incident.handler_level = Holder.DEPARTMENT
            data["department"] = incident.department.code
            notes.append((Holder.DEPARTMENT, "dispatched"))
        else:  # the holding level handles it itself
            incident.handler_level = incident.level
        incident.status = Status.DISPATCHED
        incident.due_at = _due(incident, Action.ACKNOWLEDGE, now)
    elif action == Action.ESCALATE:
        up = next_level_up(incident)
        if up is None:
            raise StepRefused(
                "no_level_above", "there is no level above to escalate to", status=409
            )
        data = {"from_level": incident.level, "to_level": up}
        hand_to(incident, up, now)
        notes.append((up, "escalated"))
    elif action == Action.WHISTLE:
        department = _department(incident, step.department, action)
        whistle = WhistleClass.objects.filter(code=step.whistle_class).first()
        if whistle is None:
            raise StepRefused(
                "unknown_whistle_class", f"no whistle class {step.whistle_class!r}", "whistle_class"
            )
        incident.dispatcher_level = incident.level
        incident.level = incident.handler_level = Holder.DEPARTMENT
        incident.department, incident.whistle_class = department, whistle
        incident.status = Status.DISPATCHED
        incident.due_at = _due(incident, Action.ACKNOWLEDGE, now)
        data = {"department": department.code, "whistle_class": whistle.code}
        notes.append((Holder.DEPARTMENT, "whistled"))
    elif action == Action.ACKNOWLEDGE:
        incident.status = Status.HANDLING
        incident.due_at = _due(incident, Action.FEED_BACK, now)
    elif action == Action.FEED_BACK:
        incident.status = Status.FED_BACK
        incident.level = incident.dispatcher_level
        incident.due_at = _due(incident, Action.VERIFY, now)
        notes.append((incident.level, "fed_back"))
    elif action == Action.VERIFY:
        incident.status = Status.VERIFIED
        incident.due_at = _due(incident, Action.CLOSE, now)
    elif action == Action.REWORK:
        _reason(step)
        incident.status = Status.HANDLING
        incident.level = incident.handler_level
        incident.rework_count += 1
        incident.due_at = _due(incident, Action.FEED_BACK, now)
        notes.append((incident.level, "rework"))
    elif action == Action.SEND_BACK:
        _reason(step)
        to_level = step.to_level or incident.dispatcher_level
        if incident.level == incident.dispatcher_level:
            raise StepRefused(
                "not_permitted", "the dispatching level cannot send back to itself", status=403
            )
        allowed = {incident.dispatcher_level} | set(
            LADDER[LADDER.index(incident.dispatcher_level) :]
        )
        if to_level not in allowed or getattr(incident, LEVEL_ROLE[to_level][2]) is None:
            raise StepRefused(
                "invalid_destination",
                f"an incident is sent back to its dispatcher ({incident.dispatcher_level}) or "
                "a level above it",
                "to_level",
            )
        data = {"to_level": to_level}
        if incident.department_id:
            data["department"] = incident.department.code
        hand_to(incident, to_level, now)
        notes.append((to_level, "sent_back"))
    elif action == Action.TRANSFER:
        _reason(step)
        department = _department(incident, step.department, action)
        if department.pk == incident.department_id:
            raise StepRefused(
                "same_department", "the incident is already with that department", "department"
            )
        data = {
            "from_department": incident.department.code if incident.department_id else None,
            "department": department.code,
        }
        incident.department = department
        incident.level = incident.handler_level = Holder.DEPARTMENT
        incident.status = Status.DISPATCHED
        incident.due_at = _due(incident, Action.ACKNOWLEDGE, now)
        notes.append((Holder.DEPARTMENT, "dispatched"))
    elif action == Action.CLOSE:
        incident.status, incident.closed_at, incident.due_at = Status.CLOSED, now, None
    elif action == Action.ASSESS:
        score = _score(step)
        dispatcher = incident.dispatcher_level
        if (
            dispatcher
            and incident.handler_level == Holder.DEPARTMENT
            and incident.department_score is None
            and acts_for(user, incident, dispatcher)
        ):
            incident.department_score, data = score, {"department_score": score}
        elif incident.reporter_id == user.pk and incident.satisfaction is None:
            incident.satisfaction, data = score, {"satisfaction": score}
        else:
            raise StepRefused(
                "already_assessed", "you have already assessed this incident", status=409
            )
        incident.status = Status.ASSESSED
    elif action == Action.MERGE:
        target = _merge_target(incident, step, user)
        incident.merged_into = target
        incident.status, incident.closed_at, incident.due_at = Status.CLOSED, now, None
        data = {"into": target.pk}
        IncidentEvent.objects.create(
            incident=target,
            action=Action.MERGE,
            from_status=target.status,
            to_status=target.status,
            level=target.level,
            department=target.department,
            actor=user,
            at=now,
            comment=step.comment,
            data={"merged": incident.pk},
        )
    return data


def _merge_target(incident: Incident, step: Step, user) -> Incident:
    if step.target is None:
        raise StepRefused("required", "'merge' needs the incident to merge into", "target")
    target = (
        Incident.objects.visible_to(user)
        .filter(pk=step.target)
        .exclude(pk=incident.pk)
        .select_for_update(of=("self",))
        .first()
    )
    if target is None:
        raise StepRefused("unknown_target", f"no incident {step.target} to merge into", "target")
    if target.status not in OPEN or target.merged_into_id:
        raise StepRefused("target_closed", "the incident to merge into is closed", "target")
    if target.category_id != incident.category_id:
        raise StepRefused(
            "different_category", "only incidents of the same category are merged", "target"
        )
    return target


def take_step(incident_id: int, step: Step, *, user, now: dt.datetime | None = None) -> Incident:
    """Take one step of the loop: checked, applied and recorded in one transaction, or
    refused with nothing changed."""
    if step.action not in RULES:
        raise StepRefused("unknown_action", f"no step {step.action!r}", "action")
    now = now or timezone.now()
    notes: list[tuple[str, str]] = []
    photos = check_photos(step.photos)
    with transaction.atomic():
        incident = (
            Incident.objects.visible_to(user)
            .select_related("category", "whistle_class", "department")
            .select_for_update(of=("self",))
            .filter(pk=incident_id)
            .first()
        )
        if incident is None:
            raise Incident.DoesNotExist(f"no incident {incident_id}")
        if step.version != incident.version:
            raise StaleVersion(incident)
        refusal = _refusal(user, incident, step.action)
        if refusal is not None:
            raise refusal
        from_status = incident.status
        data = _apply(incident, step, user, now, notes)
        incident.version += 1
        incident.step_overdue = False
        incident.save()
        event = IncidentEvent.objects.create(
            incident=incident,
            action=step.action,
            from_status=from_status,
            to_status=incident.status,
            level=incident.level,
            department=incident.department,
            actor=user,
            at=now,
            comment=step.comment.strip(),
            data=data,
        )
        save_photos(incident, photos, user=user, event=event)
        for level, kind in notes:
            tell(incident, level, kind)
        live.changed(incident)
    return incident


TELL = {
    "dispatched": _("Incident dispatched to your unit: {title}"),
    "whistled": _("Whistled: acknowledge within the deadline: {title}"),
    "escalated": _("Incident escalated to you: {title}"),
    "fed_back": _("Handling fed back, please verify: {title}"),
    "rework": _("Verification failed, please rework: {title}"),
    "sent_back": _("Incident sent back: {title}"),
    "overdue": _("Incident overdue: {title}"),
}


def tell(incident: Incident, level: str, kind: str) -> int:
    # Written in the platform's language: the worker has no request to take one from.
    with translation.override(settings.LANGUAGE_CODE):
        return notify(
            users_for(incident, level),
            kind=f"incident.{kind}",
            title=str(TELL[kind]).format(title=incident.title),
            body=f"{incident.category} · {incident.get_status_display()}",
            url=f"/incidents/{incident.pk}/",
        )
