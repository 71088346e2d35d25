"""The ledger (台账): for one unit (a grid, community or street) and period, the collected
indicators its district's templates need, each entered once. Saving is idempotent and
versioned; rules between indicators are checked as data; a period locks after its due date
plus grace days and a higher level can reopen it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Grid, Region, Role, User
from grids.problems import Problem, ProblemsError
from reports.models import (
    Indicator,
    LedgerEntry,
    LedgerReopening,
    LedgerRevision,
    LedgerSubmission,
    ReportTemplate,
    Source,
    TemplateColumn,
    ValidationRule,
    unit_filter,
)
from reports.periods import MONTHS, Period, PeriodType
from reports.services.indicators import parse_value, value_problem
from reports.services.values import RANK, Values, display, tree_under


class LedgerRefused(ProblemsError):
    """A ledger change that may not be made: 403 not yours, 409 locked or stale."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 400):
        super().__init__([Problem(code, message, field=field)])
        self.status_code = status


def level_of(unit: Grid | Region) -> str:
    return "grid" if isinstance(unit, Grid) else unit.level


def district_of(unit: Grid | Region) -> int | None:
    return scoping.district_above(unit.community if isinstance(unit, Grid) else unit)


def unit_kwargs(unit: Grid | Region) -> dict:
    return (
        {"grid": unit, "region": None} if isinstance(unit, Grid) else {"grid": None, "region": unit}
    )


# ---- who ----------------------------------------------------------------------------------


def may_enter(user, unit: Grid | Region) -> bool:
    """A grid's own workers and its community's staff keep a grid's ledger; a community's or
    street's own staff keep theirs."""
    if scoping.sees_everything(user):
        return True
    if isinstance(unit, Grid):
        if user.role == Role.GRID_WORKER:
            return user.grid_id == unit.pk
        return user.role == Role.COMMUNITY_STAFF and user.region_id == unit.community_id
    return user.role in (Role.COMMUNITY_STAFF, Role.STREET_CENTRE) and user.region_id == unit.pk


def may_reopen(user, unit: Grid | Region) -> bool:
    """Any level of the tree above the unit, within its jurisdiction."""
    if scoping.sees_everything(user):
        return True
    if user.role not in scoping.TREE_ROLES or user.region is None:
        return False
    if RANK[user.region.level] <= RANK[level_of(unit)]:
        return False
    return Region.objects.filter(
        scoping.region_under_q(user.region),
        pk=unit.community_id if isinstance(unit, Grid) else unit.pk,
    ).exists()


def responsible_users(unit: Grid | Region):
    """Who is reminded to fill a unit's ledger."""
    if isinstance(unit, Grid):
        return User.objects.filter(is_active=True).filter(
            Q(role=Role.GRID_WORKER, grid=unit) | Q(pk__in=unit.workers.values("pk"))
        )
    role = Role.COMMUNITY_STAFF if unit.level == "community" else Role.STREET_CENTRE
    return User.objects.filter(is_active=True, role=role, region=unit)


# ---- what is due ----------------------------------------------------------------------------


def active_templates(district_id: int | None):
    templates = ReportTemplate.objects.active()
    if district_id is not None:
        templates = templates.filter(owner__district=district_id)
    return templates


def due_indicators(level: str, period_type: str, district_id: int | None) -> dict[Indicator, list]:
    """The collected indicators a unit of `level` enters per `period_type` period, with the
    templates that need each: entered once whatever their number."""
    columns = (
        TemplateColumn.objects.filter(
            template__in=active_templates(district_id),
            indicator__source=Source.COLLECTED,
            indicator__level=level,
            indicator__period_type=period_type,
        )
        .filter(
            Q(indicator__retired_on__isnull=True)
            | Q(indicator__retired_on__gt=timezone.localdate())
        )
        .select_related("indicator__group", "template__owner")
        .order_by("indicator__group__order", "indicator__code")
    )
    needed: dict[Indicator, list] = {}
    for column in columns:
        needed.setdefault(column.indicator, [])
        if column.template not in needed[column.indicator]:
            needed[column.indicator].append(column.template)
    return needed


