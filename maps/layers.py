"""The layers of the core: the jurisdiction tree and households (issue #3), buildings and
units (一标三实, issue #17). Other apps register theirs in their own AppConfig.ready()."""

from __future__ import annotations

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import PointOnSurface
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import (
    Building,
    Grid,
    GridBoundary,
    GridFigures,
    Household,
    Level,
    Region,
    RegionBoundary,
    Unit,
    UnitType,
)
from grids.services.stats import refresh_figures
from maps import cartography as carto
from maps.registry import Aggregation, Filter, Layer, Preset, register, register_preset

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


def _places(user):
    """One point per district, street and community (on its surface) with its name: drawn once
    per place, where a polygon's label would repeat in every tile the polygon crosses."""
    return (
        RegionBoundary.objects.current()
        .filter(
            region__in=Region.objects.visible_to(user)
            .valid_on()
            .filter(level__in=(Level.DISTRICT, Level.STREET, Level.COMMUNITY))
        )
        .annotate(
            fid=F("region_id"),
            name=F("region__name"),
            level=F("region__level"),
            point=PointOnSurface("geom"),
        )
    )


def _grid_names(user):
    """One point per grid (on its surface) with its name, for the same reason as places."""
    return _grids(user).annotate(point=PointOnSurface("geom"))


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
                map_style=carto.region_style(LAYER_NAMES[level]),
                legend=carto.region_legend(LAYER_NAMES[level], TITLES[level]),
                label="name",
                order=10 + order,
            )
        )
    register(
        Layer(
            name="places",
            title=_("place names"),
            queryset=_places,
            geometry="point",
            bbox_field="geom",
            attributes=("fid", "name", "level"),
            kind="line",  # context, grouped with the boundaries in the layer panel
            depends_on=(Region, RegionBoundary),
            map_style=carto.places_style,
            legend=None,
            label="name",
            order=95,
        )
    )
    register(
        Layer(
            name="grid_names",
            title=_("grid names"),
            queryset=_grid_names,
            geometry="point",
            bbox_field="geom",
            attributes=("fid", "name"),
            kind="line",  # context, grouped with the boundaries in the layer panel
            min_zoom=14,
            depends_on=(Grid, GridBoundary),
            map_style=carto.grid_names_style,
            label="name",
            order=94,
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
            map_style=carto.grids_style,
            legend=carto.grids_legend,
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
            style={"color": carto.HOUSEHOLDS, "radius": 3},
            map_style=carto.households_style,
            legend=carto.households_legend,
            order=50,
        )
    )
    register_basedata_layers()
    register_presets()


# Buildings are context under everything else: footprints from street zoom, below it one
# point per grid with its number of buildings.
BUILDINGS_AGGREGATE_BELOW = 16
UNITS_AGGREGATE_BELOW = 15


def _buildings(user):
    """Today's buildings the user may see; a building known only by its point is drawn as
    the point. Found by the indexed point: a footprint is metres across, within the tile's
    margin."""
    return (
        Building.objects.visible_to(user)
        .existing_on()
        .annotate(
            fid=F("pk"),
            shape=Coalesce("footprint", "location", output_field=GeometryField(srid=4326)),
        )
    )


def _per_grid(features):
    """Each grid holding some of `features`, as a point on its surface with their count."""
    in_grid = features.filter(grid=OuterRef("grid_id")).order_by().values("grid")
    return (
        GridBoundary.objects.current()
        .filter(Exists(in_grid))
        .annotate(
            fid=F("grid_id"),
            code=F("grid__code"),
            point=PointOnSurface("geom"),
            n=Coalesce(
                Subquery(in_grid.annotate(c=Count("pk")).values("c")[:1], IntegerField()), 0
            ),
        )
    )


