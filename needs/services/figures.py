"""Needs and services figures for a region and a span of days (GET /api/needs/figures/): the
needs raised, accepted, dispatched, done, declined and merged, time to fulfil, satisfaction,
per kind and per child area (streets of a district, communities of a street, grids of a
community), and what providers contributed (services, hours), party members' records first.

Flows are counted by their own time as in needs/indicators.py (the same definitions, so the
figures and 一表通 agree): raised by raised_at (merged duplicates left out of `raised` and
counted in `merged`), accepted/declined/merged by reviewed_at, dispatched by the dispatch's
time, done by confirmed_at, overdue by due_at. Needs are placed by their (denormalised)
community, providers by the community they registered with. 办结 is confirmed done: days to
fulfil run from raised_at to confirmed_at.

Two figures about dispatching, named apart: `dispatched` is 已派单需求数 (needs with a
dispatch sent in the span, each once) and `dispatches` is 派单次数 (dispatches sent, a need
dispatched again counted again: 一表通's NEEDS_DISPATCHED); `declined_by_providers` counts
the dispatches sent in the span that the provider declined (退单), whenever it did.

At most 8 statements whatever the region (a street's: 7), each a GROUP BY: the needs' counts
per kind and child area in one (totals and both lists are its sums), the median in another;
the service kinds come from the cache.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Sum,
)
from django.db.models.signals import post_delete, post_save
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
COUNTED = ("raised", "accepted", "declined", "merged", "done", "overdue", "open_now", "rated")
KINDS_KEY = "needs:figures:kinds"
KINDS_SECONDS = 3600  # a bound only: a save or delete of a kind drops the list at once
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


def _communities(region: Region) -> list[tuple]:
    """The region's communities (pk, parent, code, name, valid from, valid to), read once per
    call: every statement then has a plain IN over a few hundred ids (one hash in
    PostgreSQL, nothing of the tree joined to the rows, no subquery to build again in each
    of them), and a street's areas (its communities) need no statement of their own."""
    return list(
        Region.objects.filter(scoping.region_under_q(region), level="community").values_list(
            "pk", "parent_id", "code", "name", "valid_from", "valid_to"
        )
    )


def _community_q(communities: list[int], prefix: str = "") -> Q:
    return Q(**{f"{prefix}community__in": communities})


def _kinds() -> list[tuple[int, str, str, bool]]:
    """The service kinds (pk, code, name, active) in order: a small catalogue read on every
    figures request, kept in the cache until a kind is saved or deleted (forget_kinds)."""
    kinds = cache.get(KINDS_KEY)
    if kinds is None:
        kinds = list(
            ServiceKind.objects.order_by("order", "code").values_list(
                "pk", "code", "name", "active"
            )
        )
        cache.set(KINDS_KEY, kinds, KINDS_SECONDS)
    return kinds


def forget_kinds(**kwargs) -> None:
    cache.delete(KINDS_KEY)


# Connected on import: needs.indicators (imported by NeedsConfig.ready in every process)
# imports this module, so an edit of the catalogue anywhere drops the cached list.
post_save.connect(forget_kinds, sender=ServiceKind, dispatch_uid="needs_figures_kinds_saved")
post_delete.connect(forget_kinds, sender=ServiceKind, dispatch_uid="needs_figures_kinds_deleted")


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
    rows = _communities(region)
    communities = [row[0] for row in rows]
    needs = Need.objects.filter(_community_q(communities))
    grouped, totals = _needs_figures(region, needs, since, until)
    dispatches = Dispatch.objects.filter(_community_q(communities, "need__")).filter(
        _between("dispatched_at", since, until)
    )
    sent = dispatches.aggregate(
        needs=Count("need", distinct=True),
        dispatches=Count("pk"),
        declined=Count("pk", filter=Q(status=DispatchStatus.DECLINED)),
    )
    providers = _providers(communities, since, until)
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
        "by_kind": _by_kind(grouped),
        "by_area": _by_area(region, rows, grouped, until),
        "providers": providers,
        "party_members": _party_members(communities, since, until, people, providers),
    }


