"""The community's needs board (需求清单, /needs/) and one need's page (/needs/<id>/), issue #20.

Both are drawn by Django from the scoped querysets (Need.objects.visible_to); every step the
page offers is a POST to the JSON API (/api/needs/...) from needs/static/needs/detail.js with
the version the page was drawn at, so the rules live in one place (needs.services). The pages
are for the roles that work the loop from a desk: reviewers and grid workers. A provider's
users have their inbox (/needs/inbox/); a department sees no needs (personal data)."""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    F,
    Prefetch,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from grids import scoping
from grids.models import Grid, Level, Region, Role
from grids.services import audit
from needs.api.actions import allowed_actions
from needs.models import (
    OPEN_STATUSES,
    Dispatch,
    Need,
    NeedEvent,
    NeedStatus,
    ServiceKind,
    Urgency,
)
from needs.services import access, matching, review

# The board's columns, in the loop's order; declined and merged needs are counted, not shown.
COLUMNS = (
    NeedStatus.SUBMITTED,
    NeedStatus.ACCEPTED,
    NeedStatus.DISPATCHED,
    NeedStatus.TAKEN,
    NeedStatus.REPORTED,
    NeedStatus.DONE,
)
CARD_FIELDS = (
    "number",
    "title",
    "status",
    "urgency",
    "overdue",
    "raised_at",
    "confirmed_at",
    "version",
    "kind__name",
    "grid__name",
)
# Cards of these columns name the provider serving the need.
WITH_PROVIDER = (NeedStatus.DISPATCHED, NeedStatus.TAKEN, NeedStatus.REPORTED)
# A column shows this many cards (the most pressing first) and says how many more there are:
# a board is read at a glance, the API lists everything.
CARDS_PER_COLUMN = 30
# The done column and the figures strip look back this far.
RECENT_DAYS = 30
ID = re.compile(r"[0-9]{1,10}")
# 5 非常满意 … 1 不满意 (the contract's scale).
SATISFACTION = (
    (5, gettext_lazy("very satisfied")),
    (4, gettext_lazy("satisfied")),
    (3, gettext_lazy("fairly satisfied")),
    (2, gettext_lazy("not very satisfied")),
    (1, gettext_lazy("dissatisfied")),
)


def gate(user) -> None:
    """Who works the board: reviewers and grid workers. A provider is sent to its inbox by the
    caller; everyone else (departments, kiosks) is refused."""
    if scoping.sees_everything(user):
        return
    if user.role in access.REVIEWER_ROLES and user.region_id:
        return
    if user.role == Role.GRID_WORKER and user.grid_id:
        return
    raise PermissionDenied


def id_param(value) -> int | None:
    # ASCII digits only: str.isdigit() accepts "²", on which int() fails.
    return int(value) if value and ID.fullmatch(value) else None


