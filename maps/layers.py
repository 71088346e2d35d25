"""The layers of the core: the jurisdiction tree and households (issue #3). Other apps
register theirs in their own AppConfig.ready()."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import PointOnSurface
from django.db.models import F, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import (
    Grid,
    GridBoundary,
    GridFigures,
    Household,
    Level,
    Region,
    RegionBoundary,
)
from grids.services.stats import refresh_figures
from maps.registry import Aggregation, Layer, register

REGION_STYLE = {
    Level.DISTRICT: {"color": "#12324f", "weight": 3, "fill": False},
    Level.STREET: {"color": "#2b5d8a", "weight": 2, "fill": False},
    Level.COMMUNITY: {"color": "#5b86b0", "weight": 1, "dashArray": "4 3", "fill": False},
}
REGION_ZOOMS = {Level.DISTRICT: (0, 22), Level.STREET: (8, 22), Level.COMMUNITY: (10, 22)}
TITLES = {
    Level.DISTRICT: _("district boundary"),
    Level.STREET: _("streets / towns"),
    Level.COMMUNITY: _("communities / villages"),
}
LAYER_NAMES = {Level.DISTRICT: "districts", Level.STREET: "streets", Level.COMMUNITY: "communities"}


def _regions(level):
    def queryset(user):
        return (
            RegionBoundary.objects.current()
            .filter(region__in=Region.objects.visible_to(user).valid_on().filter(level=level))
            .annotate(fid=F("region_id"), code=F("region__code"), name=F("region__name"))
        )

    return queryset


def _grids(user):
    return (
        GridBoundary.objects.current()
        .filter(grid__in=Grid.objects.visible_to(user).valid_on())
        .annotate(
            fid=F("grid_id"),
            code=F("grid__code"),
            name=F("grid__name"),
            colour=F("grid__colour"),
            theme=F("grid__theme"),
        )
    )


def _households(user):
    return Household.objects.visible_to(user).existing_on().annotate(fid=F("pk"))


def _households_per_grid(user):
    """One point per grid (on its surface) with its households today, from the precomputed
    grid figures (brought up to date before the tile is built). A user who sees a grid's
    households sees all of them, so the grid's count is the user's count."""
    per_grid = (
        _grids(user)
        .filter(grid__in=GridFigures.objects.filter(households__gt=0).values("grid_id"))
        .annotate(
            point=PointOnSurface("geom"),
            n=Subquery(
                GridFigures.objects.filter(grid=OuterRef("grid_id")).values("households")[:1]
            ),
        )
    )
    return per_grid.none() if scoping.household_q(user) == scoping.NOTHING else per_grid


def register_core_layers() -> None:
    for order, level in enumerate((Level.DISTRICT, Level.STREET, Level.COMMUNITY)):
        register(
            Layer(
                name=LAYER_NAMES[level],
                title=TITLES[level],
                queryset=_regions(level),
                geometry="geom",
                attributes=("fid", "code", "name"),
                kind="line",
                min_zoom=REGION_ZOOMS[level][0],
                depends_on=(Region, RegionBoundary),
                style=REGION_STYLE[level],
                label="name",
                order=10 + order,
            )
        )
    register(
        Layer(
            name="grids",
            title=_("grids"),
            queryset=_grids,
            geometry="geom",
            attributes=("fid", "code", "name", "colour", "theme"),
            kind="polygon",
            min_zoom=11,
            depends_on=(Grid, GridBoundary),
            style={"color": "#7a8a99", "weight": 1, "fillOpacity": 0.35},
            label="name",
            order=5,
        )
    )
    register(
        Layer(
            name="households",
            title=_("households"),
            queryset=_households,
            geometry="location",
            attributes=("fid", "grid_id", "member_count"),
            kind="point",
            min_zoom=10,
            depends_on=(Household, Grid, GridBoundary),
            aggregation=Aggregation(
                below_zoom=15,
                queryset=_households_per_grid,
                geometry="point",
                bbox_field="geom",
                attributes=("fid", "code", "n"),
                prepare=refresh_figures,
            ),
            style={"color": "#b3261e", "radius": 3},
            order=50,
        )
    )
