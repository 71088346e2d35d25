"""The community's review of a raised need: accept (待派单, with its due date), decline with a
reason (不予受理), merge a duplicate into the need it repeats (合并: the duplicate keeps its
photos and contact and its raiser is told), and edits while nothing has been dispatched."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.measure import D
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from needs.models import OPEN_STATUSES, Need, NeedAction, NeedStatus, Urgency
from needs.services import access, events, notify
from needs.services.errors import Refused, Stale
from needs.services.steps import lock_need, text

URGENT_DAYS = 2
DUPLICATE_DAYS = 30
REVIEWABLE = (NeedStatus.SUBMITTED, NeedStatus.ACCEPTED)


def _pk(need: Need) -> int:
    return need.pk


def due_for(need: Need, start: dt.datetime) -> dt.datetime:
    days = URGENT_DAYS if need.urgency == Urgency.URGENT else need.kind.days_to_fulfil
    return start + dt.timedelta(days=days)


def _reviewer(user, need: Need) -> None:
    if not access.is_reviewer(user, need.community):
        raise Refused("not_allowed", _("only the community reviews needs"))


def _status(need: Need, allowed, message=None) -> None:
    if need.status not in allowed:
        raise Refused(
            "wrong_status",
            message
            or _("not possible while the need is %(status)s")
            % {"status": need.get_status_display()},
            "status",
        )


@transaction.atomic
def accept(need: Need, user, version: int) -> Need:
    need = lock_need(need, version)
    _reviewer(user, need)
    _status(need, (NeedStatus.SUBMITTED,))
    now = timezone.now()
    need.status = NeedStatus.ACCEPTED
    need.reviewed_by, need.reviewed_at = user, now
    need.due_at = due_for(need, now)
    need.version += 1
    need.save()
    events.record(need, NeedAction.ACCEPTED, user, from_status=NeedStatus.SUBMITTED, at=now)
    notify.tell(notify.raiser(need), "accepted", need)
    events.published(need)
    return need


@transaction.atomic
def decline(need: Need, user, version: int, reason: str) -> Need:
    need = lock_need(need, version)
    _reviewer(user, need)
    _status(need, REVIEWABLE)
    reason = text(reason, "reason", 200, required=True)
    now = timezone.now()
    before = need.status
    need.status = NeedStatus.DECLINED
    need.decline_reason = reason
    need.reviewed_by, need.reviewed_at = user, now
    need.due_at = None
    need.version += 1
    need.save()
    events.record(need, NeedAction.DECLINED, user, from_status=before, comment=reason, at=now)
    notify.tell(notify.raiser(need), "declined", need, reason=reason)
    events.published(need)
    return need


@transaction.atomic
def merge(need: Need, into: Need, user, version: int) -> Need:
    """`need` repeats `into`: it is closed as merged, keeping its photos and contact (the
    board shows them on `into`), and needs merged into it before now point at `into`, so
    no chain forms."""
    if need.pk == into.pk:
        raise Refused("merge_into_itself", _("a need cannot be merged into itself"), "into")
    # Both rows locked in id order: two reviewers merging a pair each way round wait for
    # each other instead of deadlocking.
    locked_ = {n.pk: n for n in (lock_need(n, None) for n in sorted((need, into), key=_pk))}
    need, target = locked_[need.pk], locked_[into.pk]
    if int(version) != need.version:
        raise Stale(need)
    _reviewer(user, need)
    _status(need, REVIEWABLE)
    if target.status not in OPEN_STATUSES:
        raise Refused("merge_target_closed", _("merge into an open need"), "into")
    if target.community_id != need.community_id:
        raise Refused("merge_other_community", _("merge into a need of the same community"), "into")
    now = timezone.now()
    before = need.status
    need.status = NeedStatus.MERGED
    need.merged_into = target
    need.reviewed_by, need.reviewed_at = user, now
    need.due_at = None
    need.version += 1
    need.save()
    moved = list(Need.objects.filter(merged_into=need).values_list("pk", flat=True))
    Need.objects.filter(pk__in=moved).update(merged_into=target)
    events.record(
        need,
        NeedAction.MERGED,
        user,
        from_status=before,
        at=now,
        data={"into": target.pk, "into_number": target.number},
    )
    events.record(
        target,
        NeedAction.MERGED,
        user,
        from_status=target.status,
        at=now,
        data={"from": need.pk, "from_number": need.number, "also": moved},
    )
    notify.tell(notify.raiser(need), "merged", need, into=target.number)
    events.published(need)
    return need


EDITABLE = {
    "title": 60,
    "description": 1000,
    "address": 200,
    "contact_name": 50,
    "contact_phone": 20,
}


@transaction.atomic
def edit(need: Need, user, version: int, data: dict) -> Need:
    """Edit while nothing is dispatched: reviewers, or the grid's worker while it waits for
    review. `data` may hold the text fields, `urgency` and `kind` (a ServiceKind)."""
    need = lock_need(need, version)
    if not (
        access.is_reviewer(user, need.community)
        or (need.status == NeedStatus.SUBMITTED and access.may_confirm(user, need))
    ):
        raise Refused("not_allowed", _("you may not edit this need"))
    _status(need, REVIEWABLE)
    changed = {}
    for name, limit in EDITABLE.items():
        if name in data:
            value = text(data[name], name, limit, required=name == "title")
            if value != getattr(need, name):
                changed[name] = value
    if "urgency" in data:
        if data["urgency"] not in Urgency.values:
            raise Refused("invalid", _("urgency is normal or urgent"), "urgency")
        if data["urgency"] != need.urgency:
            changed["urgency"] = data["urgency"]
    if "kind" in data:
        from needs.services.intake import service_kind

        kind = service_kind(data["kind"])
        if kind.pk != need.kind_id:
            changed["kind"] = kind
    if not changed:
        return need
    for name, value in changed.items():
        setattr(need, name, value)
    if need.status == NeedStatus.ACCEPTED and ({"urgency", "kind"} & changed.keys()):
        need.due_at = due_for(need, need.reviewed_at or timezone.now())
    need.version += 1
    need.save()
    events.record(
        need,
        NeedAction.EDITED,
        user,
        from_status=need.status,
        data={"fields": sorted(changed)},
    )
    events.published(need)
    return need


def duplicates(need: Need) -> list[Need]:
    """Open needs of the same kind and community raised in the 30 days before it, within
    GRIDLINE_NEEDS_DUPLICATE_M metres (on the spheroid) or of the same household, nearest
    first (those without a distance last)."""
    since = need.raised_at - dt.timedelta(days=DUPLICATE_DAYS)
    near = Q(household=need.household_id) if need.household_id else Q(pk__in=[])
    found = (
        Need.objects.open()
        .filter(kind=need.kind_id, community=need.community_id, raised_at__gte=since)
        .exclude(pk=need.pk)
        .select_related("kind", "grid")
    )
    if need.location is not None:
        found = found.annotate(metres=Distance("location", need.location, spheroid=True))
        near |= Q(metres__lte=D(m=settings.GRIDLINE_NEEDS_DUPLICATE_M))
    rows = list(found.filter(near))
    for row in rows:
        metres = getattr(row, "metres", None)
        row.metres = metres.m if metres is not None else None
    return sorted(rows, key=lambda n: (n.metres is None, n.metres or 0, n.pk))
