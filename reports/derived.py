"""The registry of derived indicators: figures the platform computes, so nobody types them.

A derivation computes one figure for many grids of one period in a few queries (GROUP BY on
the stored grid key, decision 2); the report engine aggregates it up the tree like any other
indicator. `reports` imports no feature app: apps register their derivations from
`AppConfig.ready()` (incidents: incidents/indicators.py) and the indicator row that uses one
is created by `reports.services.indicators.sync_derived()` after migrate.

A computation receives a `Context` and returns {grid_id: number}; grids it leaves out have
no value (not zero) unless the derivation counts things, where a missing grid means 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from reports.periods import Period


@dataclass
class Context:
    """One period and set of grids being computed, with a memo that derivations sharing one
    expensive query (households and residents by tag) use to run it once."""

    period: Period
    grid_ids: list[int]
    memo: dict = field(default_factory=dict)

    @property
    def on(self) -> dt.date:
        """The day a stock is read on: the period's last day, or today for the current one."""
        return min(self.period.last_day, timezone.localdate())

    def once(self, key: str, compute: Callable[[], object]):
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


@dataclass(frozen=True)
class Derivation:
    key: str
    compute: Callable[[Context], Mapping[int, int | float | Decimal]]
    # The indicator created for it by sync_derived (editable afterwards, except the key).
    code: str
    name: str
    unit: str
    group: str
    value_type: str = "integer"
    aggregation: str = "sum"
    # For aggregation="weighted_mean": the key of the derivation weighting it (registered
    # before this one, so that sync_derived has created its indicator first).
    weight: str = ""
    time_aggregation: str = "latest"
    period_type: str = "month"
    counts: bool = True  # a grid with nothing counted has the value 0
    aliases: tuple[str, ...] = ()
    description: str = ""


_registry: dict[str, Derivation] = {}


def register(**spec) -> Callable:
    """Decorator: `@register(key=..., code=..., name=..., unit=..., group=...)` over a
    function taking a Context."""

    def wrap(compute):
        derivation = Derivation(compute=compute, **spec)
        if derivation.key in _registry:
            raise ValueError(f"derived indicator {derivation.key!r} is registered twice")
        _registry[derivation.key] = derivation
        return compute

    return wrap


def get(key: str) -> Derivation | None:
    return _registry.get(key)


def all_derivations() -> list[Derivation]:
    return list(_registry.values())


def compute(key: str, context: Context) -> dict[int, Decimal]:
    derivation = _registry.get(key)
    if derivation is None:
        raise KeyError(key)
    values = derivation.compute(context)
    result = {pk: Decimal(str(values[pk])) for pk in context.grid_ids if values.get(pk) is not None}
    if derivation.counts:
        for pk in context.grid_ids:
            result.setdefault(pk, Decimal(0))
    return result