def age(since: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in the largest whole unit: "3 天前", "5 小时前", "刚刚"."""
    seconds = max((now - since).total_seconds(), 0)
    if seconds >= 86400:
        n = int(seconds // 86400)
        return ngettext("%(n)s day ago", "%(n)s days ago", n) % {"n": n}
    if seconds >= 3600:
        n = int(seconds // 3600)
        return ngettext("%(n)s hour ago", "%(n)s hours ago", n) % {"n": n}
    return _("just now")


def _choices(user, community_id: int | None):
    """The communities and grids the filters offer: a community select only when the user
    sees several; grids of the chosen (or only) community."""
    communities = list(
        Region.objects.visible_to(user)
        .current()
        .filter(level=Level.COMMUNITY)
        .order_by("code")
        .values_list("pk", "name")
    )
    if len(communities) == 1:
        community_id = communities[0][0]
    grids = []
    if community_id is not None or user.role == Role.GRID_WORKER:
        grids = Grid.objects.visible_to(user).current().order_by("code")
        if community_id is not None:
            grids = grids.filter(community=community_id)
        grids = list(grids.values_list("pk", "name"))
    return communities if len(communities) > 1 else [], grids


def _filters(request) -> dict:
    get = request.GET
    kind = (get.get("kind") or "").strip()
    return {
        "kind": kind if ServiceKind.objects.filter(code=kind).exists() else "",
        "community": id_param(get.get("community")),
        "grid": id_param(get.get("grid")),
        "overdue": get.get("overdue") == "1",
        "urgent": get.get("urgent") == "1",
        "q": (get.get("q") or "").strip()[:60],
    }


def _filtered(user, f: dict):
    needs = Need.objects.visible_to(user)
    if f["kind"]:
        needs = needs.filter(kind__code=f["kind"])
    if f["community"] is not None:
        needs = needs.filter(community=f["community"])
    if f["grid"] is not None:
        needs = needs.filter(grid=f["grid"])
    if f["overdue"]:
        needs = needs.filter(overdue=True)
    if f["urgent"]:
        needs = needs.filter(urgency=Urgency.URGENT)
    if f["q"]:
        needs = needs.filter(
            Q(title__icontains=f["q"]) | Q(number__icontains=f["q"]) | Q(address__icontains=f["q"])
        )
    return needs


def _figures(needs, since: dt.datetime) -> dict:
    done = Q(status=NeedStatus.DONE, confirmed_at__gte=since)
    counts = needs.aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in COLUMNS[:-1]},
        done=Count("pk", filter=done),
        overdue=Count("pk", filter=Q(overdue=True, status__in=OPEN_STATUSES)),
        urgent=Count("pk", filter=Q(urgency=Urgency.URGENT, status__in=OPEN_STATUSES)),
        declined=Count("pk", filter=Q(status=NeedStatus.DECLINED, reviewed_at__gte=since)),
        merged=Count("pk", filter=Q(status=NeedStatus.MERGED, reviewed_at__gte=since)),
        satisfaction=Avg("satisfaction", filter=done),
        to_fulfil=Avg(F("confirmed_at") - F("raised_at"), filter=done),
    )
    counts["open"] = sum(counts[s] for s in COLUMNS[:-1])
    days = counts.pop("to_fulfil")
    counts["days"] = round(days.total_seconds() / 86400, 1) if days is not None else None
    if counts["satisfaction"] is not None:
        counts["satisfaction"] = round(counts["satisfaction"], 1)
    return counts


def _cards(needs, since: dt.datetime) -> dict[str, list[Need]]:
    """The first cards of every column in one statement: the most pressing first (overdue,
    then urgent, then the longest waiting); the done column newest first."""
    pressing = [
        # Done: newest confirmed first; the same NULL for every other column.
        Case(
            When(status=NeedStatus.DONE, then=F("confirmed_at")),
            default=Value(None),
            output_field=DateTimeField(),
        ).desc(nulls_last=True),
        F("overdue").desc(),
        Case(When(urgency=Urgency.URGENT, then=Value(0)), default=Value(1)),
        F("raised_at").asc(),
        F("pk").asc(),
    ]
    rows = (
        needs.filter(
            Q(status__in=COLUMNS[:-1]) | Q(status=NeedStatus.DONE, confirmed_at__gte=since)
        )
        .select_related("kind", "grid")
        # Only what a card shows: the window ranks every need of the jurisdiction (12,000 in
        # the full demo's district) before the first 30 of each column are kept.
        .only(*CARD_FIELDS)
        .annotate(place=Window(RowNumber(), partition_by=[F("status")], order_by=pressing))
        .filter(place__lte=CARDS_PER_COLUMN)
        .order_by("status", "place")
    )
    cards: dict[str, list[Need]] = {status: [] for status in COLUMNS}
    for need in rows:
        cards[need.status].append(need)
    return cards


@login_required
def board(request):
    """需求清单: the needs of the user's jurisdiction in columns by status, with filters,
    counts and a strip of the last 30 days' figures."""
    user = request.user
    if user.role == Role.PROVIDER:
        return redirect("needs:inbox")
    gate(user)
    now = timezone.now()
    since = now - dt.timedelta(days=RECENT_DAYS)
    f = _filters(request)
    communities, grids = _choices(user, f["community"])
    needs = _filtered(user, f)
    figures = _figures(needs, since)
    cards = _cards(needs, since)
    personal = scoping.sees_personal_data(user)
    serving = [n.pk for s in WITH_PROVIDER for n in cards[s]]
    providers = {
        d.need_id: provider_name(d.provider, personal)
        for d in Dispatch.objects.open().filter(need__in=serving).select_related("provider")
    }
    for column in cards.values():
        for need in column:
            need.age = age(need.raised_at, now)
            need.provider_name = providers.get(need.pk, "")
    labels = dict(NeedStatus.choices)
    columns = [
        {
            "status": status,
            "label": labels[status],
            "count": figures["done" if status == NeedStatus.DONE else status],
            "cards": cards[status],
        }
        for status in COLUMNS
    ]
    for column in columns:
        column["more"] = column["count"] - len(column["cards"])
    query = {k: v for k, v in f.items() if v not in (None, "", False)}
    query = {k: ("1" if v is True else v) for k, v in query.items()}
    return render(
        request,
        "needs/board.html",
        {
            "columns": columns,
            "figures": figures,
            "filters": f,
            "filtered": bool(query),
            "query": urlencode(query),
            "kinds": ServiceKind.objects.filter(active=True).values_list("code", "name"),
            "communities": communities,
            "grids": grids,
            "reviewer": scoping.sees_everything(user) or user.role in access.REVIEWER_ROLES,
            "recent_days": RECENT_DAYS,
        },
    )


def _masked(need: Need, user) -> dict:
    """The contact as this user may see it (grids.scoping.MASKS); unmasked reads audited."""
    if scoping.sees_personal_data(user):
        if need.contact_name or need.contact_phone:
            audit.log_personal_read(
                user, "need", [need.pk], channel="page", path=f"/needs/{need.pk}/"
            )
        return {"name": need.contact_name, "phone": need.contact_phone}
    return {
        "name": scoping.MASKS["name"](need.contact_name),
        "phone": scoping.MASKS["phone"](need.contact_phone),
    }


def _actions(user, need: Need, dispatch: Dispatch | None) -> dict:
    """The steps this user may take now, as the API decides them (needs.api.actions), so a
    button is never shown for a step the service would refuse."""
    need.open_dispatches = [dispatch] if dispatch is not None else []
    allowed = set(allowed_actions(user, need))
    return {
        "accept": "accept" in allowed,
        "decline": "decline" in allowed,
        "merge": "merge" in allowed,
        "dispatch": "dispatch" in allowed,
        "withdraw": "dispatch_withdraw" in allowed,
        "report": "dispatch_report" in allowed,
        "confirm": "confirm" in allowed,
        "any": bool(allowed - {"edit"}),
    }


def provider_name(provider, personal: bool) -> str:
    """A volunteer's or party member's name is a person's: masked for roles without personal
    data, as residents' names are."""
    if provider.is_person and not personal:
        return scoping.MASKS["name"](provider.name)
    return provider.name


def distance_text(metres: float | None) -> str:
    """Metres under a kilometre, else kilometres with one decimal ("850 米", "2.4 公里")."""
    if metres is None:
        return "–"
    if metres < 1000:
        return _("%(n)s m") % {"n": int(round(metres))}
    return _("%(n)s km") % {"n": f"{metres / 1000:.1f}"}


@login_required
def detail(request, pk: int):
    """One need: its fields and photos, the steps the user may take (review, merge a
    duplicate, dispatch to a candidate, withdraw, confirm), the dispatches and the timeline."""
    user = request.user
    if user.role == Role.PROVIDER:
        return redirect("needs:inbox")
    gate(user)
    need = get_object_or_404(
        Need.objects.visible_to(user)
        .select_related(
            "kind",
            "grid",
            "community",
            "household",
            "raised_by",
            "reviewed_by",
            "confirmed_by",
            "merged_into",
        )
        .prefetch_related(
            Prefetch(
                "events", NeedEvent.objects.select_related("actor", "provider").order_by("at", "pk")
            ),
            "photos",
            Prefetch(
                "dispatches",
                Dispatch.objects.select_related(
                    "provider", "offer__kind", "dispatched_by"
                ).order_by("dispatched_at", "pk"),
            ),
        ),
        pk=pk,
    )
    dispatches = list(need.dispatches.all())
    open_dispatch = next((d for d in dispatches if d.is_open), None)
    actions = _actions(user, need, open_dispatch)
    duplicates = review.duplicates(need) if actions["merge"] else []
    for other in duplicates:
        other.distance = distance_text(other.metres)
    candidates = matching.candidates(need) if actions["dispatch"] else []
    personal = scoping.sees_personal_data(user)
    reasons = {
        matching.OUTSIDE_AREA: _("outside its area"),
        matching.OVER_RADIUS: _("beyond its served distance"),
        matching.NO_CAPACITY: _("no capacity left"),
        matching.NOT_CONFIRMED: _("registration not confirmed"),
    }
    for c in candidates:
        c.distance = distance_text(c.distance_m)
        c.reason_text = reasons.get(c.reason, c.reason)
        c.name = provider_name(c.provider, personal)
    events = list(need.events.all())
    for event in events:
        event.provider_name = provider_name(event.provider, personal) if event.provider else ""
    for d in dispatches:
        d.provider_name = provider_name(d.provider, personal)
    merged = list(
        Need.objects.visible_to(user).filter(merged_into=need).only("pk", "number", "title")
    )
    photos = list(need.photos.all())
    config = {
        "id": need.pk,
        "version": need.version,
        # A public need has no raiser's account to tell (notify.raiser): the page must not say so.
        "raiser_told": bool(need.raised_by_id),
        "dispatch": {"id": open_dispatch.pk, "version": open_dispatch.version}
        if open_dispatch
        else None,
        "urls": {
            "need": f"/api/needs/{need.pk}/",
            "dispatches": "/api/needs/dispatches/",
        },
    }
    return render(
        request,
        "needs/detail.html",
        {
            "need": need,
            "contact": _masked(need, user),
            "events": events,
            "raised_photos": [p for p in photos if p.stage == "raised"],
            "report_photos": [p for p in photos if p.stage == "report"],
            "dispatches": dispatches,
            "open_dispatch": open_dispatch,
            "actions": actions,
            "duplicates": duplicates,
            "candidates": candidates,
            "merged": merged,
            "config": config,
            "satisfaction_choices": SATISFACTION,
            "age": age(need.raised_at, timezone.now()),
        },
    )
