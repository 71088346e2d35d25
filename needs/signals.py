"""What the needs app does when grid boundaries change (grids.signals): open needs and
providers in the changed area re-keyed by their point; open needs of a retired grid (those
without a point, or with one outside the changed area) follow it to its successor. Both run
inside the boundary change's transaction and return what they moved."""

from __future__ import annotations

import datetime as dt

from grids.signals import announce
from needs import sql
from needs.models import Need, Provider


def on_grid_area_changed(sender, area: bytes, on: dt.date, **kwargs) -> dict:
    moved = sql.rekey(area)
    if moved.get("needs"):
        announce(Need)
    if moved.get("providers"):
        announce(Provider)
    return moved


def on_grids_retired(sender, successors: dict[int, int | None], on: dt.date, **kwargs) -> dict:
    needs = providers = 0
    for old, new in successors.items():
        if new is None:
            continue
        needs += Need.objects.open().filter(grid=old).update(grid=new)
        providers += Provider.objects.filter(grid=old).update(grid=new)
    if needs:
        announce(Need)
    if providers:
        announce(Provider)
    return {"needs": needs, "providers": providers}
