"""Who types a collected item: its collection level (grid, community or street; issue #17).

An item is typed once per unit of its level and period (`Indicator.level`; the ledger asks it
there and nowhere else) and rolled up above it. The level a department's forms need is the
finest row level among the active templates that ask for it: a grid-row report needs a value
per grid, a community-row one is served by the community's own answer. Typing an item per
grid when every form asks it per community multiplies the fields typed by the grids per
community — the "after" of the burden then exceeds the "before".

`settle` moves an item that nobody has typed yet to the level its forms need (after a form
is confirmed as a template, or a template changes); an item with values keeps its level (its
history is kept at that level) and is listed by `over_collected` for a person to decide.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from grids.problems import Problem
from reports.models import Indicator, LedgerEntry, Source, TemplateColumn, UnitLevel
from reports.services.ledger import active_templates
from reports.services.values import RANK


def needed_levels(district_id: int | None, indicators=None) -> dict[int, str]:
    """{indicator pk: the finest row level of the active templates asking for it}."""
    columns = TemplateColumn.objects.filter(template__in=active_templates(district_id))
    if indicators is not None:
        columns = columns.filter(indicator__in=indicators)
    needed: dict[int, str] = {}
    for pk, level in columns.values_list("indicator", "template__row_level").distinct():
        if pk not in needed or RANK[level] < RANK[needed[pk]]:
            needed[pk] = level
    return needed


def level_problem(indicator: Indicator, level: str) -> Problem | None:
    """Why a collected item cannot change to `level`: values are typed at its level (they
    would no longer be read, and the past reports built on them would change)."""
    if level == indicator.level or indicator.pk is None:
        return None
    if LedgerEntry.objects.filter(indicator=indicator).exists():
        return Problem(
            "level_has_values",
            _(
                "%(code)s already has values typed per %(level)s; its level cannot change. "
                "Retire it and define a new item typed per %(new)s."
            )
            % {
                "code": indicator.code,
                "level": indicator.get_level_display(),
                "new": UnitLevel(level).label,
            },
            field="level",
            value=level,
        )
    return None


def settle(indicators, district_id: int | None) -> list[tuple[Indicator, str, str]]:
    """Move each collected item nobody has typed yet to the level its forms need. Returns
    (item, from level, to level) for each one moved."""
    candidates = [i for i in indicators if i.source == Source.COLLECTED]
    if not candidates:
        return []
    needed = needed_levels(district_id, candidates)
    typed = set(
        LedgerEntry.objects.filter(indicator__in=candidates)
        .values_list("indicator", flat=True)
        .distinct()
    )
    moved = []
    for indicator in candidates:
        level = needed.get(indicator.pk)
        if level is None or level == indicator.level or indicator.pk in typed:
            continue
        moved.append((indicator, indicator.level, level))
        indicator.level = level
        indicator.save(update_fields=["level"])
    return moved


def over_collected(district_id: int | None) -> list[dict]:
    """Collected items typed at a finer level than any form asking for them needs (and so
    typed by more units than necessary), with whether values were typed already."""
    needed = needed_levels(district_id)
    items = Indicator.objects.collected().active().filter(pk__in=list(needed))
    typed = set(
        LedgerEntry.objects.filter(indicator__in=items)
        .values_list("indicator", flat=True)
        .distinct()
    )
    return [
        {
            "indicator": i.code,
            "name": i.name,
            "level": i.level,
            "needed": needed[i.pk],
            "has_values": i.pk in typed,
        }
        for i in items.order_by("code")
        if RANK[i.level] < RANK[needed[i.pk]]
    ]
