from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models.functions import Envelope
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from grids.models import Grid, GridBoundary, Household
from maps import registry
from maps.style import build_style

SEARCH_LIMIT = 10


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    error = {"code": code, "message": message} | ({"field": field} if field else {})
    return JsonResponse({"status": status, "errors": [error]}, status=status)


@login_required
def map_page(request):
    """一屏统揽: the whole jurisdiction on one map; the landing page after login. The page
    carries the user's style (default preset, or ?preset=) so the first render needs no
    round trip for it; the map core and the layers' modules do the rest."""
    if getattr(request.user, "role", "") == "provider":
        # A service provider (#20) has no map: its landing is its dispatches (by name only,
        # maps imports no feature app).
        return redirect("needs:inbox")
    name = request.GET.get("preset")
    preset = registry.get_preset(name) if name else None
    if preset is None or not preset.visible_to(request.user):
        preset = registry.default_preset(request.user)
    style = build_style(request, preset, "light")
    return render(request, "maps/map.html", {"style": style})


@login_required
@require_GET
def search(request):
    """Grids by code or name and households by address, within the user's jurisdiction;
    each result with the extent to fly to."""
    q = request.GET.get("q", "").strip()
    if len(q) < 2:
        return _error(400, "too_short", "type at least 2 characters", "q")
    grids = (
        Grid.objects.visible_to(request.user)
        .valid_on()
        .filter(Q(code__startswith=q) | Q(name__icontains=q))
        .order_by("code")[:SEARCH_LIMIT]
    )
    extents = dict(
        GridBoundary.objects.current()
        .filter(grid__in=list(grids))
        .annotate(box=Envelope("geom"))
        .values_list("grid_id", "box")
    )
    results = [
        {
            "type": "grid",
            "id": g.pk,
            "label": f"{g.name} {g.code}",
            "extent": extents[g.pk].extent if g.pk in extents else None,
        }
        for g in grids
    ]
    households = (
        Household.objects.visible_to(request.user)
        .existing_on()
        .filter(address__icontains=q)
        .select_related("grid")
        .order_by("address")[:SEARCH_LIMIT]
    )
    results += [
        {
            "type": "household",
            "id": h.pk,
            "label": h.address,
            "point": [h.location.x, h.location.y],
            "grid": h.grid.code if h.grid else None,
            "grid_id": h.grid_id,
        }
        for h in households
    ]
    return JsonResponse({"q": q, "results": results})
