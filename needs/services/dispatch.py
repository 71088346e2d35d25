"""The dispatch loop (派单 → 接单/退单 → 服务反馈 → 确认完成): the community sends an accepted
need to a provider whose offer covers it; the provider's accounts accept or decline, serve
and report with hours and photos; the grid worker or the community confirms with the
resident's satisfaction. Each step locks its rows, checks the version, records the event
and tells the people next in line."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needs.models import (
    Dispatch,
    DispatchStatus,
    Need,
    NeedAction,
    NeedStatus,
    PhotoStage,
    Provider,
    ProviderStatus,
    ServiceOffer,
)
from needs.services import access, events, matching, notify
from needs.services.errors import Refused
from needs.services.steps import checked_photos, lock_need, locked, save_photos, text


def _refuse_status(row, allowed, field: str = "status") -> None:
    if row.status not in allowed:
        raise Refused(
            "wrong_status",
            _("not possible while it is %(status)s") % {"status": row.get_status_display()},
            field,
        )


def _lock_dispatch(d: Dispatch, version: int | None) -> tuple[Dispatch, Need]:
    """The dispatch at the client's version and its need, both locked (need first, as every
    step on a need locks it first)."""
    need = lock_need(Need(pk=d.need_id), None)
    d = locked(Dispatch, d.pk, version, related=("provider",))
    return d, need


@transaction.atomic
def send(
    need: Need, provider: Provider, offer: ServiceOffer | None, user, version: int
) -> Dispatch:
    need = lock_need(need, version)
    if not access.is_reviewer(user, need.community):
        raise Refused("not_allowed", _("only the community dispatches needs"))
    if need.status != NeedStatus.ACCEPTED:
        raise Refused("need_not_accepted", _("only an accepted need can be dispatched"), "status")
    if offer is None:
        offer = (
            ServiceOffer.objects.filter(provider=provider, kind=need.kind_id, active=True)
            .order_by("pk")
            .first()
        )
        if offer is None:
            raise Refused("kind_mismatch", _("this provider offers no such service"), "offer")
    # The offer's row serialises dispatches against its capacity.
    offer = locked(ServiceOffer, offer.pk, None, related=("provider",))
    if offer.provider_id != provider.pk or offer.kind_id != need.kind_id:
        raise Refused("kind_mismatch", _("this offer is not for this kind of need"), "offer")
    if not offer.active:
        raise Refused("kind_mismatch", _("this offer is no longer active"), "offer")
    provider = offer.provider
    if provider.status != ProviderStatus.CONFIRMED:
        raise Refused(
            "provider_not_confirmed",
            _("the provider is not confirmed by the community"),
            "provider",
        )
    point = matching.need_point(need)
    distance_m = None
    if point is not None and provider.location is not None:
        distance_m = _metres(provider.location, point)
    reason = matching.judge(offer, need, distance_m)
    if reason in (matching.OUTSIDE_AREA, matching.OVER_RADIUS):
        raise Refused(
            "provider_outside_area",
            _("the need lies outside the area this offer serves"),
            "provider",
        )
    taken = Dispatch.objects.open().filter(offer=offer).count()
    if taken >= offer.capacity:
        raise Refused("no_capacity", _("this offer has no free capacity"), "offer")
    now = timezone.now()
    d = Dispatch.objects.create(
        need=need,
        provider=provider,
        offer=offer,
        dispatched_by=user,
        dispatched_at=now,
        respond_by=now + dt.timedelta(hours=settings.GRIDLINE_NEEDS_ACCEPT_HOURS),
    )
    need.status = NeedStatus.DISPATCHED
    need.version += 1
    need.save()
    events.record(
        need,
        NeedAction.DISPATCHED,
        user,
        from_status=NeedStatus.ACCEPTED,
        provider=provider,
        at=now,
        data={"dispatch": d.pk, "offer": offer.pk, "distance_m": distance_m},
    )
    notify.tell(notify.provider_users(provider), "dispatched", need)
    events.published(need)
    return d


def _metres(a, b) -> float:
    from needs import sql

    return sql.metres_between(a, b)


@transaction.atomic
def accept(d: Dispatch, user, version: int) -> Dispatch:
    d, need = _lock_dispatch(d, version)
    if not access.acts_for_provider(user, d.provider):
        raise Refused("not_allowed", _("only the provider accepts its dispatches"))
    _refuse_status(d, (DispatchStatus.SENT,))
    # suspend() withdraws the sent ones; this covers a provider refused or suspended by any
    # other path (admin): accepting would show it the resident's contact.
    if d.provider.status != ProviderStatus.CONFIRMED:
        raise Refused(
            "provider_not_confirmed",
            _("the provider is not confirmed by the community"),
            "provider",
        )
    now = timezone.now()
    d.status = DispatchStatus.ACCEPTED
    d.accepted_at, d.accepted_by = now, user
    d.version += 1
    d.save()
    before = need.status
    need.status = NeedStatus.TAKEN
    need.version += 1
    need.save()
    events.record(
        need,
        NeedAction.TAKEN,
        user,
        from_status=before,
        provider=d.provider,
        at=now,
        data={"dispatch": d.pk},
    )
    notify.tell(notify.community_staff(need.community_id), "taken", need, provider=d.provider.name)
    events.published(need)
    return d


def _send_back(need: Need, d: Dispatch, user, status: str, action: str, reason: str) -> None:
    """Close the dispatch (declined or withdrawn, with the reason) and put the need back to
    the community to dispatch again."""
    now = timezone.now()
    d.status = status
    d.decline_reason = reason
    d.version += 1
    d.save()
    before = need.status
    need.status = NeedStatus.ACCEPTED
    need.version += 1
    need.save()
    events.record(
        need,
        action,
        user,
        from_status=before,
        provider=d.provider,
        comment=reason,
        at=now,
        data={"dispatch": d.pk},
    )
    events.published(need)


@transaction.atomic
def decline(d: Dispatch, user, version: int, reason: str) -> Dispatch:
    """退单: the need goes back to the community to dispatch again."""
    d, need = _lock_dispatch(d, version)
    if not access.acts_for_provider(user, d.provider):
        raise Refused("not_allowed", _("only the provider declines its dispatches"))
    _refuse_status(d, (DispatchStatus.SENT, DispatchStatus.ACCEPTED))
    reason = text(reason, "reason", 200, required=True)
    _send_back(need, d, user, DispatchStatus.DECLINED, NeedAction.DECLINED_BY_PROVIDER, reason)
    notify.tell(
        notify.community_staff(need.community_id),
        "provider_declined",
        need,
        provider=d.provider.name,
        reason=reason,
    )
    return d


@transaction.atomic
def withdraw(d: Dispatch, user, version: int, reason: str) -> Dispatch:
    """The community takes a dispatch back (not answered, provider unreachable)."""
    d, need = _lock_dispatch(d, version)
    if not access.is_reviewer(user, need.community):
        raise Refused("not_allowed", _("only the community withdraws a dispatch"))
    _refuse_status(d, (DispatchStatus.SENT, DispatchStatus.ACCEPTED))
    reason = text(reason, "reason", 200, required=True)
    _send_back(need, d, user, DispatchStatus.WITHDRAWN, NeedAction.WITHDRAWN, reason)
    notify.tell(notify.provider_users(d.provider), "withdrawn", need, reason=reason)
    return d


def withdraw_on_suspension(provider: Provider, user, reason: str) -> list[Dispatch]:
    """The provider's dispatches not yet accepted go back to the community (called by
    providers.suspend, in its transaction, with the provider's row locked)."""
    reason = reason or _("the provider is suspended")
    withdrawn = []
    for pk, need_id in (
        Dispatch.objects.filter(provider=provider, status=DispatchStatus.SENT)
        .order_by("pk")
        .values_list("pk", "need_id")
    ):
        d, need = _lock_dispatch(Dispatch(pk=pk, need_id=need_id), None)
        if d.status != DispatchStatus.SENT:
            continue
        _send_back(need, d, user, DispatchStatus.WITHDRAWN, NeedAction.WITHDRAWN, reason)
        notify.tell(
            notify.community_staff(need.community_id),
            "withdrawn",
            need,
            reason=reason,
        )
        withdrawn.append(d)
    return withdrawn


