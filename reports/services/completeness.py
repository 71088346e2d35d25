"""Completeness (DHIS2's reporting rate and on-time rate) and the reminders that drive it.

A unit has reported a template for a period when it submitted every ledger period that feeds
it: a quarterly template collected monthly needs the quarter's three monthly ledgers. It is
on time when all of them were submitted by the template's due date. A template with nothing
to collect (all derived) expects nothing: it is complete by construction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from grids.models import Grid, Region
from notifications.services import notify
from reports.models import LedgerSubmission, Reminder, ReportTemplate, Source
from reports.periods import MONTHS, Period
from reports.services.ledger import (
    district_of,
    due_date,
    due_indicators,
    responsible_users,
    unit_kwargs,
)
from reports.services.values import Tree, Unit, tree_under


@dataclass
class UnitStatus:
    unit: Unit
    submitted: bool
    on_time: bool
    submitted_at: dt.datetime | None

    @property
    def status(self) -> str:
        if not self.submitted:
            return "missing"
        return "on_time" if self.on_time else "late"


def feeding_periods(template: ReportTemplate, period: Period) -> dict[str, list[Period]]:
    """{unit level: ledger periods} that a template's collected indicators need for `period`."""
    needs: dict[str, set[Period]] = defaultdict(set)
    kinds = (
        template.columns.filter(indicator__source=Source.COLLECTED)
        .values_list("indicator__level", "indicator__period_type")
        .distinct()
    )
    for level, kind in kinds:
        if MONTHS[kind] < MONTHS[period.type]:
            needs[level].update(period.parts(kind))
        else:
            needs[level].add(period.standing(kind))
    return {level: sorted(periods) for level, periods in needs.items()}


def _submissions(
    tree: Tree, level: str, periods: list[Period]
) -> dict[tuple[int, Period], dt.datetime]:
    field = "grid" if level == "grid" else "region"
    ids = list(tree.units.get(level, {}))
    q = Q()
    for p in periods:
        q |= Q(period_type=p.type, period_start=p.start)
    rows = LedgerSubmission.objects.filter(q, **{f"{field}__in": ids}).values_list(
        f"{field}_id", "period_type", "period_start", "submitted_at"
    )
    return {(pk, Period(start, kind)): at for pk, kind, start, at in rows}


def template_completeness(
    template: ReportTemplate, period: Period, region: Region, tree: Tree | None = None
) -> list[UnitStatus]:
    """One status per unit that has to fill the template under `region` in `period`."""
    tree = tree or tree_under(region, min(period.last_day, timezone.localdate()))
    due = template.due_date(period)
    result = []
    for level, periods in feeding_periods(template, period).items():
        submitted = _submissions(tree, level, periods)
        for unit in tree.under(level):
            times = [submitted.get((unit.pk, p)) for p in periods]
            done = all(times)
            last = max(times) if done else None
            result.append(
                UnitStatus(
                    unit=unit,
                    submitted=done,
                    on_time=done and timezone.localdate(last) <= due,
                    submitted_at=last,
                )
            )
    return result


def summary(statuses: list[UnitStatus]) -> dict:
    expected = len(statuses)
    submitted = sum(s.submitted for s in statuses)
    on_time = sum(s.on_time for s in statuses)
    return {
        "expected": expected,
        "submitted": submitted,
        "on_time": on_time,
        "reporting_rate": round(submitted / expected, 4) if expected else None,
        "on_time_rate": round(on_time / expected, 4) if expected else None,
    }


def ledger_completeness(period: Period, region: Region, level: str = "grid") -> list[UnitStatus]:
    """Per unit of `level`: did it submit its ledger for `period` (the completeness
    choropleth of the command-centre map), on time against the ledger's own due date.
    A level with nothing to type for the period (every item its district's templates ask is
    collected at another level, or derived) expects nothing: no unit of it is missing."""
    district = district_of(region)
    needed = due_indicators(level, period.type, district)
    if not needed:
        return []
    tree = tree_under(region, min(period.last_day, timezone.localdate()))
    submitted = _submissions(tree, level, [period])
    due, _grace = due_date(level, period, district, needed)
    result = []
    for unit in tree.under(level):
        at = submitted.get((unit.pk, period))
        result.append(
            UnitStatus(unit, at is not None, at is not None and timezone.localdate(at) <= due, at)
        )
    return result


# ---- reminders (任务主动提醒) -------------------------------------------------------------


def remind(on: dt.date | None = None) -> dict[str, int]:
    """Remind the responsible staff of every unit that has not submitted a template's
    ledgers: `remind_days_before` days before the due date, and once when it is overdue.
    Each (template, unit, period, kind) is reminded once; a user gets one notification per
    unit and kind listing the templates. Run daily by the worker (reports.jobs)."""
    on = on or timezone.localdate()
    pending: dict[tuple[str, str, int, Period], list[ReportTemplate]] = defaultdict(list)
    rows = []
    for template in ReportTemplate.objects.active().select_related("owner__district"):
        period = Period.containing(on, template.period_type).previous()
        due = template.due_date(period)
        if on > due:
            kind = Reminder.Kind.OVERDUE
        elif (due - on).days <= template.remind_days_before:
            kind = Reminder.Kind.BEFORE
        else:
            continue
        statuses = template_completeness(template, period, template.owner.district)
        missing = [s.unit for s in statuses if not s.submitted]
        if not missing:
            continue
        done = set(
            Reminder.objects.filter(
                template=template, kind=kind, period_start=period.start
            ).values_list("grid_id", "region_id")
        )
        for unit in missing:
            key = (unit.pk, None) if unit.level == "grid" else (None, unit.pk)
            if key in done:
                continue
            pending[(kind, unit.level, unit.pk, period)].append(template)
    sent = {"before": 0, "overdue": 0}
    grids = Grid.objects.in_bulk([pk for _k, level, pk, _p in pending if level == "grid"])
    regions = Region.objects.in_bulk([pk for _k, level, pk, _p in pending if level != "grid"])
    for (kind, level, pk, period), templates in pending.items():
        unit = grids[pk] if level == "grid" else regions[pk]
        users = list(responsible_users(unit))
        titles = "、".join(t.title for t in templates)
        due = min(t.due_date(period) for t in templates)
        if kind == Reminder.Kind.BEFORE:
            title = f"{unit.name}：{period.label}台账将于{due}到期"
        else:
            title = f"{unit.name}：{period.label}台账已逾期（应于{due}前提交）"
        notify(
            users,
            kind=f"ledger_{kind}",
            title=title,
            body=f"需要的报表：{titles}",
            url=f"/reports/ledger/?unit={level}:{pk}&period={period.key}",
        )
        for template in templates:
            rows.append(
                Reminder(
                    template=template,
                    kind=kind,
                    period_type=period.type,
                    period_start=period.start,
                    recipients=len(users),
                    **unit_kwargs(unit),
                )
            )
        sent[kind] += 1
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return sent
