"""Needs and services figures for a region and a span of days (GET /api/needs/figures/): the
needs raised, accepted, dispatched, done, declined and merged, time to fulfil, satisfaction,
per kind and per child area (streets of a district, communities of a street, grids of a
community), and what providers contributed (services, hours), party members' records first.

Flows are counted by their own time as in needs/indicators.py (the same definitions, so the
figures and 一表通 agree): raised by raised_at (merged duplicates left out of `raised` and
counted in `merged`), accepted/declined/merged by reviewed_at, dispatched by the dispatch's
time, done by confirmed_at, overdue by due_at. Needs are placed by their (denormalised)
community, providers by the community they registered with. A fixed handful of queries
whatever the region: each figure is one GROUP BY.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Sum,
)
from django.utils import timezone

from grids import scoping
from grids.models import Grid, Region
from needs.models import (
    OPEN_STATUSES,
    Dispatch,
    DispatchStatus,
    Need,
    NeedStatus,
    Provider,
    ProviderKind,
    ProviderStatus,
    ServiceKind,
)

SERVED = (DispatchStatus.REPORTED, DispatchStatus.CONFIRMED)
PARTY_RECORDS = 20  # the party members listed, most hours first
_CHILD = {"district": "community__parent", "street": "community", "community": "grid"}


class Median(Aggregate):
    """PostgreSQL's exact median (an ordered-set aggregate Django does not ship)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _seconds(later: str, earlier: str) -> Func:
    return Func(
        F(later) - F(earlier),
        template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=FloatField(),
    )


def _community_q(region: Region, prefix: str = "") -> Q:
    """Rows whose community (FK `prefix + "community"`) lies in `region`: an IN over the
    region's communities, which PostgreSQL turns into one hash of a few hundred ids instead
    of joining the tree to every row."""
    communities = Region.objects.filter(scoping.region_under_q(region), level="community")
    return Q(**{f"{prefix}community__in": communities.values("pk")})


def _between(name: str, start: dt.datetime, end: dt.datetime) -> Q:
    return Q(**{f"{name}__gte": start, f"{name}__lt": end})


def _round(value, places: str = "0.01") -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _days(seconds) -> float | None:
    return None if seconds is None else _round(seconds / 86400, "0.1")


def for_region(region: Region, start: dt.date, end: dt.date, *, people: bool = True) -> dict:
    """Figures of `region` for the days `start` to `end` (both included). `people`: list the
    party members' records with their names (the caller says whether the user may see
    personal data); without it the records are counted, not named."""
    since = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    needs = Need.objects.filter(_community_q(region))
    raised = _between("raised_at", since, until)
    reviewed = _between("reviewed_at", since, until)
    done = Q(status=NeedStatus.DONE) & _between("confirmed_at", since, until)
    totals = needs.aggregate(
        raised=Count("pk", filter=raised & ~Q(status=NeedStatus.MERGED)),
        accepted=Count(
            "pk",
            filter=reviewed
            & ~Q(status__in=(NeedStatus.SUBMITTED, NeedStatus.DECLINED, NeedStatus.MERGED)),
        ),
        declined=Count("pk", filter=reviewed & Q(status=NeedStatus.DECLINED)),
        merged=Count("pk", filter=reviewed & Q(status=NeedStatus.MERGED)),
        done=Count("pk", filter=done),
        overdue=Count("pk", filter=Q(overdue=True) & _between("due_at", since, until)),
        open_now=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        mean_s=Avg(_seconds("confirmed_at", "raised_at"), filter=done),
        median_s=Median(_seconds("confirmed_at", "raised_at"), filter=done),
        sat_mean=Avg("satisfaction", filter=done & Q(satisfaction__isnull=False)),
        rated=Count("pk", filter=done & Q(satisfaction__isnull=False)),
    )
    dispatches = Dispatch.objects.filter(_community_q(region, "need__")).filter(
        _between("dispatched_at", since, until)
    )
    sent = dispatches.aggregate(
        needs=Count("need", distinct=True),
        dispatches=Count("pk"),
        declined=Count("pk", filter=Q(status=DispatchStatus.DECLINED)),
    )
    providers = _providers(region, since, until)
    return {
        "region": {
            "id": region.pk,
            "code": region.code,
            "name": region.name,
            "level": region.level,
        },
        "start": start.isoformat(),
        "end": end.isoformat(),
        "needs": {
            "raised": totals["raised"],
            "accepted": totals["accepted"],
            "dispatched": sent["needs"],
            "dispatches": sent["dispatches"],
            "declined_by_providers": sent["declined"],
            "done": totals["done"],
            "declined": totals["declined"],
            "merged": totals["merged"],
            "overdue": totals["overdue"],
            "open_now": totals["open_now"],
        },
        "days_to_fulfil": {"mean": _days(totals["mean_s"]), "median": _days(totals["median_s"])},
        "satisfaction": {"mean": _round(totals["sat_mean"]), "rated": totals["rated"]},
        "by_kind": _by_kind(needs, raised, done),
        "by_area": _by_area(region, needs, raised, done, since, until),
        "providers": providers,
        "party_members": _party_members(region, since, until, people, providers),
    }


