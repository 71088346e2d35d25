"""The validation rules between indicators, checked as data on the values being saved."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

from grids.problems import Problem
from reports.models import LedgerEntry, Source, ValidationRule
from reports.periods import Period
from reports.services.ledger.sheet import derived_values


def check_rules(
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
