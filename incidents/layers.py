"""The incidents layers of the command-centre map (registered from IncidentsConfig.ready).

Points: the open incidents the user may see, and the ones closed in the last
`RECENT_CLOSED_DAYS` days (drawn grey, so a command centre sees what was just done). Below
zoom `AGGREGATE_BELOW`: one point per grid (on its surface) with the number of open
incidents in it that the user may see, drawn as a counted circle (a polygon density would
fight the grid choropleth for the same fill); grids without one are left out.

Colours (maps.cartography's language): statuses in oranges, purples, blue, teal and grey;
alarm red only rings an incident whose step is overdue.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Status
from maps import cartography as carto
from maps.per_grid import counted_per_grid
from maps.registry import Aggregation, Layer, register

RECENT_CLOSED_DAYS = 30
AGGREGATE_BELOW = 13
CLOSED = (Status.CLOSED, Status.ASSESSED)
# The open statuses named, not "not closed": a positive list lets PostgreSQL look each grid's
# open incidents up in the (grid, status) index instead of reading every incident of the grid
# (the district's landing tile: 240 ms -> a few ms on the full demo).
OPEN = tuple(s for s in Status if s not in CLOSED)

# Per status, for the legend and the points (map.js reads style["statuses"]).
STATUS_COLOURS = {
    Status.REPORTED: "#e8590c",
    Status.REGISTERED: "#f59f00",
    Status.DISPATCHED: "#ae3ec9",
    Status.HANDLING: "#1c7ed6",
    Status.FED_BACK: "#7048e8",
    Status.VERIFIED: "#0ca678",
    Status.CLOSED: "#adb5bd",
    Status.ASSESSED: "#adb5bd",
}
COUNT_COLOUR = "#e8590c"
HEAT_BELOW = 11
CLOSED_FROM = 15


def _incidents(user):
    since = timezone.now() - dt.timedelta(days=RECENT_CLOSED_DAYS)
    return (
        Incident.objects.visible_to(user)
        .filter(~Q(status__in=CLOSED) | Q(closed_at__gte=since), merged_into__isnull=True)
        .annotate(fid=F("pk"), category_code=F("category__code"))
    )


def _incidents_per_grid(user):
    """Each grid's boundary with the number of the user's visible open incidents in it."""
    return counted_per_grid(Incident.objects.visible_to(user).filter(status__in=OPEN))


def map_style(theme: str) -> list[dict]:
    c = carto.colours(theme)
    by_status = ["match", ["get", "status"]]
    for status, colour in STATUS_COLOURS.items():
        by_status += [str(status), colour]
    overdue = ["==", ["get", "step_overdue"], True]
    # At district zoom a centre's small urban grids would pile their counted circles into
    # one blob: a density (heat) of the per-grid counts there, the counts from HEAT_BELOW on.
    heat = {
        "id": "incidents-heat",
        "type": "heatmap",
        "maxzoom": HEAT_BELOW,
        "filter": carto.is_aggregate(),
        "paint": {
            "heatmap-weight": ["interpolate", ["linear"], ["get", "n"], 0, 0, 10, 1],
            "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 10, 11, 24],
            "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 8, 0.6, 11, 1.2],
            "heatmap-opacity": 0.8,
            "heatmap-color": [
                "interpolate",
                ["linear"],
                ["heatmap-density"],
                0,
                "rgba(253,208,162,0)",
                0.2,
                "#fdd0a2",
                0.5,
                "#fd8d3c",
                0.8,
                COUNT_COLOUR,
                1,
                "#a63603",
            ],  # fmt: skip
        },
    }
    closed = ["in", ["get", "status"], ["literal", [str(x) for x in CLOSED]]]
    points = [
        # Closed in the last days: small and faint, from street zoom only, so what is open
        # (and overdue) stands out and the grids' colours stay readable.
        {
            "id": "incidents-closed",
            "type": "circle",
            "minzoom": CLOSED_FROM,
            "filter": ["all", carto.not_aggregate(), closed],
            "paint": {
                "circle-color": STATUS_COLOURS[Status.CLOSED],
                "circle-radius": ["interpolate", ["linear"], ["zoom"], CLOSED_FROM, 2.5, 18, 5],
                "circle-opacity": 0.6,
                "circle-stroke-color": c["halo"],
                "circle-stroke-width": 0.5,
            },
        },
        {
            "id": "incidents-point",
            "type": "circle",
            "minzoom": AGGREGATE_BELOW,
            "filter": ["all", carto.not_aggregate(), ["!", closed]],
            "paint": {
                "circle-color": by_status + ["#868e96"],
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 5, 18, 8],
                "circle-stroke-color": ["case", overdue, carto.ALARM, c["halo"]],
                "circle-stroke-width": ["case", overdue, 3, 1.5],
            },
        },
        {
            "id": "incidents-label",
            "type": "symbol",
            "minzoom": 16,
            "filter": ["all", carto.not_aggregate(), ["!", closed]],
            "layout": {
                "text-field": ["get", "title"],
                "text-font": carto.FONT,
                "text-size": 11,
                "text-offset": [0, 1.1],
                "text-anchor": "top",
                "text-max-width": 10,
                "text-optional": True,
                "symbol-sort-key": 0,
            },
            "paint": carto.label_paint(theme),
        },
    ]
    counts = carto.counts("incidents", COUNT_COLOUR, theme, AGGREGATE_BELOW, HEAT_BELOW)
    return [heat, *counts, *points]


def legend() -> list[dict]:
    seen: dict[str, str] = {}
    for status, colour in STATUS_COLOURS.items():
        seen.setdefault(colour, str(Status(status).label))
    below = [
        {
            "label": str(_("density of open incidents")),
            "colour": COUNT_COLOUR,
            "shape": "fill",
            "max_zoom": HEAT_BELOW,
        },
        {
            "label": str(_("open incidents per grid")),
            "colour": COUNT_COLOUR,
            "shape": "count",
            "min_zoom": HEAT_BELOW,
            "max_zoom": AGGREGATE_BELOW,
        },
    ]
    closed = STATUS_COLOURS[Status.CLOSED]
    points = [
        {
            "label": label,
            "colour": colour,
            "shape": "circle",
            "min_zoom": CLOSED_FROM if colour == closed else AGGREGATE_BELOW,
        }
        for colour, label in seen.items()
    ]
    overdue = {
        "label": str(_("step overdue")),
        "colour": carto.ALARM,
        "shape": "ring",
        "min_zoom": AGGREGATE_BELOW,
    }
    return below + points + [overdue]


LAYER = register(
    Layer(
        name="incidents",
        title=_("incidents"),
        queryset=_incidents,
        geometry="location",
        attributes=("fid", "title", "status", "priority", "step_overdue", "category_code"),
        kind="point",
        depends_on=(Incident,),
        aggregation=Aggregation(
            below_zoom=AGGREGATE_BELOW,
            queryset=_incidents_per_grid,
            geometry="point",
            bbox_field="geom",
            attributes=("fid", "code", "name", "n"),
        ),
        style={
            "color": STATUS_COLOURS[Status.REPORTED],
            "radius": 6,
            "statuses": {str(k): v for k, v in STATUS_COLOURS.items()},
            "statusLabels": {str(k): Status(k).label for k in STATUS_COLOURS},
            "link": "/incidents/{fid}/",
        },
        map_style=map_style,
        legend=legend,
        module="incidents/map-layer.js",
        link="/incidents/{fid}/",
        label="title",
        order=60,
    )
)
