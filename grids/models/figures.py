"""The precomputed figures of every grid, and the marks of the grids whose figures a write
has made stale."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from grids.models.tree import Grid


class GridFigures(models.Model):
    """Today's households and residents by tag of one grid (grid NULL: of the households in
    no grid). The map colours every grid of the district from these rows instead of counting
    millions of residents per request; stats.current_figures() brings them up to date."""

    grid = models.ForeignKey(Grid, null=True, on_delete=models.CASCADE, related_name="+")
    households = models.PositiveIntegerField(default=0)
    residents = models.PositiveIntegerField(default=0)
    tags = models.JSONField(default=dict)
    computed_on = models.DateField()

    class Meta:
        verbose_name = _("grid figures")
        verbose_name_plural = _("grid figures")
        constraints = [
            models.UniqueConstraint(
                fields=["grid"], nulls_distinct=False, name="grid_figures_one_per_grid"
            )
        ]


class StaleFigures(models.Model):
    """A grid whose figures a write has made stale. Rows are appended by statement triggers
    on households and residents, so every write path (ORM, COPY, set-based re-keying, admin)
    is caught; `everything` asks for a full recount (bulk writes, TRUNCATE). A plain integer,
    not a foreign key, so that marking never waits on the grid row."""

    grid_id = models.IntegerField(null=True)
    everything = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("stale grid figures")
        verbose_name_plural = _("stale grid figures")