def _hours(value, d: Dispatch, now) -> Decimal:
    if value in (None, ""):
        raise Refused("required", _("give the hours of service"), "hours")
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise Refused("invalid", _("hours is a number"), "hours") from None
    days = max(1, math.ceil((now - d.dispatched_at).total_seconds() / 86400))
    if not hours.is_finite() or hours <= 0 or hours > 24 * days:
        raise Refused(
            "invalid",
            _("hours must be more than 0 and at most %(max)s") % {"max": 24 * days},
            "hours",
        )
    return hours


@transaction.atomic
def report(d: Dispatch, user, version: int, text_: str, hours, photos=()) -> Dispatch:
    """服务反馈: the provider (or the community on its behalf) reports the service done."""
    d, need = _lock_dispatch(d, version)
    by_provider = access.acts_for_provider(user, d.provider)
    if not (by_provider or access.is_reviewer(user, need.community)):
        raise Refused("not_allowed", _("only the provider or the community reports a service"))
    # The community may record a service the provider never accepted in the app.
    allowed = (
        (DispatchStatus.ACCEPTED,)
        if by_provider
        else (
            DispatchStatus.SENT,
            DispatchStatus.ACCEPTED,
        )
    )
    _refuse_status(d, allowed)
    now = timezone.now()
    body = text(text_, "report", 1000, required=True)
    hours = _hours(hours, d, now)
    checked = checked_photos(photos)
    if d.status == DispatchStatus.SENT:
        d.accepted_at, d.accepted_by = now, user
    d.status = DispatchStatus.REPORTED
    d.reported_at, d.reported_by = now, user
    d.report, d.hours = body, hours
    d.version += 1
    d.save()
    save_photos(need, checked, stage=PhotoStage.REPORT, user=user, dispatch=d)
    before = need.status
    need.status = NeedStatus.REPORTED
    need.fulfilled_at = now
    need.version += 1
    need.save()
    events.record(
        need,
        NeedAction.REPORTED,
        user,
        from_status=before,
        provider=d.provider,
        at=now,
        comment=body,
        data={"dispatch": d.pk, "hours": str(hours), "photos": len(checked)},
    )
    told = notify.grid_workers(need.grid_id) + notify.community_staff(need.community_id)
    notify.tell(told, "reported", need)
    events.published(need)
    return d


