"""Indicators: the derived ones kept in step with the registry, and values checked against
an indicator's type, range and choices."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from grids.problems import Problem
from reports import derived
from reports.models import Indicator, IndicatorGroup, Source, ValueType

# The seven blocks of base data (七个板块) and the governance figures of the incidents issue.
GROUPS = [
    ("area", "辖区面积", 10),
    ("leadership", "组织领导", 20),
    ("organisation", "组织架构", 30),
    ("estates", "小区情况", 40),
    ("resident_orgs", "驻地单位", 50),
    ("population", "人口情况", 60),
    ("economy", "集体经济", 70),
    ("governance", "基层治理", 80),
]

YES = {"1", "true", "yes", "y", "是", "有", "√", "✓"}
NO = {"0", "false", "no", "n", "否", "无", "×", "✗"}


def ensure_groups() -> dict[str, IndicatorGroup]:
    for code, name, order in GROUPS:
        IndicatorGroup.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    return {group.code: group for group in IndicatorGroup.objects.all()}


@transaction.atomic
def sync_derived() -> list[Indicator]:
    """Create the indicator of every registered derivation that has none yet. Existing rows
    are left as the district edited them (name, aliases, group)."""
    groups = ensure_groups()
    have = set(Indicator.objects.derived().values_list("derivation", flat=True))
    created = []
    for d in derived.all_derivations():
        if d.key in have:
            continue
        created.append(
            Indicator.objects.create(
                code=d.code,
                name=d.name,
                unit=d.unit,
                aliases=list(d.aliases),
                group=groups[d.group],
                value_type=d.value_type,
                aggregation=d.aggregation,
                weight=Indicator.objects.filter(derivation=d.weight).first() if d.weight else None,
                time_aggregation=d.time_aggregation,
                period_type=d.period_type,
                level="grid",
                source=Source.DERIVED,
                derivation=d.key,
                description=d.description,
            )
        )
    return created


@transaction.atomic
def sync_defined() -> list[Indicator]:
    """Create the indicators seeded as definitions (reports.definitions.seeds) whose code
    no indicator has yet. A seed whose subject no installed app registers, or that does not
    validate against the catalogues as they are, is left out until it does."""
    from reports import definitions
    from reports.definitions.seeds import SEEDS

    groups = ensure_groups()
    have = set(
        Indicator.objects.filter(code__in=[s[0] for s in SEEDS]).values_list("code", flat=True)
    )
    created = []
    for code, name, unit, group, aliases, definition in SEEDS:
        if code in have or definitions.validate(definition):
            continue
        flow = definition.get("time", "stock") != "stock"
        created.append(
            Indicator.objects.create(
                code=code,
                name=name,
                unit=unit,
                aliases=list(aliases),
                group=groups[group],
                value_type="integer",
                aggregation="sum",
                time_aggregation="sum" if flow else "latest",
                period_type="month",
                level="grid",
                source=Source.DERIVED,
                definition=definition,
                description=definitions.describe(definition),
            )
        )
    return created


def sync_derived_after_migrate(sender, **kwargs) -> None:
    # After every migrate (and a test database's flush): a feature app that registered a new
    # derivation gets its indicator without a migration of its own; so do seeded definitions.
    sync_derived()
    sync_defined()


class OutOfRange(ValueError):
    """A number of the right kind outside the indicator's minimum and maximum."""


def parse_value(
    indicator: Indicator, raw, *, field: str | None = None
) -> tuple[Decimal | None, str]:
    """(number, text) for a value as typed, or ValueError with the reason. None or "" is
    no value."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ""
    kind = indicator.value_type
    if kind == ValueType.TEXT:
        text = str(raw).strip()
        if len(text) > 500:
            raise ValueError(_("longer than 500 characters"))
        return None, text
    if kind == ValueType.CHOICE:
        text = str(raw).strip()
        if text not in indicator.choices:
            raise ValueError(
                _("%(value)s is not one of %(choices)s")
                % {"value": repr(text), "choices": "、".join(indicator.choices)}
            )
        return None, text
    if kind == ValueType.BOOLEAN:
        word = str(raw).strip().lower()
        if isinstance(raw, bool):
            return Decimal(int(raw)), ""
        if word in YES:
            return Decimal(1), ""
        if word in NO:
            return Decimal(0), ""
        raise ValueError(_("%(value)s is not yes or no") % {"value": repr(raw)})
    text = str(raw).strip().replace(",", "").replace("，", "")
    if kind == ValueType.PERCENTAGE:
        text = text.rstrip("%％")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValueError(_("%(value)s is not a number") % {"value": repr(raw)})
    if kind == ValueType.INTEGER and number != number.to_integral_value():
        raise ValueError(_("%(value)s is not a whole number") % {"value": repr(raw)})
    if abs(number) >= Decimal(10) ** 16:
        raise ValueError(_("%(value)s is too large") % {"value": repr(raw)})
    low = indicator.min_value
    high = indicator.max_value
    if kind == ValueType.PERCENTAGE:
        low = Decimal(0) if low is None else low
        high = Decimal(100) if high is None else high
    if low is not None and number < low:
        raise OutOfRange(
            _("%(value)s is below the minimum %(low)s") % {"value": number, "low": low.normalize()}
        )
    if high is not None and number > high:
        raise OutOfRange(
            _("%(value)s is above the maximum %(high)s")
            % {"value": number, "high": high.normalize()}
        )
    return number.quantize(Decimal("0.0001")), ""


def value_problem(indicator: Indicator, raw, error: ValueError) -> Problem:
    code = "out_of_range" if isinstance(error, OutOfRange) else "wrong_type"
    return Problem(
        code,
        f"{indicator.name} ({indicator.code}): {error}",
        field=indicator.code,
    )
