"""Indicator values for any unit level and period, from what is collected once and what the
platform derives, aggregated up the tree valid in that period (decisions 3 and 5).

The engine reads each indicator once for all units of a jurisdiction (one GROUP BY per
derivation, one query for every collected value of the period) and aggregates in memory;
a report of 50 indicators over 988 grids is a couple of dozen queries, not 50,000.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, When
from django.utils import timezone

from grids import scoping
from grids.models import Grid, Region
from reports import derived
from reports.models import (
    Aggregation,
    Indicator,
    LedgerEntry,
    Source,
    TimeAggregation,
    UnitLevel,
    ValueType,
)
from reports.periods import MONTHS, Period
from reports.services import derive, snapshots

LEVELS = ["grid", "community", "street", "district"]
RANK = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Unit:
    pk: int
    level: str
    code: str
    name: str
    parent: int | None  # a grid's community, a community's street, a street's district


@dataclass
class Tree:
    """The units under one region as they were on one day (boundary versions, decision 3)."""

    root: Region
    on: dt.date
    units: dict[str, dict[int, Unit]]
    _up: dict = field(default_factory=dict, repr=False)

    def under(self, level: str) -> list[Unit]:
        return sorted(self.units.get(level, {}).values(), key=lambda u: u.code)

    def ancestor(self, level: str, pk: int, up_to: str) -> int | None:
        """The unit of level `up_to` that unit (`level`, pk) lies in."""
        while level != up_to:
            unit = self.units[level].get(pk)
            if unit is None or unit.parent is None:
                return None
            pk, level = unit.parent, LEVELS[RANK[level] + 1]
        return pk

    def ancestors(self, level: str, up_to: str) -> dict[int, int | None]:
        """{pk: ancestor pk} for every unit of `level`, worked out once per tree (a report
        aggregates each of its columns up the same tree)."""
        key = (level, up_to)
        if key not in self._up:
            self._up[key] = {pk: self.ancestor(level, pk, up_to) for pk in self.units[level]}
        return self._up[key]

    @property
    def grid_ids(self) -> list[int]:
        return list(self.units.get("grid", {}))


def tree_under(root: Region, on: dt.date) -> Tree:
    """`root` and every unit below it valid on `on`, in three queries."""
    units: dict[str, dict[int, Unit]] = defaultdict(dict)
    regions = Region.objects.valid_on(on).filter(scoping.region_under_q(root))
    for pk, level, code, name, parent in regions.values_list(
        "pk", "level", "code", "name", "parent_id"
    ):
        units[level][pk] = Unit(pk, level, code, name, parent)
    grids = Grid.objects.valid_on(on).filter(scoping.grid_under_q(root))
    for pk, code, name, community in grids.values_list("pk", "code", "name", "community_id"):
        units["grid"][pk] = Unit(pk, "grid", code, name, community)
    units[root.level][root.pk] = Unit(root.pk, root.level, root.code, root.name, None)
    return Tree(root, on, units)


@dataclass
class Cell:
    """A value with what it needs to be aggregated further."""

    value: Decimal | str | None
    updated: dt.datetime | None = None


@dataclass
class Values:
    """Values of indicators for the units of one tree and one period."""

    tree: Tree
    period: Period
    memo: dict = field(default_factory=dict)
    # The collected indicators read together in one query (a report's columns); any other
    # is read on its own when asked for.
    together: frozenset[int] = frozenset()
    # Read a past period's derived figures from the daily snapshots (and keep those not
    # kept yet); off, every figure is computed (the bench's cold side, the tests' check).
    snapshots: bool = True
    _native: dict[tuple[int, str], dict[int, Cell]] = field(default_factory=dict)

    # ---- values at the level an indicator is kept -------------------------------------
    def native(self, indicator: Indicator) -> dict[int, Cell]:
        """{unit pk: Cell} at the indicator's own level (`kept_at`) for this period."""
        key = (indicator.pk, self.period.key)
        if key not in self._native:
            if indicator.source == Source.DERIVED:
                self._native[key] = self._derived(indicator, self.period)
            else:
                self._native[key] = self._collected(indicator)
        return self._native[key]

    def _derived(self, indicator: Indicator, period: Period) -> dict[int, Cell]:
        context = derived.Context(period, self.tree.grid_ids, self.memo)
        if self.snapshots:
            values = snapshots.grid_values(indicator, context, self.together)
        else:
            values = derive.grid_values(indicator, context)
        return {pk: Cell(value) for pk, value in values.items()}

    def _collected(self, indicator: Indicator) -> dict[int, Cell]:
        own = indicator.period_type
        if MONTHS[own] >= MONTHS[self.period.type]:
            return self._entries(indicator, [self.period.standing(own)])[0]
        parts = self.period.parts(own)
        by_part = self._entries(indicator, parts)
        return _over_time(indicator.time_aggregation, by_part)

    def _entries(self, indicator: Indicator, periods: list[Period]) -> list[dict[int, Cell]]:
        starts = {p.start: i for i, p in enumerate(periods)}
        found: list[dict[int, Cell]] = [{} for _ in periods]
        for unit, number, text, updated, start in self._entry_rows(indicator, list(starts)):
            found[starts[start]][unit] = Cell(text if number is None else number, updated)
        return found

    def _entry_rows(self, indicator: Indicator, starts: list[dt.date]):
        """Every collected value of the units at `indicator.level` in the periods, read
        once per period set for all collected indicators of a report."""
        ids = self.together if indicator.pk in self.together else frozenset({indicator.pk})
        memo_key = ("entries", tuple(starts), indicator.level, ids)
        if memo_key not in self.memo:
            units = self.tree.units.get(indicator.level, {})
            unit_field = "grid_id" if indicator.level == UnitLevel.GRID else "region_id"
            rows = (
                LedgerEntry.objects.filter(
                    period_start__in=starts,
                    indicator__in=ids,
                    **{f"{unit_field}__isnull": False},
                )
                # Only a value aggregated as "the latest" needs its time; reading a timestamp
                # costs ~25 µs, most of a 50-column report's time when read for every cell.
                .annotate(
                    updated=Case(
                        When(indicator__aggregation=Aggregation.LATEST, then="updated_at"),
                        default=None,
                    )
                )
                .values_list(
                    "indicator_id", unit_field, "number", "text", "updated", "period_start"
                )
            )
            by_indicator: dict[int, list] = defaultdict(list)
            for indicator_id, unit, number, text, updated, start in rows:
                if unit in units:
                    by_indicator[indicator_id].append((unit, number, text, updated, start))
            self.memo[memo_key] = by_indicator
        return self.memo[memo_key].get(indicator.pk, [])

    # ---- values at any level ---------------------------------------------------------
    def at(self, indicator: Indicator, level: str, weights: dict | None = None) -> dict[int, Cell]:
        """{unit pk: Cell} for every unit of `level` in the tree. Above the level the
        indicator is kept, values are combined by its aggregation rule; below it there is
        no value (a community's figure cannot be split among its grids)."""
        if RANK[level] < RANK[indicator.level]:
            return {}
        own = kept_at(indicator)
        native = self.native(indicator)
        if level == own:
            return native
        if indicator.aggregation == Aggregation.NONE:
            return {}
        weight = None
        if indicator.aggregation == Aggregation.WEIGHTED_MEAN:
            weight = self.native(indicator.weight) if kept_at(indicator.weight) == own else {}
        groups: dict[int, list[tuple[Cell, Decimal | None]]] = defaultdict(list)
        parents = self.tree.ancestors(own, level)
        for pk, cell in native.items():
            parent = parents.get(pk)
            if parent is None or cell.value is None:
                continue
            w = weight.get(pk).value if weight is not None and pk in weight else None
            groups[parent].append((cell, w))
        return {pk: Cell(combine(indicator.aggregation, cells)) for pk, cells in groups.items()}


