"""The needs' clocks, run by the worker every 5 minutes (needs/jobs.py): a dispatch not
answered by its respond_by is reminded once (the provider and the community are told); a
need past its due date is marked overdue once (the community, the grid's workers and the
provider are told). Neither bumps the version: a flag, not a step someone took."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from needs.models import Dispatch, DispatchStatus, Need, NeedAction, NeedStatus
from needs.services import events, notify

BATCH = 500
# A need is late while someone still owes it something; once reported, the wait is on the
# confirmation, which is the community's and no longer the provider's.
LATE_WHILE = (NeedStatus.ACCEPTED, NeedStatus.DISPATCHED, NeedStatus.TAKEN)


@dataclass
class ClockRun:
    reminded: int = 0
    overdue: int = 0
    notified: int = 0


def watch(now: dt.datetime | None = None) -> ClockRun:
    """Rows another transaction holds are skipped and taken on the next run, so the worker
    never waits on a person's step."""
    now = now or timezone.now()
    run = ClockRun()
    while _remind_batch(now, run) == BATCH:
        pass
    while _overdue_batch(now, run) == BATCH:
        pass
    return run


@transaction.atomic
def _remind_batch(now: dt.datetime, run: ClockRun) -> int:
    batch = list(
        Dispatch.objects.filter(status=DispatchStatus.SENT, respond_by__lt=now, reminded=False)
        .select_related("need__kind", "need__grid", "need__community__parent", "provider")
        # The need too (its event is written): a person's step holds the need, then its
        # dispatch; skipping what is held, the clock never waits in the other order.
        .select_for_update(of=("self", "need"), skip_locked=True)
        .order_by("respond_by")[:BATCH]
    )
    for d in batch:
        d.reminded = True
        d.save(update_fields=["reminded"])
        need = d.need
        events.record(
            need,
            NeedAction.REMINDED,
            None,
            from_status=need.status,
            provider=d.provider,
            at=now,
            data={"dispatch": d.pk, "respond_by": d.respond_by.isoformat()},
        )
        run.reminded += 1
        run.notified += notify.tell(notify.provider_users(d.provider), "remind", need)
        run.notified += notify.tell(notify.community_staff(need.community_id), "remind", need)
    return len(batch)


@transaction.atomic
def _overdue_batch(now: dt.datetime, run: ClockRun) -> int:
    batch = list(
        Need.objects.filter(status__in=LATE_WHILE, due_at__lt=now, overdue=False)
        .select_related("kind", "grid", "community__parent")
        .select_for_update(of=("self",), skip_locked=True)
        .order_by("due_at")[:BATCH]
    )
    for need in batch:
        need.overdue = True
        need.save(update_fields=["overdue", "updated_at"])
        d = Dispatch.objects.open().filter(need=need).select_related("provider").first()
        events.record(
            need,
            NeedAction.OVERDUE,
            None,
            from_status=need.status,
            provider=d.provider if d else None,
            at=now,
            data={"due_at": need.due_at.isoformat()},
        )
        told = notify.community_staff(need.community_id) + notify.grid_workers(need.grid_id)
        if d is not None:
            told += notify.provider_users(d.provider)
        run.overdue += 1
        run.notified += notify.tell(told, "overdue", need)
        events.published(need)
    return len(batch)