def derived_for(level: str, period_type: str, district_id: int | None) -> list[Indicator]:
    """Derived indicators the same templates use: shown beside the ledger to confirm."""
    ids = TemplateColumn.objects.filter(
        template__in=active_templates(district_id), indicator__source=Source.DERIVED
    ).values("indicator")
    return list(
        Indicator.objects.filter(pk__in=ids)
        .select_related("group")
        .order_by("group__order", "code")
    )


def due_date(
    level: str, period: Period, district_id: int | None, needed: dict | None = None
) -> tuple[dt.date, int]:
    """When a unit's ledger for `period` is due, and the grace days after it: the earliest
    due date of the templates that need any of its indicators, else the district default.
    `needed` is `due_indicators(...)` when the caller has it already."""
    if needed is None:
        needed = due_indicators(level, period.type, district_id)
    templates = {t for ts in needed.values() for t in ts}
    if not templates:
        return period.due_on(settings.GRIDLINE_LEDGER_DUE_DAY), settings.GRIDLINE_LEDGER_GRACE_DAYS
    first = min(templates, key=lambda t: (t.due_date(period), t.grace_days))
    return first.due_date(period), first.grace_days


def lock_date(unit: Grid | Region, period: Period) -> dt.date:
    """The first day the period is locked for the unit."""
    due, grace = due_date(level_of(unit), period, district_of(unit))
    return due + dt.timedelta(days=grace + 1)


def reopened_until(unit: Grid | Region, period: Period) -> dt.date | None:
    return (
        LedgerReopening.objects.filter(
            unit_filter(unit), period_type=period.type, period_start=period.start
        )
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )


def is_locked(unit: Grid | Region, period: Period, on: dt.date | None = None) -> bool:
    on = on or timezone.localdate()
    if on < lock_date(unit, period):
        return False
    until = reopened_until(unit, period)
    return until is None or on > until


# ---- the sheet --------------------------------------------------------------------------


@dataclass
class Item:
    indicator: Indicator
    templates: list
    value: object = None
    version: int = 0
    previous: object = None
    updated_at: dt.datetime | None = None
    updated_by: str = ""


def _root(unit: Grid | Region) -> Region:
    return unit.community if isinstance(unit, Grid) else unit


def derived_values(unit: Grid | Region, period: Period, indicators) -> dict[int, object]:
    """Values of derived indicators for one unit, aggregated if the unit is a region."""
    on = min(period.last_day, timezone.localdate())
    values = Values(tree_under(_root(unit), on), period)
    level = level_of(unit)
    result = {}
    for indicator in indicators:
        cell = values.at(indicator, level).get(unit.pk)
        result[indicator.pk] = cell.value if cell else None
    return result


def sheet(unit: Grid | Region, period: Period) -> dict:
    """Everything the ledger page and API show for a unit and period."""
    level = level_of(unit)
    district = district_of(unit)
    needed = due_indicators(level, period.type, district)
    entries = {
        e.indicator_id: e for e in LedgerEntry.objects.of(unit, period).select_related("updated_by")
    }
    previous = {e.indicator_id: e.value for e in LedgerEntry.objects.of(unit, period.previous())}
    items = []
    for indicator, templates in needed.items():
        entry = entries.get(indicator.pk)
        items.append(
            Item(
                indicator=indicator,
                templates=templates,
                value=entry.value if entry else None,
                version=entry.version if entry else 0,
                previous=previous.get(indicator.pk),
                updated_at=entry.updated_at if entry else None,
                updated_by=(entry.updated_by.get_full_name() or entry.updated_by.username)
                if entry and entry.updated_by
                else "",
            )
        )
    derived = [i for i in derived_for(level, period.type, district) if RANK[i.level] <= RANK[level]]
    computed = derived_values(unit, period, derived)
    due, grace = due_date(level, period, district, needed)
    submission = (
        LedgerSubmission.objects.filter(
            unit_filter(unit), period_type=period.type, period_start=period.start
        )
        .select_related("submitted_by")
        .first()
    )
    return {
        "unit": unit,
        "level": level,
        "period": period,
        "due": due,
        "grace_days": grace,
        "locked": is_locked(unit, period),
        "reopened_until": reopened_until(unit, period),
        "submission": submission,
        "items": items,
        "derived": [(i, display(i, computed.get(i.pk), level != i.level)) for i in derived],
        "missing": [item.indicator.code for item in items if item.value in (None, "")],
    }


