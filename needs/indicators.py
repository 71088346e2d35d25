"""Needs and services figures as derived indicators of 一表通 (reports.derived), so that the
organisation department's form (党员双报到与微心愿服务月报表, reports/catalogue.py) is
computed, not typed. Registered from NeedsConfig.ready().

Needs are counted on the grid they are keyed to now (an open need re-keyed by a boundary
change counts where it is), each flow by its own time: raised (merged duplicates left out:
one need, however often it was raised), accepted, dispatched, fulfilled (confirmed done),
overdue (its due time in the period). Providers' figures are counted on the provider's own
grid (where a party member registered, 双报到), not the need's: the organisation department
asks what its members did where they reported. A service counts when the provider reported
it done (reported or confirmed), whoever confirms it later.

平均办结天数 (NEED_DAYS) is a mean: up the tree it is weighted by the needs fulfilled
(NEEDS_FULFILLED), so a community's figure is the mean over its needs, not over its grids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from needs.models import (
    Dispatch,
    Need,
    NeedStatus,
    Provider,
    ProviderKind,
    ProviderStatus,
)

# The figures API's definitions (a service counts once reported). Imported here, from
# NeedsConfig.ready, the figures module is loaded in every process, so that its receivers
# (an edited service kind drops the cached catalogue) are connected wherever kinds change.
from needs.services.figures import SERVED
from reports.derived import Context, Derivation, all_derivations, register

UNITS = (ProviderKind.UNIT, ProviderKind.CO_BUILDING)
DAY_SECONDS = Decimal(86400)
# reports.derived takes a weight for a derived mean once the lead's change lands (requests:
# Derivation.weight); until then the mean is not aggregated up the tree rather than wrong.
WEIGHTED = "weight" in {f.name for f in dataclasses.fields(Derivation)}


def _counts(queryset, key: str = "grid_id") -> dict[int, int]:
    return dict(queryset.order_by().values(key).annotate(n=Count("pk")).values_list(key, "n"))


def _bounds(context: Context) -> tuple[dt.datetime, dt.datetime]:
    # A range on the timestamp itself (not __date), so the time indexes apply.
    start, end = (
        timezone.make_aware(dt.datetime.combine(day, dt.time()))
        for day in (context.period.start, context.period.end)
    )
    return start, end


def _in_period(context: Context, name: str) -> Q:
    start, end = _bounds(context)
    return Q(**{f"{name}__gte": start, f"{name}__lt": end})


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def _needs(context: Context):
    return Need.objects.filter(grid__in=context.grid_ids)


def _served(context: Context, kinds=None):
    rows = Dispatch.objects.filter(provider__grid__in=context.grid_ids, status__in=SERVED).filter(
        _in_period(context, "reported_at")
    )
    return rows.filter(provider__kind__in=kinds) if kinds else rows


@register(
    key="needs_fulfilled",
    code="NEEDS_FULFILLED",
    name="完成微心愿数",
    unit="件",
    group="governance",
    time_aggregation="sum",
    aliases=("完成群众微心愿数", "实现微心愿数", "微心愿完成数", "办结需求数", "完成需求数"),
    description="Needs confirmed done in the period (微心愿 fulfilled), on the need's grid.",
)
def needs_fulfilled(context: Context):
    done = _needs(context).filter(status=NeedStatus.DONE)
    return _counts(done.filter(_in_period(context, "confirmed_at")))


@register(
    key="needs_raised",
    code="NEEDS_RAISED",
    name="收集需求（微心愿）数",
    unit="件",
    group="governance",
    time_aggregation="sum",
    aliases=("收集微心愿数", "征集微心愿数", "收集群众需求数", "需求清单数", "收集需求数"),
    description="Needs raised in the period, merged duplicates left out, on the need's grid.",
)
def needs_raised(context: Context):
    raised = _needs(context).exclude(status=NeedStatus.MERGED)
    return _counts(raised.filter(_in_period(context, "raised_at")))


@register(
    key="needs_accepted",
    code="NEEDS_ACCEPTED",
    name="受理需求数",
    unit="件",
    group="governance",
    time_aggregation="sum",
    aliases=("纳入需求清单数", "受理微心愿数", "认领需求数"),
    description="Needs the community accepted into its needs list in the period.",
)
def needs_accepted(context: Context):
    accepted = _needs(context).exclude(
        status__in=(NeedStatus.SUBMITTED, NeedStatus.DECLINED, NeedStatus.MERGED)
    )
    return _counts(accepted.filter(_in_period(context, "reviewed_at")))


@register(
    key="needs_dispatched",
    code="NEEDS_DISPATCHED",
    name="派单次数",
    unit="次",
    group="governance",
    time_aggregation="sum",
    aliases=("社区派单次数", "社区派单数", "派单数"),
    description="Dispatches sent in the period (派单次数: a need dispatched again counts "
    "again; the figures' `dispatched` is 已派单需求数, the needs with a dispatch).",
)
def needs_dispatched(context: Context):
    rows = Dispatch.objects.filter(need__grid__in=context.grid_ids)
    return _counts(rows.filter(_in_period(context, "dispatched_at")), "need__grid_id")


@register(
    key="needs_overdue",
    code="NEEDS_OVERDUE",
    name="超期需求数",
    unit="件",
    group="governance",
    time_aggregation="sum",
    aliases=("逾期需求数", "超期未办结需求数", "超时需求数"),
    description="Needs that passed their due time unserved, counted in the period it fell in.",
)
def needs_overdue(context: Context):
    late = _needs(context).filter(overdue=True)
    return _counts(late.filter(_in_period(context, "due_at")))


@register(
    key="need_days",
    code="NEED_DAYS",
    name="平均办结天数",
    unit="天",
    group="governance",
    value_type="decimal",
    **(
        {"aggregation": "weighted_mean", "weight": "needs_fulfilled"}
        if WEIGHTED
        else {"aggregation": "none"}
    ),
    time_aggregation="mean",
    counts=False,
    aliases=("需求平均办结天数", "微心愿平均办结天数", "平均办结时长"),
    description="Mean days from raised to confirmed done of the needs fulfilled in the period; "
    "up the tree weighted by NEEDS_FULFILLED. No value where none was fulfilled.",
)
def need_days(context: Context):
    took = ExpressionWrapper(F("confirmed_at") - F("raised_at"), output_field=DurationField())
    done = (
        _needs(context).filter(status=NeedStatus.DONE).filter(_in_period(context, "confirmed_at"))
    )
    rows = done.order_by().values("grid_id").annotate(mean=Avg(took)).values_list("grid_id", "mean")
    return {
        grid: (Decimal(mean.total_seconds()) / DAY_SECONDS).quantize(Decimal("0.0001"))
        for grid, mean in rows
        if mean is not None
    }


@register(
    key="party_registered",
    code="PARTY_REGISTERED",
    name="报到党员数",
    unit="人",
    group="organisation",
    aliases=("到社区报到党员数", "双报到党员数", "在职党员报到数", "报到在职党员数"),
    description="Party members registered with the community (双报到) and confirmed by the "
    "period's last day, on the provider's grid (a stock).",
)
def party_registered(context: Context):
    members = Provider.objects.filter(
        grid__in=context.grid_ids,
        kind=ProviderKind.PARTY_MEMBER,
        status=ProviderStatus.CONFIRMED,
        confirmed_at__lt=_end_of(context.on),
    )
    return _counts(members)


@register(
    key="party_services",
    code="PARTY_SERVICES",
    name="党员服务次数",
    unit="次",
    group="organisation",
    time_aggregation="sum",
    aliases=("报到党员服务次数", "党员志愿服务次数", "双报到党员服务次数", "党员接单数"),
    description="Services registered party members reported done in the period, on the "
    "party member's grid.",
)
def party_services(context: Context):
    return _counts(_served(context, (ProviderKind.PARTY_MEMBER,)), "provider__grid_id")


@register(
    key="party_service_hours",
    code="PARTY_SERVICE_HOURS",
    name="党员服务时长",
    unit="小时",
    group="organisation",
    value_type="decimal",
    time_aggregation="sum",
    aliases=("报到党员服务时长", "党员志愿服务时长", "党员服务小时数"),
    description="Hours of the services registered party members reported in the period.",
)
def party_service_hours(context: Context):
    rows = (
        _served(context, (ProviderKind.PARTY_MEMBER,))
        .order_by()
        .values("provider__grid_id")
        .annotate(h=Sum("hours"))
        .values_list("provider__grid_id", "h")
    )
    return {grid: hours for grid, hours in rows if hours is not None}


@register(
    key="provider_units",
    code="PROVIDER_UNITS",
    name="驻区及共建单位数",
    unit="个",
    group="organisation",
    aliases=("共驻共建单位数", "驻区共建单位数", "驻区单位及共建单位数", "参与共建单位数"),
    description="Units on the community's services list confirmed by the period's last day: "
    "its own units (驻区单位, 实有单位) and co-building units (共建单位) together, on the "
    "unit's grid (a stock).",
)
def provider_units(context: Context):
    units = Provider.objects.filter(
        grid__in=context.grid_ids,
        kind__in=UNITS,
        status=ProviderStatus.CONFIRMED,
        confirmed_at__lt=_end_of(context.on),
    )
    return _counts(units)


@register(
    key="volunteer_services",
    code="VOLUNTEER_SERVICES",
    name="志愿服务次数",
    unit="次",
    group="organisation",
    time_aggregation="sum",
    aliases=("志愿者服务次数", "开展志愿服务次数"),
    description="Services volunteers (志愿者, not party members or units) reported done in "
    "the period, on the volunteer's grid.",
)
def volunteer_services(context: Context):
    return _counts(_served(context, (ProviderKind.VOLUNTEER,)), "provider__grid_id")


@register(
    key="services_total",
    code="SERVICES_TOTAL",
    name="服务方服务次数",
    unit="次",
    group="organisation",
    time_aggregation="sum",
    aliases=("服务次数", "接单服务次数"),
    description="Services every kind of provider reported done in the period, on the "
    "provider's grid.",
)
def services_total(context: Context):
    return _counts(_served(context), "provider__grid_id")


# The keys registered here: the needs demo keeps their past months (needs.services.demo_reports).
KEYS = tuple(d.key for d in all_derivations() if d.compute.__module__ == __name__)
