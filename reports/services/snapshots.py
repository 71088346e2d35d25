"""Daily snapshots of derived figures (issue #17): a derived indicator's value per grid for
a period that is over is computed once, kept (`DerivedSnapshot`) and read back — every
derived column of a report in one query — instead of recomputed. A past day's stock is a
scan of the household history (seconds at full scale); its snapshot is a few ms.

Only periods whose last day is before today are kept: today's figures change all day.
A write that takes effect in the past announces it (`grids.changes.data_changed_since`);
`drop_since` then deletes what was kept for periods ending on or after that day. Editing an
indicator drops its snapshots. The nightly job keeps the periods that ended yesterday and
computes again what back-dated changes dropped in the last 13 months.

A computation that read the data before a back-dated change committed must not write what
it read after the change dropped the snapshots: every drop is logged (`SnapshotDrop`) and a
writer, under a lock that `drop_since` takes alone (reports/sql.py), writes only if no drop
covering its day happened since it started.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import transaction
from django.db.models import DecimalField, Func
from django.utils import timezone

from grids.models import Grid, Region
from reports import derived, sql
from reports.models import DerivedSnapshot, Indicator, SnapshotDrop
from reports.periods import Period, PeriodType
from reports.services import derive

log = logging.getLogger(__name__)

# Drops older than this cannot concern a computation still running.
DROP_LOG_DAYS = 2
# How far back the nightly job keeps (and refills) past periods: a year and the month before.
KEEP_MONTHS = 13


def keeps(period: Period) -> bool:
    """Whether a period's derived figures are kept: it is over."""
    return period.last_day < timezone.localdate()


def grid_values(
    indicator: Indicator, context: derived.Context, together: frozenset[int] = frozenset()
) -> dict[int, Decimal]:
    """`derive.grid_values` for a period that is over, through the snapshots: the kept
    values of the context's grids, computing (and keeping) those of grids not kept yet.
    The derived indicators in `together` (a report's columns) are read in one query."""
    if not keeps(context.period):
        return derive.grid_values(indicator, context)
    kept = _kept(context, together | {indicator.pk}).get(indicator.pk, {})
    missing = [pk for pk in context.grid_ids if pk not in kept]
    if not missing:
        return {pk: kept[pk] for pk in context.grid_ids if kept[pk] is not None}
    started = timezone.now()
    if len(missing) == len(context.grid_ids):
        computed = derive.grid_values(indicator, context)
    else:
        # A context of the missing grids only. Derivations memoise per period, not per set
        # of grids (one household-history read serves every residents-by-tag figure), so it
        # shares a memo only with the contexts of the same missing grids.
        memo = context.memo.setdefault(("missing", tuple(missing)), {})
        computed = derive.grid_values(indicator, derived.Context(context.period, missing, memo))
    write(indicator, context.period, {pk: computed.get(pk) for pk in missing}, started)
    values = {pk: v for pk, v in kept.items() if v is not None}
    values.update(computed)
    return {pk: values[pk] for pk in context.grid_ids if pk in values}


def _kept(context: derived.Context, ids: frozenset[int]) -> dict[int, dict[int, Decimal | None]]:
    """{indicator pk: {grid pk: value}} kept for the period, read once per context memo for
    every indicator of `ids` (one query for a report's derived columns)."""
    period = context.period
    key = ("snapshots", period.type, period.start, ids)
    if key not in context.memo:
        rows = (
            DerivedSnapshot.objects.filter(
                indicator__in=ids,
                period_type=period.type,
                period_start=period.start,
                grid__in=context.grid_ids,
            )
            .values("indicator_id")
            # One row per indicator with its grids and values as two arrays (in the same
            # order: both aggregates see the group's rows in one pass): 30 rows parsed, not
            # 30,000. trim_scale: the value without the column's trailing zeros, as computed.
            .annotate(
                grids=ArrayAgg("grid_id"),
                values=ArrayAgg(Func("value", function="trim_scale", output_field=DecimalField())),
            )
            .values_list("indicator_id", "grids", "values")
        )
        found: dict[int, dict[int, Decimal | None]] = defaultdict(dict)
        for indicator_id, grids, values in rows:
            found[indicator_id] = dict(zip(grids, values, strict=True))
        context.memo[key] = found
    return context.memo[key]