# ---- saving -----------------------------------------------------------------------------


def _check_rules(
    unit, period: Period, values: dict[int, object]
) -> tuple[list[Problem], list[Problem]]:
    """Errors and warnings from the validation rules whose indicators both have a value."""
    indicator_ids = set(values)
    rules = list(
        ValidationRule.objects.filter(
            Q(left__in=indicator_ids) | Q(right__in=indicator_ids)
        ).select_related("left", "right")
    )
    if not rules:
        return [], []
    others = {r.left for r in rules} | {r.right for r in rules if r.right}
    missing = [i for i in others if i.pk not in values]
    collected = [i for i in missing if i.source == Source.COLLECTED]
    if collected:
        for e in LedgerEntry.objects.of(unit, period).filter(indicator__in=collected):
            values[e.indicator_id] = e.value
    derived = [i for i in missing if i.source == Source.DERIVED]
    if derived:
        values.update(derived_values(unit, period, derived))
    errors, warnings = [], []
    for rule in rules:
        left = values.get(rule.left_id)
        right = values.get(rule.right_id) if rule.right_id else Decimal(0)
        if not isinstance(left, Decimal) or not isinstance(right, Decimal):
            continue
        bound = rule.factor * right + rule.constant
        holds = {
            "<=": left <= bound,
            "<": left < bound,
            "==": left == bound,
            ">=": left >= bound,
            ">": left > bound,
        }[rule.operator]
        if holds:
            continue
        problem = Problem(
            "rule_broken",
            f"{rule.message}: {rule.left.name} {left.normalize()} {rule.get_operator_display()} "
            + (
                f"{rule.right.name} {right.normalize()}"
                if rule.right_id
                else f"{bound.normalize()}"
            )
            + f" [{rule.code}]",
            field=rule.left.code,
            severity=rule.severity,
        )
        (errors if rule.severity == ValidationRule.Severity.ERROR else warnings).append(problem)
    return errors, warnings


@dataclass
class Saved:
    changed: list[str]
    unchanged: list[str]
    warnings: list[Problem]
    versions: dict[str, int]


