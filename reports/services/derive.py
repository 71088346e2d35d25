"""The one place a derived indicator's figures per grid are computed, whatever defines them:
a computation registered in code (`reports.derived`) or a definition held as data
(`reports.definitions`, issue #17). `Values` calls it; daily snapshots
(`reports.services.snapshots`) wrap it so that a past day's stock is computed once."""

from __future__ import annotations

from decimal import Decimal

from reports import derived
from reports.models import Indicator


def grid_values(indicator: Indicator, context: derived.Context) -> dict[int, Decimal]:
    """{grid pk: value} for the grids of `context`, for one derived indicator."""
    if indicator.definition is not None:
        from reports import definitions

        return definitions.compute(indicator.definition, context)
    if derived.get(indicator.derivation) is None:
        raise LookupError(
            f"{indicator.name} ({indicator.code}) is computed by "
            f"{indicator.derivation!r}, which no installed app registers"
        )
    return derived.compute(indicator.derivation, context)
