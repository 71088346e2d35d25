"""Reporting periods: a month, quarter, half year or year, named the way forms name them
("2026-10", "2026-Q4", "2026-H2", "2026") and stored as (period type, first day)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids import timestamps


class PeriodType(models.TextChoices):
    MONTH = "month", _("monthly")
    QUARTER = "quarter", _("quarterly")
    HALF_YEAR = "half_year", _("half-yearly")
    YEAR = "year", _("yearly")


MONTHS = {
    PeriodType.MONTH: 1,
    PeriodType.QUARTER: 3,
    PeriodType.HALF_YEAR: 6,
    PeriodType.YEAR: 12,
}

_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})$"), PeriodType.MONTH),
    (re.compile(r"^(\d{4})-?Q([1-4])$", re.I), PeriodType.QUARTER),
    (re.compile(r"^(\d{4})-?H([12])$", re.I), PeriodType.HALF_YEAR),
    (re.compile(r"^(\d{4})$"), PeriodType.YEAR),
]


def year_range() -> tuple[int, int]:
    """The years a period named by a client may fall in: from the platform's earliest date
    to the last year it plans for (grids.timestamps). The bound keeps every derived date (a
    period's end, its due date, a year's months) inside what a date can hold: 9999-12 used
    to end in year 10000."""
    return timestamps.earliest_date().year, timestamps.LATEST_YEAR


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: [start, end). Periods of one type never overlap."""

    start: dt.date
    type: str

    def __post_init__(self) -> None:
        if self.type not in MONTHS:
            raise ValueError(f"unknown period type {self.type!r}")
        months = MONTHS[self.type]
        if self.start.day != 1 or (self.start.month - 1) % months:
            raise ValueError(f"{self.start} does not start a {self.type} period")

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip()
        for pattern, kind in _PATTERNS:
            match = pattern.match(text)
            if not match:
                continue
            year = int(match.group(1))
            first, last = year_range()
            if not first <= year <= last:
                raise ValueError(
                    gettext("%(period)s is out of range: periods run from %(first)s to %(last)s")
                    % {"period": text, "first": first, "last": last}
                )
            number = int(match.group(2)) if kind != PeriodType.YEAR else 1
            if kind == PeriodType.MONTH and not 1 <= number <= 12:
                break
            month = (number - 1) * MONTHS[kind] + 1
            return cls(dt.date(year, month, 1), kind)
        raise ValueError(
            gettext(
                "'%(text)s' is not a period: write 2026-10 (month), 2026-Q4, 2026-H2 or 2026 (year)"
            )
            % {"text": text}
        )

    @classmethod
    def containing(cls, day: dt.date, type: str) -> Period:
        months = MONTHS[type]
        return cls(dt.date(day.year, (day.month - 1) // months * months + 1, 1), type)

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        return _add_months(self.start, MONTHS[self.type])

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def key(self) -> str:
        year, month = self.start.year, self.start.month
        if self.type == PeriodType.MONTH:
            return f"{year}-{month:02d}"
        if self.type == PeriodType.QUARTER:
            return f"{year}-Q{(month - 1) // 3 + 1}"
        if self.type == PeriodType.HALF_YEAR:
            return f"{year}-H{(month - 1) // 6 + 1}"
        return f"{year}"

    @property
    def label(self) -> str:
        """The period as a Chinese form writes it."""
        year, month = self.start.year, self.start.month
        if self.type == PeriodType.MONTH:
            return f"{year}年{month}月"
        if self.type == PeriodType.QUARTER:
            return f"{year}年第{(month - 1) // 3 + 1}季度"
        if self.type == PeriodType.HALF_YEAR:
            return f"{year}年{'上' if month == 1 else '下'}半年"
        return f"{year}年"

    def shifted(self, n: int) -> Period:
        return Period(_add_months(self.start, n * MONTHS[self.type]), self.type)

    def previous(self) -> Period:
        return self.shifted(-1)

    def parts(self, type: str) -> list[Period]:
        """The periods of a finer (or the same) type that make up this one."""
        if MONTHS[type] > MONTHS[self.type]:
            raise ValueError(f"a {self.type} period is not made of {type} periods")
        step = MONTHS[type]
        return [Period(_add_months(self.start, i), type) for i in range(0, MONTHS[self.type], step)]

    def standing(self, type: str) -> Period:
        """The period of a coarser (or the same) type whose value stands for this one: the
        one containing it if it is over by the end of this one, else the last one before
        (a monthly report in October takes last year's yearly figure, not the year still
        running)."""
        own = Period.containing(self.start, type)
        return own if own.end <= self.end else own.previous()

    def due_on(self, due_day: int) -> dt.date:
        """The due date: day `due_day` of the month after the period (capped at its end)."""
        month_after = self.end
        last = _add_months(month_after, 1) - dt.timedelta(days=1)
        return month_after.replace(day=min(max(due_day, 1), last.day))

    def __str__(self) -> str:
        return self.key


def finer_or_equal(a: str, b: str) -> bool:
    return MONTHS[a] <= MONTHS[b]
