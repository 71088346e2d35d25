"""One point per grid for the layers drawn as counted circles below a zoom (the feature apps'
open incidents, open needs): each current grid boundary holding some of the rows, on its
surface, with how many there are."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import PointOnSurface
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from grids.models import GridBoundary


def counted_per_grid(rows: QuerySet) -> QuerySet:
    """`rows`: scoped and filtered, one per thing, with a `grid` key. Grids without one are
    left out; `n` is the count in each."""
    counts = rows.filter(grid=OuterRef("grid_id")).order_by().values("grid").annotate(c=Count("pk"))
    return (
        GridBoundary.objects.current()
        .filter(grid__in=rows.order_by().values("grid"))
        .annotate(
            fid=F("grid_id"),
            code=F("grid__code"),
            name=F("grid__name"),
            point=PointOnSurface("geom"),
            n=Coalesce(Subquery(counts.values("c")[:1], output_field=IntegerField()), 0),
        )
    )
