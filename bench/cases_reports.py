"""一表通 (issue #5): a district report of 50 indicators over all 988 grids for one period, and
a 12-period trend of one indicator, against a naive version that computes each cell with its
own query, on the full demo with its year of ledger data."""

from __future__ import annotations

import time
from decimal import Decimal

from bench.harness import Case, CheckFailed, log

REPORT_COLUMNS = 50
BENCH_TEMPLATE = "bench-50x988"
# The naive side is timed on every 50th grid (20 of 988, spread over the district) and
# scaled: a past day's household figure for one grid is a scan of the households (the
# grid it had then is not indexable), about 0.25 s a cell, so 49,400 cells take about 40 min.
NAIVE_EVERY = 50


def _last_month():
    from django.utils import timezone

    from reports.periods import Period

    return Period.containing(timezone.localdate(), "month").previous()


def _district():
    from grids.models import Region

    return Region.objects.current().get(level="district", code="500118")


def _naive_cell(indicator, grid_id: int, period):
    """One cell, one query (or one derivation run for one grid): what a report built cell by
    cell costs."""
    from reports import derived
    from reports.models import LedgerEntry

    if indicator.source == "derived":
        context = derived.Context(period, [grid_id])
        return derived.compute(indicator.derivation, context).get(grid_id)
    return (
        LedgerEntry.objects.filter(indicator=indicator, grid=grid_id, period_start=period.start)
        .values_list("number", flat=True)
        .first()
    )


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(Decimal(str(a)) - Decimal(str(b))) < Decimal("0.01")


class Report50x988(Case):
    name = "report_50x988"
    description = (
        "One-click report: a template of 50 indicators (every derived one: area, households, "
        "residents by tag, grid workers, incidents, visits; the rest collected grid-level "
        "monthly ledger items of the demo catalogue) with one row per grid, for the whole "
        "district (988 grids) and last month. Ours: reports.services.generate.build_table "
        "(one GROUP BY per derivation, one read of the month's ledger, aggregation in "
        "memory). Reference: the naive version, each of the 49,400 cells its own query (a "
        "derivation run for one grid, or one ledger lookup), timed on every 50th grid (20 "
        "grids, 1,000 cells) and scaled to the 988 grids (the cells are independent queries, "
        "so the cost is linear in them). Issue #5's target: ratio <= 0.05."
    )
    ours_label = "build_table (set-based)"
    reference_label = "naive: one query per cell (sampled, scaled)"
    target = 0.05
    repeats = 1  # the naive side takes minutes; one run of each is the measurement
    warmup = False

    def setup(self) -> None:
        from bench.data import ensure_report_demo
        from reports.models import Indicator, ReportTemplate, TemplateColumn

        ensure_report_demo()
        self.period = _last_month()
        self.district = _district()
        derived = list(Indicator.objects.derived().active().order_by("code"))
        collected = list(
            Indicator.objects.collected()
            .active()
            .filter(level="grid")
            .exclude(value_type__in=["text", "choice"])
            .order_by("period_type", "code")
        )
        distinct = derived + collected
        # A catalogue with fewer numeric grid items than 50 fills the rest by asking some
        # again (forms do repeat items). Ours reads a repeated item once, the naive side once
        # per cell: the check records how many indicators are distinct.
        chosen = [distinct[i % len(distinct)] for i in range(REPORT_COLUMNS)]
        self.distinct = len(distinct)
        ReportTemplate.objects.filter(code=BENCH_TEMPLATE).delete()
        self.template = ReportTemplate.objects.create(
            owner=ReportTemplate.objects.first().owner,
            code=BENCH_TEMPLATE,
            title="bench 50 × 988",
            row_level="grid",
            period_type="month",
            active=False,  # not asked of anyone: kept out of ledgers and burden figures
        )
        TemplateColumn.objects.bulk_create(
            TemplateColumn(template=self.template, order=i, indicator=ind)
            for i, ind in enumerate(chosen, 1)
        )
        self.indicators = chosen
        from grids.models import Grid

        grids = list(
            Grid.objects.valid_on(self.period.last_day)
            .filter(community__parent__parent=self.district)
            .order_by("code")
            .values_list("pk", flat=True)
        )
        self.sample = grids[::NAIVE_EVERY]
        self.reference_scale = len(grids) / len(self.sample)
        self.derived_count = len([i for i in chosen if i.source == "derived"])
        log(
            f"{self.name}: {len(chosen)} columns of {self.distinct} indicators "
            f"({self.derived_count} derived), "
            f"period {self.period.key}"
        )

    def ours(self):
        from reports.services.generate import build_table

        table = build_table(self.template, self.period, self.district)
        return {row.pk: row.values for row in table.rows}

    def reference(self):
        from grids.models import Grid

        grids = list(
            Grid.objects.valid_on(self.period.last_day)
            .filter(community__parent__parent=self.district)
            .order_by("code")
            .values_list("pk", flat=True)
        )
        return {pk: [_naive_cell(ind, pk, self.period) for ind in self.indicators] for pk in grids}

    def check(self, ours, reference) -> dict:
        if set(ours) != set(reference):
            raise CheckFailed(f"rows differ: {len(ours)} against {len(reference)}")
        cells = 0
        for pk, values in reference.items():
            for i, (a, b) in enumerate(zip(ours[pk], values, strict=True)):
                cells += 1
                if not _same(a, b):
                    raise CheckFailed(
                        f"grid {pk}, column {i + 1} ({self.indicators[i].code}): {a} against {b}"
                    )
        return {
            "rows": len(ours),
            "naive_rows_timed": len(reference),
            "naive_scale": round(self.reference_scale, 2),
            "columns": len(self.indicators),
            "derived_columns": self.derived_count,
            "distinct_indicators": self.distinct,
            "cells": cells,
            "period": self.period.key,
        }

    def teardown(self) -> None:
        from reports.models import ReportTemplate

        ReportTemplate.objects.filter(code=BENCH_TEMPLATE).delete()


