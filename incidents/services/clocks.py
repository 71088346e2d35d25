"""The clocks: every step has a due time (category and priority, or the whistle class). The
worker calls `mark_overdue` every minute: each step that has run past its time gets one
`overdue` event and its people are told; when the category says so, an incident still
waiting for registration or dispatch is escalated one level up the ladder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from incidents.models import Action, Incident, IncidentEvent, Status
from incidents.services import live
from incidents.services.transitions import OPEN, hand_to, next_level_up, tell

BATCH = 500
# Escalated by the clock only while it waits for a decision at a level of the tree; once
# a handler has it, being late is reported, not taken away from them.
ESCALATES_FROM = {Status.REPORTED, Status.REGISTERED}


@dataclass
class ClockRun:
    overdue: int = 0
    escalated: int = 0
    notified: int = 0


def mark_overdue(now: dt.datetime | None = None) -> ClockRun:
    """Mark the steps that are past due. Rows another transaction holds are skipped and
    picked up on the next run, so a worker never waits on a user's step."""
    now = now or timezone.now()
    run = ClockRun()
    while True:
        with transaction.atomic():
            batch = list(
                Incident.objects.filter(status__in=OPEN, due_at__lt=now, step_overdue=False)
                .select_related("category", "whistle_class", "department")
                .select_for_update(of=("self",), skip_locked=True)
                .order_by("due_at")[:BATCH]
            )
            for incident in batch:
                _overdue(incident, now, run)
        if len(batch) < BATCH:
            return run


def _overdue(incident: Incident, now: dt.datetime, run: ClockRun) -> None:
    late_step = incident.status
    IncidentEvent.objects.create(
        incident=incident,
        action=Action.OVERDUE,
        from_status=incident.status,
        to_status=incident.status,
        level=incident.level,
        department=incident.department,
        at=now,
        data={"due_at": incident.due_at.isoformat(), "status": late_step},
    )
    incident.step_overdue = True
    incident.overdue_count += 1
    run.overdue += 1
    run.notified += tell(incident, incident.level, "overdue")
    if incident.dispatcher_level and incident.dispatcher_level != incident.level:
        # A department late to acknowledge or report back: the street that whistled knows.
        run.notified += tell(incident, incident.dispatcher_level, "overdue")
    up = next_level_up(incident)
    if incident.category.escalate_when_overdue and late_step in ESCALATES_FROM and up:
        from_level = incident.level
        hand_to(incident, up, now)
        incident.step_overdue = False
        incident.version += 1
        IncidentEvent.objects.create(
            incident=incident,
            action=Action.ESCALATE,
            from_status=late_step,
            to_status=incident.status,
            level=incident.level,
            at=now,
            comment="",
            data={"from_level": from_level, "to_level": up, "automatic": True},
        )
        run.escalated += 1
        run.notified += tell(incident, up, "escalated")
    incident.save()
    live.changed(incident)