def save(
    user,
    unit: Grid | Region,
    period: Period,
    values: dict[str, object],
    *,
    versions: dict[str, int] | None = None,
    client_key: str = "",
) -> Saved:
    """Enter values ({indicator code: value as typed}) for a unit and period, in one
    transaction: all are saved or none. An unchanged value writes nothing, so a resend is
    harmless; `versions` ({code: version the user saw}) refuses a value someone else changed
    since (409)."""
    if not may_enter(user, unit):
        raise LedgerRefused(
            "not_yours", _("this ledger is kept by the unit's own staff"), status=403
        )
    if period.start > timezone.localdate():
        raise LedgerRefused(
            "future_period", _("%(period)s has not begun") % {"period": period.key}, field="period"
        )
    needed = {i.code: i for i in due_indicators(level_of(unit), period.type, district_of(unit))}
    problems: list[Problem] = []
    parsed: dict[Indicator, tuple] = {}
    for code, raw in values.items():
        indicator = needed.get(code)
        if indicator is None:
            problems.append(
                Problem(
                    "not_due",
                    _(
                        "%(code)s is not collected here for a %(period_type)s period (derived, "
                        "retired, another level, or no active template needs it)"
                    )
                    % {"code": code, "period_type": PeriodType(period.type).label},
                    field=code,
                )
            )
            continue
        try:
            parsed[indicator] = parse_value(indicator, raw)
        except ValueError as error:
            problems.append(value_problem(indicator, raw, error))
    if problems:
        raise ProblemsError(problems)
    with transaction.atomic():
        # The lock is checked inside the transaction that writes, so a reopening that ends
        # while the user types is honoured.
        if is_locked(unit, period):
            raise LedgerRefused(
                "period_locked",
                _("%(period)s is locked for %(unit)s since %(date)s; a higher level can reopen it")
                % {"period": period.label, "unit": unit.name, "date": lock_date(unit, period)},
                field="period",
                status=409,
            )
        existing = {
            e.indicator_id: e
            for e in LedgerEntry.objects.of(unit, period)
            .filter(indicator__in=[i.pk for i in parsed])
            .select_for_update()
        }
        stale = []
        for indicator in parsed:
            seen = (versions or {}).get(indicator.code)
            current = existing[indicator.pk].version if indicator.pk in existing else 0
            if seen is not None and int(seen) != current:
                stale.append(
                    Problem(
                        "stale",
                        _(
                            "%(name)s was changed by someone else (version %(current)s, "
                            "you saw %(seen)s)"
                        )
                        % {"name": indicator.name, "current": current, "seen": seen},
                        field=indicator.code,
                    )
                )
        if stale:
            raise _stale(stale, [existing[i.pk] for i in parsed if i.pk in existing])
        merged = {i.pk: (n if n is not None else t) for i, (n, t) in parsed.items()}
        errors, warnings = _check_rules(unit, period, dict(merged))
        if errors:
            raise ProblemsError(errors + warnings)
        now = timezone.now()
        changed, unchanged, revisions = [], [], []
        result_versions = {}
        for indicator, (number, text) in parsed.items():
            entry = existing.get(indicator.pk)
            if entry is not None and entry.number == number and entry.text == text:
                unchanged.append(indicator.code)
                result_versions[indicator.code] = entry.version
                continue
            if entry is None:
                # Nothing to lock while the cell is empty: two first saves both get here, the
                # unique constraint lets one insert, and get_or_create finds the winner's row
                # for the other (its savepoint absorbs the IntegrityError). The loser saw an
                # empty cell that is not empty any more: a lost race, 409 with what won.
                entry, created = LedgerEntry.objects.get_or_create(
                    indicator=indicator,
                    period_start=period.start,
                    **unit_kwargs(unit),
                    defaults={
                        "period_type": indicator.period_type,
                        "number": number,
                        "text": text,
                        "version": 1,
                        "updated_by": user,
                        "updated_at": now,
                    },
                )
                if not created and (entry.number, entry.text) == (number, text):
                    # The same value won: as harmless as a resend.
                    unchanged.append(indicator.code)
                    result_versions[indicator.code] = entry.version
                    continue
                if not created:
                    raise _stale(
                        [
                            Problem(
                                "stale",
                                _(
                                    "%(name)s was entered by someone else at the same time "
                                    "(version %(version)s)"
                                )
                                % {"name": indicator.name, "version": entry.version},
                                field=indicator.code,
                            )
                        ],
                        [entry],
                    )
                before = (None, "")
            else:
                before = (entry.number, entry.text)
                entry.number, entry.text = number, text
                entry.version += 1
                entry.updated_by, entry.updated_at = user, now
                entry.save(update_fields=["number", "text", "version", "updated_by", "updated_at"])
            revisions.append(
                LedgerRevision(
                    entry=entry,
                    version=entry.version,
                    number=number,
                    text=text,
                    previous_number=before[0],
                    previous_text=before[1],
                    by=user,
                    at=now,
                    client_key=client_key,
                )
            )
            changed.append(indicator.code)
            result_versions[indicator.code] = entry.version
        LedgerRevision.objects.bulk_create(revisions)
    return Saved(changed, unchanged, warnings, result_versions)


