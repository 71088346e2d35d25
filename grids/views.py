from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from grids import scoping
from grids.models import Grid, Level, Region
from grids.services.exports import FORMATS, LAYER_LABELS
from grids.services.stats import rollup

CHILD_LEVEL = {None: Level.DISTRICT, Level.DISTRICT: Level.STREET, Level.STREET: Level.COMMUNITY}


@login_required
def home(request):
    """The user's jurisdiction at a glance: figures for each unit one level down."""
    user = request.user
    regions = Region.objects.visible_to(user)
    grids = Grid.objects.visible_to(user)
    result = rollup(grids=grids, regions=regions, count_unassigned=scoping.sees_unassigned(user))
    node = user.grid or user.region
    if user.grid_id:
        rows = [(user.grid, result["grids"].get(user.grid_id))]
    else:
        level = CHILD_LEVEL.get(getattr(node, "level", None))
        if level is None:  # a community: its grids
            rows = [(g, result["grids"].get(g.pk)) for g in grids.valid_on().order_by("code")]
        else:
            children = regions.valid_on().filter(level=level).order_by("code")
            rows = [(r, result["regions"].get(r.pk)) for r in children]
    totals = {
        "households": sum(f.households for _, f in rows if f),
        "residents": sum(f.residents for _, f in rows if f),
        "elderly": sum(f.tags.get("elderly", 0) for _, f in rows if f),
        "child": sum(f.tags.get("child", 0) for _, f in rows if f),
    }
    return render(
        request,
        "grids/home.html",
        {
            "node": node,
            "rows": rows,
            "totals": totals,
            "layers": LAYER_LABELS.items(),
            "formats": FORMATS,
            "unassigned": result["unassigned"],
        },
    )
