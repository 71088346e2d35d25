"""The readings time series: one partition of `sensors_reading` per calendar month (UTC),
named `sensors_reading_pYYYYMM`.

Partitions exist from the retention period's start to two months ahead: made nightly by
the `maintain_readings` job, after every migrate (so a fresh database, and the test
database, can take readings at once), and lazily by ingest for a month that has none.
Partitions wholly older than GRIDLINE_READINGS_RETENTION_DAYS are dropped whole, which costs
nothing, unlike deleting millions of rows. There is no default partition: a reading outside
every partition is an error, never silently kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction

from sensors.models import Reading, Sensor
from sensors.sql import readings as sql

MONTHS_AHEAD = 2
NAME = re.compile(r"^sensors_reading_p(\d{4})(\d{2})$")
SERIES_LIMIT = 1000
SERIES_MAX = 10000

Month = tuple[int, int]

# The partitions this process knows to exist, so that ingest asks the catalogue only when
# a batch brings a month it has not seen; cleared when an insert finds one missing.
_known: set[str] = set()


def partition_name(month: Month) -> str:
    return f"sensors_reading_p{month[0]:04d}{month[1]:02d}"


def month_of(day: dt.date | dt.datetime) -> Month:
    if isinstance(day, dt.datetime):
        day = day.astimezone(dt.UTC)
    return day.year, day.month


def next_month(month: Month) -> Month:
    year, m = month
    return (year + 1, 1) if m == 12 else (year, m + 1)


def month_start(month: Month) -> dt.datetime:
    return dt.datetime(month[0], month[1], 1, tzinfo=dt.UTC)


def months_between(start: dt.date, end: dt.date) -> list[Month]:
    """Every month from the one holding `start` to the one holding `end`, both included."""
    months, month, last = [], month_of(start), month_of(end)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def last_month_ahead(today: dt.date) -> dt.date:
    month = month_of(today)
    for _ in range(MONTHS_AHEAD):
        month = next_month(month)
    return month_start(month).date()


def retention_start(now: dt.datetime | None = None) -> dt.datetime:
    """The oldest time a reading is kept (and accepted) for."""
    now = now or dt.datetime.now(dt.UTC)
    return now - dt.timedelta(days=settings.GRIDLINE_READINGS_RETENTION_DAYS)


def ensure_months(months: Iterable[Month]) -> list[str]:
    """Create the partitions of these months that do not exist; the names created."""
    wanted = {partition_name(month): month for month in months}
    if not wanted:
        return []
    with transaction.atomic():
        sql.lock_partitions()
        existing = sql.partition_names()
        created = []
        for name, month in sorted(wanted.items()):
            if name not in existing:
                sql.create_partition(name, month_start(month), month_start(next_month(month)))
                created.append(name)
        _known.update(existing | set(wanted))
    return created


def ensure_partitions(start: dt.date, end: dt.date) -> list[str]:
    """Partitions for every month from `start` to `end` (both included); the names created."""
    return ensure_months(months_between(start, end))


def ensure_for(months: Iterable[Month]) -> None:
    """Ingest's check: ask the catalogue only for a month this process has not seen."""
    months = set(months)
    if all(partition_name(month) in _known for month in months):
        return
    _known.update(sql.partition_names())
    missing = [month for month in months if partition_name(month) not in _known]
    if missing:
        ensure_months(missing)


def forget_partitions() -> None:
    """An insert met a month with no partition (dropped, or rolled back): ask again."""
    _known.clear()


def maintain_partitions(today: dt.date | None = None) -> tuple[list[str], list[str]]:
    """Partitions from the retention period's start to two months ahead are made, those
    wholly older than the retention period dropped. Returns (created, dropped) names."""
    today = today or dt.datetime.now(dt.UTC).date()
    cutoff = retention_start(dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC))
    with transaction.atomic():
        created = ensure_partitions(cutoff.date(), last_month_ahead(today))
        sql.lock_partitions()
        dropped = []
        for name in sorted(sql.partition_names()):
            match = NAME.match(name)
            if match is None:
                continue
            month = (int(match[1]), int(match[2]))
            if month_start(next_month(month)) <= cutoff:
                sql.drop_partition(name)
                dropped.append(name)
        _known.difference_update(dropped)
    return created, dropped


def on_post_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After migrate: the partitions of the retention period and the months ahead, so a
    fresh database takes readings at once (nothing is dropped here)."""
    if using != DEFAULT_DB_ALIAS or not sql.table_exists():
        return
    ensure_partitions(retention_start().date(), last_month_ahead(dt.datetime.now(dt.UTC).date()))


def series(
    sensor: Sensor,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = SERIES_LIMIT,
) -> list[dict]:
    """A device's readings in [since, until), newest first, at most `limit` (default: the
    last seven days). Served by each partition's (sensor, at) key, with the partitions
    outside the range pruned."""
    until = until or dt.datetime.now(dt.UTC) + dt.timedelta(
        seconds=settings.GRIDLINE_READINGS_FUTURE_SECONDS
    )
    since = since or until - dt.timedelta(days=7)
    limit = max(1, min(limit, SERIES_MAX))
    rows = (
        Reading.objects.filter(sensor=sensor, at__gte=since, at__lt=until)
        .order_by("-at")
        .values_list("at", "values")[:limit]
    )
    return [{"at": at, "values": values} for at, values in rows]