def write(
    indicator: Indicator,
    period: Period,
    values: dict[int, Decimal | None],
    started: dt.datetime,
) -> int:
    """Keep `values` ({grid pk: value or None}) unless a drop covering the period happened
    since `started` (the computation may have read data that changed). Returns rows kept."""
    if not values or not keeps(period):
        return 0
    with transaction.atomic():
        # Writers together, a drop alone: the drop check below and this insert cannot
        # interleave with a drop's log and delete.
        sql.lock_snapshots(shared=True)
        if SnapshotDrop.objects.filter(at__gte=started, since__lte=period.last_day).exists():
            log.info("snapshot of %s %s not kept: data changed meanwhile", indicator, period)
            return 0
        # A concurrent writer of the same cells wrote the same figures: keep the first.
        DerivedSnapshot.objects.bulk_create(
            [
                DerivedSnapshot(
                    indicator=indicator,
                    period_type=period.type,
                    period_start=period.start,
                    day=period.last_day,
                    grid_id=pk,
                    value=value,
                )
                for pk, value in values.items()
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
    return len(values)


def drop_since(since: dt.date, grids: frozenset[int] | None = None) -> int:
    """Drop the figures kept for periods ending on or after `since` — of the districts of
    `grids` only, when given; log the drop so that a computation under way does not write
    what it read before. Returns rows dropped."""
    with transaction.atomic():
        sql.lock_snapshots(shared=False)
        # The log names no place (one row, no migration): a writer of any district started
        # before it does not write, and computes again on the next read.
        SnapshotDrop.objects.create(since=since)
        kept = DerivedSnapshot.objects.filter(day__gte=since)
        if grids is not None:
            kept = kept.filter(grid__in=district_grids(grids))
        dropped, _ = kept.delete()
    return dropped


def district_grids(grids: frozenset[int]):
    """Every grid (of any time) of the districts `grids` are in, as a subquery. A boundary
    change moves rows between grids of one district, never across districts, so a grid's
    past figures can only count rows written in a grid of its district."""
    districts = Region.objects.filter(children__children__grids__in=grids)
    return Grid.objects.filter(community__parent__parent__in=districts).values("pk")


def drop_indicator(indicator_pk: int) -> int:
    """Drop everything kept for one indicator (its definition or computation changed). Logged
    like a data drop, under the same lock: a report that computed with the old definition
    and writes after the edit would otherwise keep the old meaning's figures for good."""
    with transaction.atomic():
        sql.lock_snapshots(shared=False)
        SnapshotDrop.objects.create(since=dt.date.min)
        dropped, _ = DerivedSnapshot.objects.filter(indicator=indicator_pk).delete()
    return dropped


def on_data_changed(
    sender, subject: str, since: dt.date, grids: frozenset[int] | None = None, **kwargs
) -> None:
    """Receiver of grids.changes.data_changed. Whatever the subject, every derived figure is
    dropped from `since` (of the districts of `grids` when the writer named them): a
    code-registered derivation does not say what it reads, and a household's change moves
    residents' figures too."""
    dropped = drop_since(since, grids)
    log.info("%s changed from %s: %d derived figures kept dropped", subject, since, dropped)


def on_indicator_saved(sender, instance: Indicator, created: bool, **kwargs) -> None:
    if not created and instance.source == "derived":
        drop_indicator(instance.pk)


def keep_recent(day: dt.date | None = None, months: int = KEEP_MONTHS) -> dict[str, int]:
    """The nightly job: every period of every type that ended in the last `months` months
    (up to `day`, default yesterday) kept for every active derived indicator and every grid
    valid then. A period ending yesterday is computed for the first time; an older one is
    computed again only where a back-dated change dropped it (else it costs one read).
    Returns {period key: grids} of the periods looked at."""
    day = day or timezone.localdate() - dt.timedelta(days=1)
    cutoff = Period.containing(day, PeriodType.MONTH).shifted(1 - months).start
    looked: dict[str, int] = {}
    for kind in PeriodType.values:
        period = Period.containing(day, kind)
        if period.last_day != day:
            period = period.previous()
        while period.last_day >= cutoff and keeps(period):
            on = period.last_day
            grid_ids = list(Grid.objects.valid_on(on).values_list("pk", flat=True))
            indicators = list(Indicator.objects.derived().active(on))
            context = derived.Context(period, grid_ids)
            together = frozenset(i.pk for i in indicators)
            for indicator in indicators:
                grid_values(indicator, context, together)
            looked[period.key] = len(grid_ids)
            period = period.previous()
    prune_drops()
    return looked


def prune_drops() -> int:
    deleted, _ = SnapshotDrop.objects.filter(
        at__lt=timezone.now() - dt.timedelta(days=DROP_LOG_DAYS)
    ).delete()
    return deleted
