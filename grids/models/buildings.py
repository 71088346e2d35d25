"""实有房屋: buildings, keyed to the grid their point lies in on write like households, with
the grids a boundary change moved them out of."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from grids.models.households import new_client_key
from grids.models.keyed_places import LivingPlaceQuerySet
from grids.models.tree import SRID, Grid, today


class BuildingUse(models.TextChoices):
    RESIDENTIAL = "residential", _("residential")
    COMMERCIAL = "commercial", _("commercial")
    MIXED = "mixed", _("mixed residential and commercial")
    PUBLIC = "public", _("public building")
    INDUSTRIAL = "industrial", _("industrial")
    OTHER = "other", _("other")


class Building(models.Model):
    """A building with its footprint or only a point. The point is what keys it to a grid: the
    footprint's point on surface when only a footprint is given (a centroid can fall outside
    an L-shaped footprint, and so in the neighbouring grid)."""

    code = models.CharField(
        _("building code"), max_length=64, help_text=_("房屋编码: the key departments use")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    footprint = models.MultiPolygonField(
        _("footprint"), srid=SRID, null=True, blank=True, spatial_index=True
    )
    location = models.PointField(_("location"), srid=SRID, spatial_index=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    use = models.CharField(
        _("use"), max_length=12, choices=BuildingUse.choices, default=BuildingUse.RESIDENTIAL
    )
    built_year = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="buildings",
        db_index=False,  # the covering index in Meta serves it
    )
    client_key = models.CharField(_("client key"), max_length=64, default=new_client_key)
    registered_on = models.DateField(_("registered on"), default=today)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LivingPlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["id"]
        constraints = [
            # Constraints, not unique=True: no second (LIKE) index for bulk loads to pay for.
            models.UniqueConstraint(fields=["code"], name="building_code_unique"),
            models.UniqueConstraint(fields=["client_key"], name="building_client_key_unique"),
        ]
        indexes = [
            # Figures are GROUP BY grid over existing buildings: an index-only scan.
            models.Index(
                fields=["grid"],
                include=["use", "floors", "registered_on", "removed_on"],
                name="building_grid_figures",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.address or self.code

    @property
    def flagged(self) -> bool:
        return self.grid_id is None


class BuildingGridHistory(models.Model):
    """Which grid a building belonged to before a boundary change moved it; the current grid
    is on the building (as HouseholdGridHistory)."""

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="grid_history")
    grid = models.ForeignKey(Grid, null=True, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField()

    class Meta:
        verbose_name = _("building grid history")
        verbose_name_plural = _("building grid history")
        indexes = [models.Index(fields=["building", "valid_from"])]
