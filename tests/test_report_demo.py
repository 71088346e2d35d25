"""The demo district's 一表通: catalogue, templates, a year of ledger values, submissions."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from grids.models import Grid, Region
from reports import catalogue
from reports.models import (
    Indicator,
    LedgerEntry,
    LedgerRevision,
    LedgerSubmission,
    ReportTemplate,
    Source,
    ValidationRule,
)
from reports.periods import MONTHS, Period
from reports.services import ledger
from reports.services.demo import last_months
from reports.services.generate import generate
from reports.services.values import Values, tree_under

COLLECTED = {spec.code: spec for spec in catalogue.INDICATORS}


def burden() -> dict:
    """Fields typed per unit and month. Before: every cell of every form (each form asked
    for its figures again, derived or not), a quarterly form's cells spread over its three
    months. Now: each collected indicator once per its own period; derived ones not at all."""
    used = {code for t in catalogue.TEMPLATES for code, _ in t.columns}
    collected = [COLLECTED[code] for code in used if code in COLLECTED]

    def before(levels):
        return sum(
            len(t.columns) / MONTHS[t.period_type]
            for t in catalogue.TEMPLATES
            if t.row_level in levels
        )

    def after(levels):
        return sum(1 / MONTHS[i.period_type] for i in collected if i.level in levels)

    every = ("grid", "community", "street")
    return {
        "cells": sum(len(t.columns) for t in catalogue.TEMPLATES),
        "unique_collected": len(collected),
        "grid_before": before(("grid",)),
        "grid_after": after(("grid",)),
        "all_before": before(every),
        "all_after": after(every),
    }


# ---- the catalogue, without a database --------------------------------------------------


def test_burden_falls_by_at_least_60_percent():
    b = burden()
    assert 1 - b["unique_collected"] / b["cells"] >= 0.6, b
    assert 1 - b["grid_after"] / b["grid_before"] >= 0.6, b
    assert 1 - b["all_after"] / b["all_before"] >= 0.6, b


def test_catalogue_is_consistent():
    assert 30 <= len(catalogue.INDICATORS) <= 45
    assert len({i.code for i in catalogue.INDICATORS}) == len(catalogue.INDICATORS)
    used = {code for t in catalogue.TEMPLATES for code, _ in t.columns}
    # Every collected indicator is needed by some form (else it is never due).
    assert set(COLLECTED) <= used
    assert len(catalogue.TEMPLATES) >= 12
    assert len({t.owner for t in catalogue.TEMPLATES}) >= 12
    departments = {code for code, _ in catalogue.DEPARTMENTS}
    for t in catalogue.TEMPLATES:
        assert t.owner in departments
        assert 8 <= len(t.columns) <= 20, t.code
        assert len({code for code, _ in t.columns}) == len(t.columns), t.code
        for _, first, count in t.groups:
            assert first >= 0 and first + count <= len(t.columns), t.code
    assert sum(1 for t in catalogue.TEMPLATES if t.groups) >= 4
    assert {t.period_type for t in catalogue.TEMPLATES} >= {"month", "quarter", "year"}
    # The same items asked for at conflicting periodicities.
    by_code = defaultdict(set)
    for t in catalogue.TEMPLATES:
        for code, _ in t.columns:
            by_code[code].add(t.period_type)
    assert sum(1 for kinds in by_code.values() if len(kinds) > 1) >= 10
    rules = catalogue.RULES
    assert len(rules) >= 5
    assert any(r.severity == "warning" for r in rules)
    for rule in rules:
        assert rule.left in COLLECTED


# ---- the demo -------------------------------------------------------------------------


@pytest.fixture
def yongchuan(district):
    return Region.objects.get(code="500118", level="district")


def test_demo_builds_the_catalogue(yongchuan, district):
    assert "ledger entries" in district and "late submissions" in district
    templates = ReportTemplate.objects.filter(code__in=[t.code for t in catalogue.TEMPLATES])
    assert templates.count() == len(catalogue.TEMPLATES) >= 12
    assert templates.values("owner").distinct().count() >= 10
    assert all(t.owner.district_id == yongchuan.pk for t in templates)
    collected = Indicator.objects.filter(code__in=list(COLLECTED))
    assert collected.count() == len(COLLECTED)
    assert all(i.source == Source.COLLECTED for i in collected)
    # Derived columns point at the platform's own indicators.
    for t in templates:
        for column in t.columns.select_related("indicator"):
            if column.indicator.code not in COLLECTED:
                assert column.indicator.source == Source.DERIVED
    assert ValidationRule.objects.filter(code__in=[r.code for r in catalogue.RULES]).count() == len(
        catalogue.RULES
    )


def test_a_year_of_ledger_values(yongchuan):
    today = timezone.localdate()
    months = last_months(today)
    entries = LedgerEntry.objects.filter(indicator__code__in=list(COLLECTED))
    assert entries.filter(period_type="month").values("period_start").distinct().count() == 12
    assert not entries.filter(period_type="month", period_start__gte=months[-1].end).exists()
    assert not entries.filter(period_start__lt=months[0].start, period_type="month").exists()
    # One revision (version 1) per entry, by the unit's own staff.
    assert LedgerRevision.objects.filter(entry__in=entries).count() == entries.count()
    assert not LedgerRevision.objects.filter(entry__in=entries).exclude(version=1).exists()
    assert not entries.filter(updated_by__isnull=True).exists()
    assert not entries.filter(updated_at__gt=timezone.now()).exists()
    # Every grid of the district has values; community indicators are kept per community.
    grids = Grid.objects.filter(community__parent__parent=yongchuan).count()
    assert entries.filter(grid__isnull=False).values("grid").distinct().count() == grids
    assert not entries.filter(indicator__level="community", grid__isnull=False).exists()
    assert entries.filter(indicator__level="community", region__level="community").exists()


def test_ledger_values_keep_every_error_rule(yongchuan):
    values_of: dict[Period, Values] = {}

    def derived(indicator, period):
        if period not in values_of:
            on = min(period.last_day, timezone.localdate())
            values_of[period] = Values(tree_under(yongchuan, on), period)
        return {pk: cell.value for pk, cell in values_of[period].native(indicator).items()}

    def collected(indicator):
        found = defaultdict(dict)
        rows = LedgerEntry.objects.filter(indicator=indicator).values_list(
            "grid_id", "region_id", "period_type", "period_start", "number"
        )
        for grid, region, kind, start, number in rows:
            found[Period(start, kind)][grid or region] = number
        return found

    checked = 0
    for rule in ValidationRule.objects.filter(severity="error").select_related("left", "right"):
        for period, lefts in collected(rule.left).items():
            if rule.right.source == Source.DERIVED:
                rights = derived(rule.right, period)
            else:
                rights = collected(rule.right).get(period, {})
            for unit, left in lefts.items():
                if unit not in rights or rights[unit] is None:
                    continue
                bound = rule.factor * Decimal(rights[unit]) + rule.constant
                assert {"<=": left <= bound, "<": left < bound, ">=": left >= bound}[
                    rule.operator
                ], (rule.code, period, unit, left, bound)
                checked += 1
    assert checked > 50_000


def test_values_keep_their_indicator_ranges(yongchuan):
    for spec in catalogue.INDICATORS:
        entries = LedgerEntry.objects.filter(indicator__code=spec.code)
        assert entries.exists(), spec.code
        if spec.min_value is not None:
            assert not entries.filter(number__lt=spec.min_value).exists(), spec.code
        if spec.max_value is not None:
            assert not entries.filter(number__gt=spec.max_value).exists(), spec.code
        if spec.value_type == "percentage":
            assert not entries.filter(number__gt=100).exists()


def test_submissions_are_mostly_on_time(yongchuan):
    months = last_months(timezone.localdate())
    grids = Grid.objects.filter(community__parent__parent=yongchuan).count()
    on_time = late = 0
    rates = []
    for period in months:
        due, _ = ledger.due_date("grid", period, yongchuan.pk)
        submissions = LedgerSubmission.objects.filter(
            grid__isnull=False, period_type="month", period_start=period.start
        )
        rates.append(submissions.count() / grids)
        for at in submissions.values_list("submitted_at", flat=True):
            assert at > timezone.make_aware(dt.datetime.combine(period.end, dt.time()))
            if timezone.localtime(at).date() > due:
                late += 1
            else:
                on_time += 1
    assert all(0.8 <= rate <= 0.98 for rate in rates[:-1]), rates
    assert rates[-1] < min(rates[:-1])
    assert late > 0 and on_time > 5 * late
    # Quarterly and yearly ledgers of closed periods are submitted too.
    assert LedgerSubmission.objects.filter(period_type="quarter", grid__isnull=False).exists()
    assert LedgerSubmission.objects.filter(period_type="year", region__isnull=False).exists()


def test_a_submitted_ledger_is_complete(yongchuan):
    period = last_months(timezone.localdate())[-2]
    submission = LedgerSubmission.objects.filter(
        grid__isnull=False, period_type="month", period_start=period.start
    ).first()
    sheet = ledger.sheet(submission.grid, period)
    assert sheet["items"]
    assert sheet["missing"] == []
    assert sheet["submission"] == submission


def test_every_template_generates_last_month(yongchuan):
    street = Region.objects.filter(parent=yongchuan, level="street").order_by("code").first()
    last = last_months(timezone.localdate())[-1]
    grouped = {t.code for t in catalogue.TEMPLATES if t.groups}
    for template in ReportTemplate.objects.filter(code__in=[t.code for t in catalogue.TEMPLATES]):
        period = Period.containing(last.start, template.period_type)
        table, content = generate(template, period, street, format="xlsx")
        assert content[:2] == b"PK", template.code
        assert table.rows, template.code
        filled = sum(v is not None for row in table.rows for v in row.values)
        assert filled > len(table.rows), template.code
        sheet = load_workbook(io.BytesIO(content)).active
        assert template.title in sheet.cell(1, 1).value
        # Title, unit line, footer, plus one merged cell per grouped heading or 2-row key.
        merged = len(sheet.merged_cells.ranges)
        if template.code in grouped:
            assert merged >= 3 + 2, template.code


def test_the_burden_service_sees_the_fall(yongchuan):
    from reports.services.burden import burden_year

    year = burden_year(yongchuan, last_months(timezone.localdate())[-1].start.year)
    assert year["reduction"] >= 0.6, year
    assert all(m["now"] <= 0.4 * m["before"] for m in year["months"]), year["months"]
