"""实有单位: enterprises, shops, schools, clinics, organisations, keyed to the grid their
point lies in on write, with the grids a boundary change moved them out of."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids.models.addresses import Address
from grids.models.buildings import Building
from grids.models.catalogues import UnitType
from grids.models.households import new_client_key
from grids.models.keyed_places import LivingPlaceQuerySet
from grids.models.tree import SRID, Grid, today


class Unit(models.Model):
    """A unit at a point. The legal person and the contact phone are personal data: masked
    for roles that do not need them, like residents' names and phones."""

    PERSONAL_FIELDS = ("legal_person", "contact_phone")

    name = models.CharField(_("name"), max_length=200)
    type = models.ForeignKey(
        UnitType, verbose_name=_("unit type"), on_delete=models.PROTECT, related_name="units"
    )
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    legal_person = models.CharField(_("legal person / person in charge"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    standard_address = models.ForeignKey(
        Address,
        verbose_name=_("standard address"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="units",
    )
    building = models.ForeignKey(
        Building,
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="units",
    )
    location = models.PointField(_("location"), srid=SRID, spatial_index=True)
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
        db_index=False,  # the covering index in Meta serves it
    )
    client_key = models.CharField(_("client key"), max_length=64, default=new_client_key)
    registered_on = models.DateField(_("registered on"), default=today)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LivingPlaceQuerySet.as_manager()

    class Meta:
        # A context: "unit" alone is an indicator's unit of measure (计量单位).
        verbose_name = pgettext_lazy("organisation", "unit")
        verbose_name_plural = _("units")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["client_key"], name="unit_client_key_unique"),
        ]
        indexes = [
            models.Index(
                fields=["grid"],
                include=["type", "employees", "registered_on", "removed_on"],
                name="unit_grid_figures",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def flagged(self) -> bool:
        return self.grid_id is None


class UnitGridHistory(models.Model):
    """Which grid a unit belonged to before a boundary change moved it."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="grid_history")
    grid = models.ForeignKey(Grid, null=True, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField()

    class Meta:
        verbose_name = _("unit grid history")
        verbose_name_plural = _("unit grid history")
        indexes = [models.Index(fields=["unit", "valid_from"])]
