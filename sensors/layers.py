"""The sensor layers of the command-centre map (registered from SensorsConfig.ready).

`sensors`: every device the user may see, a symbol per role and a colour per status,
filterable by type, status and role (`?type=camera&status=offline&role=water_tank`).
Below zoom `AGGREGATE_BELOW` (500,000 devices in a district) each grid is one point with its
number of devices and of those down (offline or in fault), counted after the filters; a
dense tile at higher zoom is clustered.

`camera_coverage`: grids coloured by the share of their area that some camera sees
(GridCoverage); a grid no camera sees is flagged (`gap`), the coverage-gap choropleth.

`camera_sectors`: the view sectors of the cameras, at street zoom only.

How they look on the MapLibre map is in map_style.py; their browser module (popups, the role
symbols, fire mode) is static/sensors/map-layer.js. The "fire" preset is the fire team's view.
"""

from __future__ import annotations

from django.contrib.gis.db.models.functions import PointOnSurface
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import Grid, GridBoundary
from maps.registry import Aggregation, Filter, Layer, Preset, register, register_preset
from sensors import map_style
from sensors.map_style import AGGREGATE_BELOW, COVERAGE_BREAKS, COVERAGE_RAMP, SECTORS_FROM
from sensors.models import GridCoverage, Role, Sensor, SensorType, Status

STATUS_COLOURS = map_style.STATUS_COLOURS
DOWN = (Status.OFFLINE, Status.FAULT)
# The roles a forest fire team works with: the fire preset shows these, not the "other" ones.
FIRE_ROLES = (Role.CAMERA, Role.VOICE_POLE, Role.WATER_TANK, Role.DETECTOR)


def _sensors(user):
    return Sensor.objects.visible_to(user).annotate(
        fid=F("pk"),
        type_code=F("type__code"),
        symbol=F("type__symbol"),
        colour=F("type__colour"),
    )


def _per_grid(features):
    """Each grid holding some of `features` (the user's devices, filtered), as a point on its
    surface with how many there are and how many are down."""
    in_grid = features.filter(grid=OuterRef("grid_id")).order_by().values("grid")

    def count(queryset):
        return Coalesce(
            Subquery(queryset.annotate(c=Count("pk")).values("c")[:1], IntegerField()), 0
        )

    return (
        GridBoundary.objects.current()
        .filter(Exists(in_grid))
        .annotate(
            fid=F("grid_id"),
            code=F("grid__code"),
            point=PointOnSurface("geom"),
            n=count(in_grid),
            down=count(in_grid.filter(status__in=DOWN)),
        )
    )


def _type_choices(user):
    """The built-in types and the user's district's own, retired ones included (their
    devices are still on the map); administrators every type."""
    types = SensorType.objects.all()
    if not scoping.sees_everything(user):
        types = types.filter(Q(district__isnull=True) | Q(district=scoping.user_district(user)))
    return list(types.order_by("code").values_list("code", "name"))


def _status_choices(user):
    return [(str(value), str(label)) for value, label in Status.choices]


def _role_choices(user):
    return [(str(value), str(label)) for value, label in Role.choices]


def _coverage(user):
    seen = Q(grid__camera_coverage__share__gt=0)
    return (
        GridBoundary.objects.current()
        .filter(grid__in=Grid.objects.visible_to(user).valid_on())
        .annotate(
            fid=F("grid_id"),
            code=F("grid__code"),
            name=F("grid__name"),
            share=Coalesce(
                F("grid__camera_coverage__share"), Value(0.0), output_field=FloatField()
            ),
            cameras=Coalesce(F("grid__camera_coverage__cameras"), Value(0)),
            gap=ExpressionWrapper(~seen, output_field=BooleanField()),
        )
    )


def _sectors(user):
    return (
        Sensor.objects.visible_to(user)
        .filter(role=Role.CAMERA, coverage__isnull=False)
        .annotate(fid=F("pk"))
    )


SENSORS = register(
    Layer(
        name="sensors",
        title=_("sensors"),
        queryset=_sensors,
        geometry="location",
        attributes=("fid", "code", "name", "type_code", "role", "status", "symbol", "colour"),
        kind="point",
        min_zoom=10,
        depends_on=(Sensor, SensorType),
        aggregation=Aggregation(
            below_zoom=AGGREGATE_BELOW,
            of_features=_per_grid,
            geometry="point",
            bbox_field="geom",
            attributes=("fid", "code", "n", "down"),
            max_points=3000,
            cluster_pixels=24,
        ),
        filters={
            "type": Filter(
                _("sensor type"), _type_choices, lambda q, v: q.filter(type__code__in=v)
            ),
            "status": Filter(_("status"), _status_choices, lambda q, v: q.filter(status__in=v)),
            # By role as well as by type: a district's own "thermal camera" type is a camera.
            "role": Filter(_("device role"), _role_choices, lambda q, v: q.filter(role__in=v)),
        },
        # The browser module reads the statuses and roles for its symbols, popups and fire
        # mode.
        style={
            "color": map_style.COUNT,
            "statuses": dict(STATUS_COLOURS),
            "statusLabels": {str(k): Status(k).label for k in STATUS_COLOURS},
            "roles": {str(value): label for value, label in Role.choices},
        },
        label="name",
        order=70,
        map_style=map_style.sensors_style,
        legend=map_style.sensors_legend,
        module="sensors/map-layer.js",
        link="/sensors/{fid}/",
    )
)

COVERAGE = register(
    Layer(
        name="camera_coverage",
        title=_("camera coverage"),
        queryset=_coverage,
        geometry="geom",
        attributes=("fid", "code", "name", "share", "cameras", "gap"),
        kind="polygon",
        min_zoom=11,
        depends_on=(GridCoverage, Grid, GridBoundary),
        style={
            "off": True,
            "breaks": COVERAGE_BREAKS,
            "ramp": COVERAGE_RAMP,
            "gap": map_style.GAP,
            "gapLabel": _("no camera coverage"),
        },
        label="name",
        order=6,
        map_style=map_style.coverage_style,
        legend=map_style.coverage_legend,
    )
)

SECTORS = register(
    Layer(
        name="camera_sectors",
        title=_("camera view sectors"),
        queryset=_sectors,
        geometry="coverage",
        attributes=("fid", "code", "name", "status"),
        kind="polygon",
        min_zoom=SECTORS_FROM,
        depends_on=(Sensor,),
        style={"off": True, "color": map_style.SECTOR},
        # Below every layer of points: a device or an incident inside a sector takes the click.
        order=25,
        map_style=map_style.sectors_style,
        legend=map_style.sectors_legend,
    )
)

# The fire team's view: its devices and the cameras' sectors over plain grids, no choropleth.
FIRE_PRESET = register_preset(
    Preset(
        name="fire",
        title=_("fire team: forest sensors and water"),
        layers=("grids", "sensors", "camera_sectors"),
        figure="none",
        filters={"sensors": {"role": tuple(str(r) for r in FIRE_ROLES)}},
        order=60,
    )
)
