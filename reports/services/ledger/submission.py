"""Submitting a unit's ledger for a period as complete, and reopening a locked period."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Grid, Region
from grids.problems import Problem, ProblemsError
from reports.models import LedgerEntry, LedgerReopening, LedgerSubmission, unit_filter
from reports.periods import Period
from reports.services.ledger.access import (
    LedgerRefused,
    district_of,
    level_of,
    may_enter,
    may_reopen,
    unit_kwargs,
)
from reports.services.ledger.due import due_indicators, is_locked


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