def _units(user):
    """Today's units the user may see, with their type and its top-level group (for the
    symbol). The person in charge and the phone are personal: never in a tile."""
    return (
        Unit.objects.visible_to(user)
        .existing_on()
        .annotate(
            fid=F("pk"),
            type_code=F("type__code"),
            group=Coalesce(F("type__parent__code"), F("type__code")),
        )
    )


def _unit_type_choices(user):
    """Every unit type, top-level ones matching their children too."""
    return list(UnitType.objects.order_by("order", "code").values_list("code", "name"))


def _unit_types(queryset, values):
    return queryset.filter(Q(type__code__in=values) | Q(type__parent__code__in=values))


def register_basedata_layers() -> None:
    register(
        Layer(
            name="buildings",
            title=_("buildings"),
            queryset=_buildings,
            geometry="shape",
            bbox_field="location",
            attributes=("fid", "code", "use", "floors"),
            kind="polygon",
            min_zoom=13,
            depends_on=(Building, Grid, GridBoundary),
            aggregation=Aggregation(
                below_zoom=BUILDINGS_AGGREGATE_BELOW,
                of_features=_per_grid,
                geometry="point",
                bbox_field="geom",
                attributes=("fid", "code", "n"),
            ),
            style={
                "color": "#8c96a0",
                "weight": 0.6,
                "fillColor": "#b8c0c8",
                "fillOpacity": 0.25,
            },  # fmt: skip
            map_style=carto.buildings_style,
            legend=carto.buildings_legend,
            order=20,
        )
    )
    register(
        Layer(
            name="units",
            title=_("units"),
            queryset=_units,
            geometry="location",
            attributes=("fid", "name", "type_code", "group", "employees"),
            kind="point",
            min_zoom=13,
            depends_on=(Unit, UnitType, Grid, GridBoundary),
            aggregation=Aggregation(
                below_zoom=UNITS_AGGREGATE_BELOW,
                of_features=_per_grid,
                geometry="point",
                bbox_field="geom",
                attributes=("fid", "code", "n"),
                max_points=3000,
                cluster_pixels=24,
            ),
            filters={"type": Filter(_("unit type"), _unit_type_choices, _unit_types)},
            style={
                "color": "#6f42c1",
                "radius": 4,
                "off": True,
                "groups": {
                    "enterprise": "#1f6feb",
                    "self_employed": "#bf8700",
                    "shop": "#d4a72c",
                    "restaurant": "#e16f24",
                    "hotel": "#a371f7",
                    "school": "#2da44e",
                    "clinic": "#cf222e",
                    "party_org": "#c4161c",
                    "social_org": "#8250df",
                    "government": "#0550ae",
                },
            },
            map_style=carto.units_style,
            legend=carto.units_legend,
            label="name",
            order=55,
        )
    )


BASE = ("districts", "streets", "communities", "grids", "buildings", "places", "grid_names")


def register_presets() -> None:
    """The role presets of the core (contract A). Layers of other apps are named, not
    imported: a preset's layer a user may not see is left out of their style."""
    register_preset(
        Preset(
            name="street",
            title=_("Command centre: incidents and three colours"),
            layers=(*BASE, "incidents"),
            figure="colour",
            roles=frozenset({"street_centre", "district_centre", "administrator"}),
            order=10,
        )
    )
    register_preset(
        Preset(
            name="department",
            title=_("Department: its indicators"),
            layers=(*BASE, "incidents"),
            figure="indicator",
            roles=frozenset({"department"}),
            order=20,
        )
    )
    register_preset(
        Preset(
            name="worker",
            title=_("My grid: households and incidents"),
            layers=(*BASE, "households", "incidents"),
            figure="households",
            roles=frozenset({"grid_worker", "community_staff"}),
            order=30,
        )
    )
    register_preset(
        Preset(
            name="screen",
            title=_("Wall screen"),
            layers=(
                "districts",
                "streets",
                "communities",
                "grids",
                "places",
                "grid_names",
                "incidents",
            ),
            figure="colour",
            order=90,
        )
    )