@transaction.atomic
def confirm(need: Need, user, version: int, satisfaction: int, feedback: str = "") -> Need:
    """确认完成: the grid worker of the need's grid or the community confirms, with the
    resident's satisfaction (5 非常满意 … 1 不满意)."""
    need = lock_need(need, version)
    if not access.may_confirm(user, need):
        raise Refused("not_allowed", _("only the grid worker or the community confirms"))
    _refuse_status(need, (NeedStatus.REPORTED,))
    if isinstance(satisfaction, bool) or satisfaction not in (1, 2, 3, 4, 5):
        raise Refused("invalid", _("satisfaction is a whole number from 1 to 5"), "satisfaction")
    feedback = text(feedback, "feedback", 200)
    now = timezone.now()
    d = (
        Dispatch.objects.select_for_update()
        .select_related("provider")
        .filter(need=need, status=DispatchStatus.REPORTED)
        .first()
    )
    if d is not None:
        d.status = DispatchStatus.CONFIRMED
        d.version += 1
        d.save()
    need.status = NeedStatus.DONE
    need.confirmed_at, need.confirmed_by = now, user
    need.satisfaction, need.feedback = satisfaction, feedback
    need.version += 1
    need.save()
    events.record(
        need,
        NeedAction.CONFIRMED,
        user,
        from_status=NeedStatus.REPORTED,
        provider=d.provider if d else None,
        comment=feedback,
        at=now,
        data={"satisfaction": satisfaction},
    )
    told = notify.raiser(need) + (notify.provider_users(d.provider) if d else [])
    notify.tell([u for u in told if u.pk != user.pk], "confirmed", need)
    events.published(need)
    return need


@transaction.atomic
def reopen(need: Need, user, version: int, reason: str) -> Need:
    """Not done after all (the resident says so): the report goes back to the provider, who
    serves and reports again. Who may confirm may reopen."""
    need = lock_need(need, version)
    if not access.may_confirm(user, need):
        raise Refused("not_allowed", _("only the grid worker or the community confirms"))
    _refuse_status(need, (NeedStatus.REPORTED,))
    reason = text(reason, "reason", 200, required=True)
    now = timezone.now()
    d = (
        Dispatch.objects.select_for_update()
        .select_related("provider")
        .get(need=need, status=DispatchStatus.REPORTED)
    )
    d.status = DispatchStatus.ACCEPTED
    d.version += 1
    d.save()
    need.status = NeedStatus.TAKEN
    need.fulfilled_at = None
    need.version += 1
    need.save()
    events.record(
        need,
        NeedAction.REOPENED,
        user,
        from_status=NeedStatus.REPORTED,
        provider=d.provider,
        comment=reason,
        at=now,
        data={"dispatch": d.pk},
    )
    notify.tell(notify.provider_users(d.provider), "reopened", need, reason=reason)
    events.published(need)
    return need
