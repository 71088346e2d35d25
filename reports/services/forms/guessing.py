"""A new indicator guessed for a column nothing matched: its fields, for the user to review."""

from __future__ import annotations

import re

from grids.models import Department
from reports.models import Aggregation, TimeAggregation, ValueType
from reports.services.forms.sheet import FormColumn
from reports.services.forms.words import _FLOW, GROUP_WORDS


def guess_group(name: str, unit: str) -> str:
    for code, pattern in GROUP_WORDS:
        if pattern.search(name):
            return code
    return "population" if unit in ("人", "户") else "governance"


def guess_aggregation(value_type: str) -> str:
    if value_type == ValueType.PERCENTAGE:
        return Aggregation.MEAN
    if value_type in (ValueType.TEXT, ValueType.CHOICE):
        return Aggregation.LATEST
    return Aggregation.SUM


def new_indicator_spec(column: FormColumn, *, code: str, level: str, period_type: str) -> dict:
    """A new collected indicator for a column nothing matched, for the user to review."""
    if column.value_type == ValueType.PERCENTAGE:
        over_time = TimeAggregation.MEAN
    elif _FLOW.search(column.name) and column.value_type != ValueType.TEXT:
        over_time = TimeAggregation.SUM
    else:
        over_time = TimeAggregation.LATEST
    # Plain strings: the spec goes to JSON and back to the user as it is.
    return {
        "code": code,
        "name": column.name[:120],
        "unit": column.unit,
        "value_type": str(column.value_type),
        "group": guess_group(column.name, column.unit),
        "aggregation": str(guess_aggregation(column.value_type)),
        "time_aggregation": str(over_time),
        "level": str(level),
        "period_type": str(period_type),
        "aliases": [column.text] if column.text != column.name else [],
    }


def _code_stem(department: Department) -> str:
    stem = re.sub(r"[^A-Z0-9]+", "_", department.code.upper()).strip("_") or "DEPT"
    return f"X_{stem[:28]}"


def _unique_code(stem: str, taken: set[str]) -> str:
    code = stem
    n = 2
    while code in taken:
        suffix = f"_{n}"
        code = stem[: 40 - len(suffix)] + suffix
        n += 1
    taken.add(code)
    return code
