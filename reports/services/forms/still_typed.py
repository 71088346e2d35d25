"""Before a form is published as a template: what communities (and grids, streets) will
still type for it, and the burden it adds, per period it falls due. A column computed by
the platform (a derived indicator, a definition) is typed by nobody; one an active template
already collects is typed once already (no more burden); the rest is typed by the level
that collects it (the indicator's, or the one set for a new item)."""

from __future__ import annotations

from django.utils import timezone

from grids.models import Department
from reports.models import Source, UnitLevel
from reports.services.values import tree_under

COMPUTED = "computed"
ALREADY = "collected_already"
COLLECTED = "collected"
NEW = "new"


def unit_counts(department: Department) -> dict[str, int]:
    """How many grids, communities and streets the department's district has today."""
    tree = tree_under(department.district, timezone.localdate())
    return {level: len(tree.units.get(level, {})) for level in UnitLevel.values}


def column_typing(proposal: dict, catalogue) -> dict:
    """Who types a column as its choice stands: {typed, level, why}."""
    choice = proposal.get("choice") or {}
    if choice.get("skip"):
        return {"typed": False, "level": None, "why": "skipped"}
    if choice.get("definition") is not None:
        return {"typed": False, "level": None, "why": COMPUTED}
    code = choice.get("indicator")
    if code:
        indicator = catalogue.by_code.get(code)
        if indicator is None:
            return {"typed": True, "level": proposal.get("new", {}).get("level"), "why": NEW}
        if indicator.source == Source.DERIVED:
            return {"typed": False, "level": None, "why": COMPUTED}
        if catalogue.uses.get(code):
            return {"typed": False, "level": indicator.level, "why": ALREADY}
        return {"typed": True, "level": indicator.level, "why": COLLECTED}
    spec = choice.get("new") or {}
    return {"typed": True, "level": spec.get("level") or UnitLevel.GRID, "why": NEW}


def preview(proposals: list[dict], row_level: str, counts: dict[str, int], catalogue) -> dict:
    """Fields typed each time the form falls due: before (every cell of the form, as the
    department's rows × columns) and with the template (only what is still typed), with
    the list of what is still typed and why."""
    before = counts.get(row_level, 0) * len(proposals)
    after = 0
    columns = []
    for proposal in proposals:
        typing = column_typing(proposal, catalogue)
        proposal["typing"] = typing
        if typing["typed"]:
            after += counts.get(typing["level"], 0)
        columns.append({"column": proposal["column"], "heading": proposal["heading"]} | typing)
    communities = counts.get(UnitLevel.COMMUNITY) or 1
    return {
        "units": counts,
        "before": before,
        "after": after,
        "before_per_community": round(before / communities, 1),
        "after_per_community": round(after / communities, 1),
        "reduction": round(1 - after / before, 4) if before else None,
        "still_typed": [c for c in columns if c["typed"]],
        "computed": [c for c in columns if c["why"] == COMPUTED],
    }
