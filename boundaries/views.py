"""Pages of the boundary editor (#7): the change sets a user works on or reviews, the editor and
review map of one change set, and a grid's boundary history with "restore this version".

The editor page itself talks only to the JSON API (/api/boundaries/, boundaries.api); these
views render the shell with its configuration. The two forms here (a new change set, restore a
version) call the same services the API calls."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from boundaries.models import ChangeSet, Status
from boundaries.services import changesets, history
from boundaries.services.state import communities_of
from grids.basemap import basemap_layers
from grids.models import Grid, GridBoundary, Level, Region, Role, Theme
from grids.problems import ProblemsError

API_ROOT = "/api/boundaries/"
RECENT_APPLIED = 10
# Regions offered in the "new change set" form; an administrator of a large district still
# gets a usable list.
REGION_CHOICES_MAX = 500


def _authorable_regions(user) -> list[Region]:
    """Communities and streets the user may open a change set for (changesets.can_author)."""
    if user.role == Role.GRID_WORKER:
        candidates = [user.grid.community] if user.grid_id else []
    else:
        candidates = list(
            Region.objects.visible_to(user)
            .current()
            .filter(level__in=[Level.COMMUNITY, Level.STREET])
            .order_by("code")[:REGION_CHOICES_MAX]
        )
    return [region for region in candidates if changesets.can_author(user, region)]


@login_required
@require_http_methods(["GET", "POST"])
def changeset_list(request):
    """My open change sets, those awaiting my review or apply, recently applied ones, and the
    form to open a new one."""
    user = request.user
    regions = _authorable_regions(user)
    errors: list[str] = []
    form = {"region": "", "title": "", "valid_from": ""}
    if request.method == "POST":
        form = {key: (request.POST.get(key) or "").strip() for key in form}
        region = next((r for r in regions if r.code == form["region"]), None)
        valid_from = None
        if region is None:
            errors.append(_("Choose a community or street you may redraw."))
        if not form["title"]:
            errors.append(_("Give the change set a title."))
        if form["valid_from"]:
            try:
                valid_from = dt.date.fromisoformat(form["valid_from"])
            except ValueError:
                errors.append(_("Write the date as YYYY-MM-DD."))
        if not errors:
            try:
                change_set = changesets.create(
                    user=user, region=region, title=form["title"], valid_from=valid_from
                )
            except ProblemsError as exc:
                errors += [problem.message for problem in exc.problems]
            else:
                return redirect("boundary-editor", pk=change_set.pk)

    visible = ChangeSet.objects.visible_to(user).select_related("region", "author")
    mine = list(visible.open().filter(author=user))
    # Few change sets wait at once in one jurisdiction: the review right is checked per row.
    waiting = [
        cs
        for cs in visible.filter(status__in=[Status.SUBMITTED, Status.APPROVED]).exclude(
            author=user
        )
        if changesets.can_review(user, cs)
    ]
    applied = list(visible.filter(status=Status.APPLIED).order_by("-applied_at")[:RECENT_APPLIED])
    return render(
        request,
        "boundaries/list.html",
        {
            "mine": mine,
            "waiting": waiting,
            "applied": applied,
            "regions": regions,
            "form": form,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _neighbours(region_geom, community_ids: list[int]) -> dict:
    """Grids of other communities touching the region, as GeoJSON: the editor snaps to their
    edges and corners so that a redrawn grid meets them exactly, but never edits them."""
    found = (
        GridBoundary.objects.current()
        .filter(
            geom__intersects=region_geom,
            grid__valid_to__isnull=True,
            grid__theme=Theme.GOVERNANCE,
        )
        .exclude(grid__community__in=community_ids)
        .values_list("grid__code", "grid__name", "geom")
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": json.loads(geom.geojson),
            }
            for code, name, geom in found
        ],
    }


@login_required
def changeset_editor(request, pk: int):
    """The editor and review map of one change set."""
    change_set = get_object_or_404(
        ChangeSet.objects.visible_to(request.user).select_related("region", "author"), pk=pk
    )
    communities = communities_of(change_set)
    region_geom = change_set.region.boundary_on()
    base = f"{API_ROOT}changesets/{change_set.pk}/"
    config = {
        "id": change_set.pk,
        "statuses": {value: str(label) for value, label in Status.choices},
        "basemap": basemap_layers(),
        "extent": region_geom.extent if region_geom else None,
        "neighbours": _neighbours(region_geom, [c.pk for c in communities])
        if region_geom
        else {"type": "FeatureCollection", "features": []},
        "urls": {
            "detail": base,
            "grids": f"{base}grids/",
            "operations": f"{base}operations/",
            "undo": f"{base}undo/",
            "redo": f"{base}redo/",
            "validation": f"{base}validation/",
            "impact": f"{base}impact/",
            "submit": f"{base}submit/",
            "approve": f"{base}approve/",
            "return": f"{base}return/",
            "apply": f"{base}apply/",
            "withdraw": f"{base}withdraw/",
            "extend": f"{base}extend/",
            "takeOver": f"{base}take-over/",
            "list": reverse("boundary-list"),
            "map": reverse("map"),
            "history": reverse("boundary-grid-history", args=["000000000000000"]),
        },
    }
    return render(
        request,
        "boundaries/editor.html",
        {"change_set": change_set, "config": config},
    )


@login_required
@require_http_methods(["GET", "POST"])
def grid_history(request, code: str):
    """Every boundary version of a grid, newest first; "restore this version" opens a new
    change set that reshapes the grid back to it."""
    grid = (
        Grid.objects.visible_to(request.user).filter(code=code).select_related("community").first()
    )
    if grid is None:
        raise Http404(code)
    versions = history.history(grid)
    may_restore = grid.valid_to is None and changesets.can_author(request.user, grid.community)
    errors: list[str] = []
    if request.method == "POST":
        chosen = GridBoundary.objects.filter(grid=grid, pk=request.POST.get("version") or 0)
        version = chosen.select_related("grid").first()
        if not may_restore or version is None:
            errors.append(_("You may not restore this version."))
        else:
            try:
                change_set = history.restore(user=request.user, version=version)
            except ProblemsError as exc:
                errors += [problem.message for problem in exc.problems]
            else:
                return redirect("boundary-editor", pk=change_set.pk)
    outlines = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": v["id"],
                    "valid_from": v["valid_from"].isoformat(),
                    "valid_to": v["valid_to"].isoformat() if v["valid_to"] else None,
                    "current": v["current"],
                },
                "geometry": v["geometry"],
            }
            for v in versions
        ],
    }
    return render(
        request,
        "boundaries/history.html",
        {
            "grid": grid,
            "versions": versions,
            "may_restore": may_restore,
            "errors": errors,
            "outlines": outlines,
            "basemap": basemap_layers(),
        },
        status=400 if errors else 200,
    )
