"""The provider's inbox (服务方 · 我的派单, #20): a phone page for the accounts acting for a
unit, co-building unit, volunteer or registered party member. What the community dispatched
to them, 接单 / 退单 with a reason, and 服务反馈 (what was done, hours, photos).

Plain forms posted to the page, one per action, each carrying the dispatch's version: they
work without script in any webview, and a page left open while the community withdrew the
dispatch gets the services' Stale and says so instead of acting on old state. The rules
(who, which state, hours, photos) are needs.services.dispatch's, as for the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grids import scoping
from needs.models import OPEN_DISPATCH, Dispatch, DispatchStatus, NeedPhoto, ProviderStatus
from needs.services import dispatch as dispatch_service
from needs.services.errors import Refused, Stale

# Done or declined dispatches stay in the inbox this long (the provider's own record).
HISTORY_DAYS = 30
# Contact details show once the provider has taken the need, and while serving it.
CONTACT_SHOWN = (DispatchStatus.ACCEPTED, DispatchStatus.REPORTED)
ORDER = {
    DispatchStatus.SENT: 0,
    DispatchStatus.ACCEPTED: 1,
    DispatchStatus.REPORTED: 2,
    DispatchStatus.CONFIRMED: 3,
    DispatchStatus.DECLINED: 4,
    DispatchStatus.WITHDRAWN: 5,
}
SECTIONS = (
    ("sent", DispatchStatus.SENT),
    ("accepted", DispatchStatus.ACCEPTED),
    ("reported", DispatchStatus.REPORTED),
)


def _is_provider(user) -> bool:
    return getattr(user, "role", "") == "provider"


def _dispatches(user):
    since = timezone.now() - dt.timedelta(days=HISTORY_DAYS)
    rank = Case(
        *(When(status=status, then=Value(n)) for status, n in ORDER.items()),
        output_field=IntegerField(),
    )
    return (
        Dispatch.objects.visible_to(user)
        .filter(Q(status__in=OPEN_DISPATCH) | Q(dispatched_at__gte=since))
        .select_related("need__kind", "need__grid", "need__community", "provider", "offer")
        .annotate(rank=rank)
        .order_by("rank", "respond_by", "-dispatched_at", "-id")
    )


def _contact(dispatch) -> dict:
    """The resident's contact as this provider may see it now: masked until it accepts."""
    need = dispatch.need
    if dispatch.status in CONTACT_SHOWN:
        return {"name": need.contact_name, "phone": need.contact_phone, "shown": True}
    return {
        "name": scoping.MASKS["name"](need.contact_name),
        "phone": scoping.MASKS["phone"](need.contact_phone),
        "shown": False,
    }


@login_required
@require_GET
def inbox(request):
    user = request.user
    if not _is_provider(user):
        # Reviewers work on the needs board; the inbox is the provider's.
        return redirect("needs:board")
    providers = list(user.providers.order_by("name"))
    confirmed = [p for p in providers if p.status == ProviderStatus.CONFIRMED]
    # A suspended provider still sees (and reports) what it had taken before.
    rows = list(_dispatches(user)[:200])
    sections = [(name, [d for d in rows if d.status == status]) for name, status in SECTIONS]
    history = [d for d in rows if d.status not in dict(SECTIONS).values()]
    return render(
        request,
        "needs/inbox.html",
        {
            "providers": providers,
            "confirmed": confirmed,
            "pending": [p for p in providers if p.status == ProviderStatus.PENDING],
            "sections": sections,
            "history": history,
            "waiting": sum(len(items) for _name, items in sections),
            "any": bool(rows),
        },
    )


def _one(user, pk: int) -> Dispatch:
    # Any of the provider's dispatches, however old (a notification may link to it).
    rows = Dispatch.objects.visible_to(user).select_related(
        "need__kind", "need__grid", "need__community", "provider", "offer"
    )
    found = rows.filter(pk=pk).first() if _is_provider(user) else None
    if found is None:
        raise Http404(_("There is no such dispatch for you."))
    return found


def _detail(request, d: Dispatch, *, errors=(), form=None, status=200):
    photos = NeedPhoto.objects.filter(need=d.need_id).order_by("at", "id")
    return render(
        request,
        "needs/inbox_detail.html",
        {
            "d": d,
            "need": d.need,
            "contact": _contact(d),
            "raised_photos": [p for p in photos if p.stage == "raised"],
            "report_photos": [p for p in photos if p.stage == "report" and p.dispatch_id == d.pk],
            "errors": errors,
            "form": form or {},
            "photos_max": settings.GRIDLINE_NEEDS_PHOTOS_MAX,
            "can_take": d.status == DispatchStatus.SENT,
            "can_report": d.status == DispatchStatus.ACCEPTED,
            "can_decline": d.status in (DispatchStatus.SENT, DispatchStatus.ACCEPTED),
        },
        status=status,
    )


@login_required
@require_GET
def detail(request, pk: int):
    return _detail(request, _one(request.user, pk))


def _version(request) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isascii() and value.isdigit() else None


def _hours(value: str) -> Decimal | None:
    try:
        hours = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return hours if hours.is_finite() else None


@login_required
def act(request, pk: int, action: str):
    """接单 / 退单 / 服务反馈 on one dispatch, then back to it with what happened."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    d = _one(request.user, pk)
    version = _version(request)
    form = request.POST
    errors = []
    if version is None:
        errors.append(_("The page is out of date; open the dispatch again."))
    try:
        if errors:
            pass
        elif action == "accept":
            dispatch_service.accept(d, request.user, version)
            message = _("Accepted. The resident's contact is shown below.")
        elif action == "decline":
            reason = form.get("reason", "").strip()
            if not reason:
                errors.append(
                    _("Say why you decline, so the community can send it to someone else.")
                )
            else:
                dispatch_service.decline(d, request.user, version, reason[:200])
                message = _("Declined. The community has been told.")
        elif action == "report":
            hours = _hours(form.get("hours", ""))
            text = form.get("report", "").strip()
            if hours is None:
                errors.append(_("Give the hours of service as a number, e.g. 1.5."))
            if not text:
                errors.append(_("Say what was done."))
            if not errors:
                photos = request.FILES.getlist("photos")
                dispatch_service.report(d, request.user, version, text[:1000], hours, photos)
                message = _("Reported. The community or the grid worker will confirm it.")
        else:
            raise Http404
    except Stale:
        errors.append(
            _(
                "This dispatch was changed meanwhile (withdrawn or already answered); "
                "here it is now."
            )
        )
    except Refused as error:
        errors.append(str(error.message))
    if errors:
        return _detail(request, _one(request.user, pk), errors=errors, form=form, status=400)
    messages.success(request, message)
    return redirect(reverse("needs:inbox-detail", args=[pk]))