class IndicatorTrend(Case):
    name = "indicator_trend_12"
    description = (
        "A 12-month trend of one collected indicator for every grid of the district (the "
        "map's choropleth over time): reports.services.values.series(), each month on the "
        "tree valid then. Reference: the naive version, one query per grid and month "
        "(11,856). The check also times, once, the 12-month trend of a derived indicator "
        "(elderly residents, counted for each month's last day with the household history). "
        "Issue #5's target: ratio <= 0.05."
    )
    ours_label = "series() (one ledger read per month)"
    reference_label = "naive: one query per grid and month"
    target = 0.05
    repeats = 3
    warmup = True

    def setup(self) -> None:
        from bench.data import ensure_report_demo
        from reports.models import Indicator

        ensure_report_demo()
        self.district = _district()
        last = _last_month()
        self.periods = [last.shifted(-i) for i in range(11, -1, -1)]
        self.indicator = (
            Indicator.objects.collected()
            .filter(level="grid", period_type="month", value_type="integer")
            .order_by("code")
            .first()
        )
        log(f"{self.name}: {self.indicator.code} {self.periods[0].key}..{self.periods[-1].key}")

    def ours(self):
        from reports.services.values import series

        return {
            period.key: {pk: cell.value for pk, cell in cells.items()}
            for period, cells in series(self.indicator, self.district, "grid", self.periods)
        }

    def reference(self):
        from grids.models import Grid

        result = {}
        for period in self.periods:
            grids = (
                Grid.objects.valid_on(period.last_day)
                .filter(community__parent__parent=self.district)
                .values_list("pk", flat=True)
            )
            values = {pk: _naive_cell(self.indicator, pk, period) for pk in grids}
            result[period.key] = {pk: v for pk, v in values.items() if v is not None}
        return result

    def check(self, ours, reference) -> dict:
        for key, values in reference.items():
            if set(values) != set(ours[key]) or any(
                not _same(ours[key][pk], v) for pk, v in values.items()
            ):
                raise CheckFailed(f"{key}: the values per grid differ")
        from reports.models import Indicator
        from reports.services.values import series

        elderly = Indicator.objects.get(code="POP_ELDERLY")
        started = time.perf_counter()
        series(elderly, self.district, "grid", self.periods)
        derived_s = time.perf_counter() - started
        log(f"{self.name}: derived 12-month trend of POP_ELDERLY took {derived_s:.1f} s")
        return {
            "indicator": self.indicator.code,
            "periods": len(self.periods),
            "values": sum(len(v) for v in reference.values()),
            "derived_trend_POP_ELDERLY_s": round(derived_s, 2),
        }


CASES = [Report50x988, IndicatorTrend]
