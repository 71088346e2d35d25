"""The incidents layers of the command-centre map (registered from IncidentsConfig.ready).

Points: the open incidents the user may see, and the ones closed in the last
`RECENT_CLOSED_DAYS` days (drawn grey, so a command centre sees what was just done). Below
zoom `AGGREGATE_BELOW`: each grid's polygon with the number of open incidents in it that the
user may see (a density choropleth); grids without one are left out.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import GridBoundary
from incidents.models import Incident, Status
from maps.registry import Aggregation, Layer, register

RECENT_CLOSED_DAYS = 30
AGGREGATE_BELOW = 13
CLOSED = (Status.CLOSED, Status.ASSESSED)

# Per status, for the legend and the points (map.js reads style["statuses"]).
STATUS_COLOURS = {
    Status.REPORTED: "#d7301f",
    Status.REGISTERED: "#f07f22",
    Status.DISPATCHED: "#f2c12e",
    Status.HANDLING: "#3b7dd8",
    Status.FED_BACK: "#7b52ab",
    Status.VERIFIED: "#2a9d8f",
    Status.CLOSED: "#8c959f",
    Status.ASSESSED: "#8c959f",
}


def _incidents(user):
    since = timezone.now() - dt.timedelta(days=RECENT_CLOSED_DAYS)
    return (
        Incident.objects.visible_to(user)
        .filter(~Q(status__in=CLOSED) | Q(closed_at__gte=since), merged_into__isnull=True)
        .annotate(fid=F("pk"), category_code=F("category__code"))
    )


def _incidents_per_grid(user):
    """Each grid's boundary with the number of the user's visible open incidents in it."""
    open_ = Incident.objects.visible_to(user).open()
    counts = (
        open_.filter(grid=OuterRef("grid_id"))
        .order_by()
        .values("grid")
        .annotate(c=Count("pk"))
        .values("c")[:1]
    )
    return (
        GridBoundary.objects.current()
        .filter(grid__in=open_.order_by().values("grid"))
        .annotate(
            fid=F("grid_id"),
            code=F("grid__code"),
            name=F("grid__name"),
            n=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
        )
    )


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
            geometry="geom",
            bbox_field="geom",
            attributes=("fid", "code", "name", "n"),
        ),
        style={
            "color": STATUS_COLOURS[Status.REPORTED],
            "radius": 6,
            "statuses": {str(k): v for k, v in STATUS_COLOURS.items()},
            "statusLabels": {str(k): Status(k).label for k in STATUS_COLOURS},
            "density": ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
            "link": "/incidents/{fid}/",
        },
        label="title",
        order=60,
    )
)