def kept_at(indicator: Indicator) -> str:
    """The level of an indicator's own values: where it is collected (who types it), or the
    grid for a derived one, computed per grid whatever level it is shown from (a derived
    item of level community has no value per grid, and its community's is its grids')."""
    return UnitLevel.GRID if indicator.source == Source.DERIVED else indicator.level


def _over_time(rule: str, by_part: list[dict[int, Cell]]) -> dict[int, Cell]:
    units = {pk for part in by_part for pk in part}
    result = {}
    for pk in units:
        cells = [part[pk] for part in by_part if pk in part and part[pk].value is not None]
        if not cells:
            continue
        if rule == TimeAggregation.LATEST or isinstance(cells[-1].value, str):
            result[pk] = cells[-1]
            continue
        numbers = [c.value for c in cells]
        if rule == TimeAggregation.SUM:
            value = sum(numbers, Decimal(0))
        elif rule == TimeAggregation.MEAN:
            value = sum(numbers, Decimal(0)) / len(numbers)
        else:
            value = max(numbers)
        result[pk] = Cell(value, max((c.updated for c in cells if c.updated), default=None))
    return result


def combine(rule: str, cells: list[tuple[Cell, Decimal | None]]):
    """One value of a parent from its children's, by the indicator's aggregation rule."""
    if not cells:
        return None
    if rule == Aggregation.LATEST:
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        return max(cells, key=lambda cw: cw[0].updated or epoch)[0].value
    if rule == Aggregation.COUNT:
        return Decimal(len(cells))
    numbers = [c.value for c, _ in cells if not isinstance(c.value, str)]
    if not numbers:
        return None
    if rule == Aggregation.SUM:
        return sum(numbers, Decimal(0))
    if rule == Aggregation.MIN:
        return min(numbers)
    if rule == Aggregation.MAX:
        return max(numbers)
    if rule == Aggregation.MEAN:
        return sum(numbers, Decimal(0)) / len(numbers)
    if rule == Aggregation.WEIGHTED_MEAN:
        pairs = [(c.value, w) for c, w in cells if w is not None and not isinstance(c.value, str)]
        total = sum((w for _, w in pairs), Decimal(0))
        if not total:
            return None
        return sum((v * w for v, w in pairs), Decimal(0)) / total
    return None


