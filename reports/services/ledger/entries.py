"""Saving ledger entries: idempotent, versioned, all or nothing, and safe against two people
saving the same cell at once."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Grid, Region
from grids.problems import Problem, ProblemsError
from reports.models import Indicator, LedgerEntry, LedgerRevision
from reports.periods import Period, PeriodType
from reports.services.indicators import parse_value, value_problem
from reports.services.ledger.access import (
    LedgerRefused,
    district_of,
    level_of,
    may_enter,
    unit_kwargs,
)
from reports.services.ledger.due import due_indicators, is_locked, lock_date
from reports.services.ledger.validation import check_rules


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
        errors, warnings = check_rules(unit, period, dict(merged))
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