def _stale(problems: list[Problem], entries: list[LedgerEntry]) -> ProblemsError:
    """A 409 that carries the current state of the cells concerned, so a client can show
    what is there now and let the user decide, without reloading the sheet."""
    error = ProblemsError(problems)
    error.status_code = 409
    error.extra = {
        "current": {
            e.indicator.code: {
                "value": e.value,
                "version": e.version,
                "updated_at": e.updated_at,
                "updated_by": e.updated_by.username if e.updated_by else "",
            }
            for e in entries
        }
    }
    return error


def submit(user, unit: Grid | Region, period: Period, *, client_key: str = "") -> LedgerSubmission:
    """Declare the unit's ledger for the period complete: refused while a due indicator has
    no value. Submitting again keeps the first submission (its time decides on-time)."""
    if not may_enter(user, unit):
        raise LedgerRefused(
            "not_yours", _("this ledger is kept by the unit's own staff"), status=403
        )
    with transaction.atomic():
        submission = (
            LedgerSubmission.objects.select_for_update()
            .filter(unit_filter(unit), period_type=period.type, period_start=period.start)
            .first()
        )
        if submission is not None:
            return submission
        if is_locked(unit, period):
            raise LedgerRefused(
                "period_locked",
                _("%(period)s is locked for %(unit)s")
                % {"period": period.label, "unit": unit.name},
                field="period",
                status=409,
            )
        needed = due_indicators(level_of(unit), period.type, district_of(unit))
        have = set(
            LedgerEntry.objects.of(unit, period)
            .exclude(number__isnull=True, text="")
            .values_list("indicator_id", flat=True)
        )
        missing = [i for i in needed if i.pk not in have]
        if missing:
            raise ProblemsError(
                [
                    Problem(
                        "missing_value",
                        _("%(name)s (%(code)s) has no value") % {"name": i.name, "code": i.code},
                        field=i.code,
                    )
                    for i in missing
                ]
            )
        # Two first submissions race past the check above; the constraint keeps one and
        # get_or_create returns it to the other: submitting again keeps the first one.
        submission, _created = LedgerSubmission.objects.get_or_create(
            period_type=period.type,
            period_start=period.start,
            **unit_kwargs(unit),
            defaults={"submitted_by": user, "client_key": client_key},
        )
        return submission


def reopen(
    user, unit: Grid | Region, period: Period, *, until: dt.date, reason: str
) -> LedgerReopening:
    if not may_reopen(user, unit):
        raise LedgerRefused(
            "not_higher_level",
            _("only a higher level of the tree can reopen a period"),
            status=403,
        )
    if not reason.strip():
        raise LedgerRefused("reason_required", _("say why the period is reopened"), field="reason")
    if until < timezone.localdate():
        raise LedgerRefused(
            "until_past", _("the reopening must last until today or later"), field="until"
        )
    return LedgerReopening.objects.create(
        period_type=period.type,
        period_start=period.start,
        until=until,
        reason=reason.strip(),
        by=user,
        **unit_kwargs(unit),
    )


def history(unit: Grid | Region, period: Period) -> list[LedgerRevision]:
    return list(
        LedgerRevision.objects.filter(entry__in=LedgerEntry.objects.of(unit, period))
        .select_related("entry__indicator", "by")
        .order_by("-at", "-version")
    )


def periods_open(level: str, district_id: int | None, on: dt.date | None = None) -> list[Period]:
    """The periods of each type with due indicators that a unit of `level` fills now: the
    current one and the one just ended."""
    on = on or timezone.localdate()
    types = set(
        TemplateColumn.objects.filter(
            template__in=active_templates(district_id),
            indicator__source=Source.COLLECTED,
            indicator__level=level,
        ).values_list("indicator__period_type", flat=True)
    )
    result = []
    for kind in sorted(types, key=lambda k: MONTHS[k]):
        current = Period.containing(on, kind)
        result += [current.previous(), current]
    return result
