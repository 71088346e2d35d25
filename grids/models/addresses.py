"""标准地址: standard addresses parsed from address text (grids.services.addresses), each
keyed to its grid when it has a point; households and units live at one."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from grids.models.buildings import Building
from grids.models.keyed_places import AddressQuerySet
from grids.models.tree import SRID, Grid, Level, Region


class Address(models.Model):
    """One standard address, its parts and the normalised full text (unique: the same place
    written two ways is one address once normalised)."""

    community = models.ForeignKey(
        Region,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="addresses",
        limit_choices_to={"level": Level.COMMUNITY},
    )
    road = models.CharField(_("road / lane"), max_length=100, blank=True)
    number = models.CharField(_("door number"), max_length=30, blank=True)
    building_no = models.CharField(_("building number"), max_length=30, blank=True)
    unit_no = models.CharField(_("staircase unit"), max_length=20, blank=True)
    room = models.CharField(_("room"), max_length=20, blank=True)
    text = models.CharField(_("standard address"), max_length=255)
    location = models.PointField(
        _("location"), srid=SRID, null=True, blank=True, spatial_index=True
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="addresses",
    )
    building = models.ForeignKey(
        Building,
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="addresses",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AddressQuerySet.as_manager()

    class Meta:
        verbose_name = _("standard address")
        verbose_name_plural = _("standard addresses")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["text"], name="address_text_unique")]

    def __str__(self) -> str:
        return self.text