def _needs_figures(region, needs, since, until) -> tuple[list[dict], dict]:
    """The needs' counts per kind and child area in one statement (a few hundred rows at
    most), summed here into the totals and the by-kind and by-area lists — every count and
    sum adds up across the groups — and the median, which does not, in a second one."""
    raised = _between("raised_at", since, until)
    reviewed = _between("reviewed_at", since, until)
    done = Q(status=NeedStatus.DONE) & _between("confirmed_at", since, until)
    rated = done & Q(satisfaction__isnull=False)
    took = _seconds("confirmed_at", "raised_at")
    grouped = list(
        needs.order_by()
        .values("kind_id", _CHILD[region.level])
        .annotate(
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
            took_s=Sum(took, filter=done),
            sat_sum=Sum("satisfaction", filter=rated),
            rated=Count("pk", filter=rated),
        )
    )
    totals = {key: sum(row[key] for row in grouped) for key in COUNTED}
    took_s = sum(row["took_s"] or 0 for row in grouped)
    sat_sum = sum(row["sat_sum"] or 0 for row in grouped)
    totals["mean_s"] = took_s / totals["done"] if totals["done"] else None
    totals["sat_mean"] = Decimal(sat_sum) / totals["rated"] if totals["rated"] else None
    totals["median_s"] = (
        needs.filter(done).aggregate(median_s=Median(took))["median_s"] if totals["done"] else None
    )
    return grouped, totals


def _sum_by(grouped: list[dict], key: str, fields: tuple[str, ...]) -> dict:
    sums: dict = {}
    for row in grouped:
        into = sums.setdefault(row[key], dict.fromkeys(fields, 0))
        for field in fields:
            into[field] += row[field]
    return sums


def _by_kind(grouped: list[dict]) -> list[dict]:
    counts = _sum_by(grouped, "kind_id", ("raised", "done"))
    return [
        {
            "code": code,
            "name": name,
            "raised": counts.get(pk, {}).get("raised", 0),
            "done": counts.get(pk, {}).get("done", 0),
        }
        for pk, code, name, active in _kinds()
        if active or pk in counts
    ]


def _by_area(region, communities, grouped, until) -> list[dict]:
    """Per child area of `region` valid on the span's last day (grids of a community; a
    street's from its `communities` rows)."""
    empty = {"raised": 0, "done": 0, "overdue": 0, "open_now": 0}
    counts = _sum_by(grouped, _CHILD[region.level], tuple(empty))
    on = (until - dt.timedelta(days=1)).date()
    if region.level == "community":
        areas = Grid.objects.valid_on(on).filter(community=region).values_list("pk", "code", "name")
        level = "grid"
    elif region.level == "street":
        areas = [
            (pk, code, name)
            for pk, parent, code, name, valid_from, valid_to in communities
            if parent == region.pk and valid_from <= on and (valid_to is None or valid_to > on)
        ]
        level = "community"
    else:
        areas = Region.objects.valid_on(on).filter(parent=region).values_list("pk", "code", "name")
        level = "street"
    return [
        {
            "id": pk,
            "code": code,
            "name": name,
            "level": level,
            **{k: counts.get(pk, empty)[k] for k in empty},
        }
        for pk, code, name in sorted(areas, key=lambda area: area[1])
    ]


def _providers(communities, since, until) -> list[dict]:
    """Per kind of provider: confirmed on the span's last day, services reported in the span
    and their hours. (Two statements: one joining every provider to its served dispatches
    reads all the dispatches, where this one reads those of the span by their index.)"""
    registered = dict(
        Provider.objects.filter(_community_q(communities))
        .filter(status=ProviderStatus.CONFIRMED, confirmed_at__lt=until)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    served = {
        r["provider__kind"]: r
        for r in Dispatch.objects.filter(_community_q(communities, "provider__"))
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


def _party_members(communities, since, until, people: bool, providers: list[dict]) -> dict:
    """Party members' records (党员服务记录): services and hours in the span, most hours
    first; names only when `people`. How many served is the providers' figure (the party
    members with a service), not another count."""
    rows = (
        Provider.objects.filter(_community_q(communities), kind=ProviderKind.PARTY_MEMBER)
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