_PLACES = {
    ValueType.INTEGER: Decimal(1),
    ValueType.DECIMAL: Decimal("0.01"),
    ValueType.PERCENTAGE: Decimal("0.1"),
    ValueType.BOOLEAN: Decimal(1),
}


def display(indicator: Indicator, value, aggregated: bool = False):
    """A value as a report shows it: whole numbers as int, decimals rounded, yes/no for a
    single unit's boolean (a parent's is the count of units answering yes)."""
    return displayer(indicator, aggregated)(value)


def displayer(indicator: Indicator, aggregated: bool = False) -> Callable[[object], object]:
    """`display` for the many values of one indicator (a report's column): the rule is
    worked out once, not per cell."""
    if indicator.value_type == ValueType.BOOLEAN and not aggregated:
        return _yes_no
    places = _PLACES.get(indicator.value_type, Decimal("0.01"))
    if indicator.aggregation in (Aggregation.MEAN, Aggregation.WEIGHTED_MEAN) and aggregated:
        places = min(places, Decimal("0.01"))
    whole = places == 1

    def show(value):
        if value is None or isinstance(value, str):
            return value
        rounded = Decimal(value).quantize(places, rounding=ROUND_HALF_UP)
        return int(rounded) if whole else float(rounded)

    return show


def _yes_no(value):
    if value is None or isinstance(value, str):
        return value
    return "是" if value else "否"


def series(
    indicator: Indicator, root: Region, level: str, periods: Iterable[Period]
) -> list[tuple[Period, dict[int, Cell]]]:
    """An indicator's values per unit of `level` for each period (a trend), each period
    on the tree valid then."""
    result = []
    for period in periods:
        on = min(period.last_day, timezone.localdate())
        values = Values(tree_under(root, on), period)
        result.append((period, values.at(indicator, level)))
    return result
