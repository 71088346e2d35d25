"""Checks of what the user confirms: the template's own fields and a new indicator's, each
problem naming the field (and the column) it is about."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from grids.problems import Problem
from reports.models import Aggregation, ReportTemplate, TimeAggregation, UnitLevel, ValueType
from reports.periods import MONTHS, PeriodType

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_TEMPLATE_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")


def _validate_spec(
    spec: dict, where: str, column: str, *, groups: dict, taken: set[str], period_type: str
) -> list[Problem]:
    """Problems of a new indicator's fields, each naming the column and the field."""
    problems = []

    def bad(code: str, message: str, key: str) -> None:
        message = _("%(column)s: %(message)s") % {"column": column, "message": message}
        problems.append(Problem(code, message, field=f"{where}.new.{key}"))

    code = str(spec.get("code") or "").strip()
    if not _CODE.match(code):
        message = _("code '%(code)s' must be 2-40 capital letters, digits or _, from a letter") % {
            "code": code
        }
        bad("invalid_code", message, "code")
    elif code in taken:
        message = _("an indicator %(code)s exists already or is used twice") % {"code": code}
        bad("code_taken", message, "code")
    name = str(spec.get("name") or "").strip()
    if not name or len(name) > 120:
        bad("invalid_name", _("a name of 1-120 characters is needed"), "name")
    if len(str(spec.get("unit") or "")) > 20:
        bad("invalid_unit", _("the unit is longer than 20 characters"), "unit")
    # A weighted mean needs a weight indicator, which is set on the indicator's own page.
    aggregations = [a for a in Aggregation.values if a != Aggregation.WEIGHTED_MEAN]
    for key, allowed, default in (
        ("value_type", ValueType.values, None),
        ("aggregation", aggregations, None),
        ("time_aggregation", TimeAggregation.values, TimeAggregation.LATEST),
        ("group", list(groups), None),
        ("level", UnitLevel.values, UnitLevel.GRID),
        ("period_type", PeriodType.values, period_type),
    ):
        value = spec.get(key) or default
        if value not in allowed:
            message = _("%(key)s '%(value)s' is not one of %(values)s") % {
                "key": key,
                "value": value,
                "values": ", ".join(allowed),
            }
            bad(f"invalid_{key}", message, key)
    if spec.get("value_type") == ValueType.CHOICE and not spec.get("choices"):
        bad("no_choices", _("a choice needs its choices"), "choices")
    own_period = spec.get("period_type") or period_type
    if own_period in MONTHS and MONTHS[own_period] > MONTHS.get(period_type, 99):
        # The labels (季报, 月报), not the codes: the message is read on a Chinese page.
        message = _("a %(own)s indicator cannot fill a %(report)s report") % {
            "own": PeriodType(own_period).label,
            "report": PeriodType(period_type).label if period_type in MONTHS else period_type,
        }
        bad("period_too_long", message, "period_type")
    aliases = spec.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        bad("invalid_aliases", _("aliases must be a list of names"), "aliases")
    if not problems:
        taken.add(code)
    return problems


def _check_template_fields(title, code, period_type, row_level, due_day) -> list[Problem]:
    problems = []
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 200:
        problems.append(
            Problem("invalid_title", _("a title of 1-200 characters is needed"), field="title")
        )
    if not isinstance(code, str) or not _TEMPLATE_CODE.match(code):
        problems.append(
            Problem(
                "invalid_code",
                _("template code '%(code)s' must be 1-60 letters, digits, - or _") % {"code": code},
                field="code",
            )
        )
    elif ReportTemplate.objects.filter(code=code).exists():
        message = _("a template %(code)s exists already") % {"code": code}
        problems.append(Problem("code_taken", message, field="code"))
    if period_type not in PeriodType.values:
        problems.append(
            Problem(
                "invalid_period_type",
                _("period '%(value)s' is not one of %(values)s")
                % {"value": period_type, "values": ", ".join(PeriodType.values)},
                field="period_type",
            )
        )
    if row_level not in UnitLevel.values:
        problems.append(
            Problem(
                "invalid_row_level",
                _("row level '%(value)s' is not one of %(values)s")
                % {"value": row_level, "values": ", ".join(UnitLevel.values)},
                field="row_level",
            )
        )
    if not isinstance(due_day, int) or isinstance(due_day, bool) or not 1 <= due_day <= 31:
        problems.append(
            Problem(
                "invalid_due_day",
                _("due day '%(value)s' must be 1-31") % {"value": due_day},
                field="due_day",
            )
        )
    return problems