def _by_kind(needs, raised, done) -> list[dict]:
    rows = (
        needs.order_by()
        .values("kind_id")
        .annotate(
            raised=Count("pk", filter=raised & ~Q(status=NeedStatus.MERGED)),
            done=Count("pk", filter=done),
        )
    )
    counts = {r["kind_id"]: r for r in rows}
    return [
        {
            "code": k.code,
            "name": k.name,
            "raised": counts.get(k.pk, {}).get("raised", 0),
            "done": counts.get(k.pk, {}).get("done", 0),
        }
        for k in ServiceKind.objects.order_by("order", "code")
        if k.active or k.pk in counts
    ]


def _by_area(region, needs, raised, done, since, until) -> list[dict]:
    """Per child area of `region` valid on the span's last day (grids of a community)."""
    key = _CHILD[region.level]
    rows = (
        needs.order_by()
        .values(key)
        .annotate(
            raised=Count("pk", filter=raised & ~Q(status=NeedStatus.MERGED)),
            done=Count("pk", filter=done),
            overdue=Count("pk", filter=Q(overdue=True) & _between("due_at", since, until)),
            open_now=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        )
    )
    counts = {r[key]: r for r in rows}
    on = (until - dt.timedelta(days=1)).date()
    if region.level == "community":
        areas = Grid.objects.valid_on(on).filter(community=region).values_list("pk", "code", "name")
        level = "grid"
    else:
        areas = Region.objects.valid_on(on).filter(parent=region).values_list("pk", "code", "name")
        level = "street" if region.level == "district" else "community"
    empty = {"raised": 0, "done": 0, "overdue": 0, "open_now": 0}
    return [
        {
            "id": pk,
            "code": code,
            "name": name,
            "level": level,
            **{k: counts.get(pk, empty)[k] for k in empty},
        }
        for pk, code, name in areas.order_by("code")
    ]


def _providers(region, since, until) -> list[dict]:
    """Per kind of provider: confirmed on the span's last day, services reported in the span
    and their hours."""
    registered = dict(
        Provider.objects.filter(_community_q(region))
        .filter(status=ProviderStatus.CONFIRMED, confirmed_at__lt=until)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    served = {
        r["provider__kind"]: r
        for r in Dispatch.objects.filter(_community_q(region, "provider__"))
        .filter(status__in=SERVED)
        .filter(_between("reported_at", since, until))
        .order_by()
        .values("provider__kind")
        .annotate(services=Count("pk"), hours=Sum("hours"), active=Count("provider", distinct=True))
    }
    return [
        {
            "kind": str(kind),
            "label": str(kind.label),
            "registered": registered.get(kind, 0),
            "active": served.get(kind, {}).get("active", 0),
            "services": served.get(kind, {}).get("services", 0),
            "hours": _round(served.get(kind, {}).get("hours") or 0, "0.1"),
        }
        for kind in ProviderKind
    ]


def _party_members(region, since, until, people: bool, providers: list[dict]) -> dict:
    """Party members' records (党员服务记录): services and hours in the span, most hours
    first; names only when `people`. How many served is the providers' figure (the party
    members with a service), not another count."""
    rows = (
        Provider.objects.filter(_community_q(region), kind=ProviderKind.PARTY_MEMBER)
        .filter(
            dispatches__status__in=SERVED,
            dispatches__reported_at__gte=since,
            dispatches__reported_at__lt=until,
        )
        .annotate(
            services=Count("dispatches", output_field=IntegerField()),
            hours=Sum("dispatches__hours"),
        )
        .order_by("-hours", "-services", "pk")
        .values("pk", "name", "organisation", "community__name", "services", "hours")
    )
    records = list(rows[:PARTY_RECORDS])
    return {
        "served": next(p["active"] for p in providers if p["kind"] == ProviderKind.PARTY_MEMBER),
        "records": [
            {
                "id": r["pk"],
                "name": r["name"] if people else None,
                "organisation": r["organisation"],
                "community": r["community__name"],
                "services": r["services"],
                "hours": _round(r["hours"] or 0, "0.1"),
            }
            for r in records
        ],
    }
