"""Households (一标三实) keyed to their grids, the grids they were moved out of, and the
residents living in them."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models.tree import SRID, Grid, today


def new_client_key() -> str:
    return uuid.uuid4().hex


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(scoping.household_q(user))

    def existing_on(self, on: dt.date | None = None):
        on = on or today()
        return self.filter(Q(removed_on__isnull=True) | Q(removed_on__gt=on), registered_on__lte=on)

    def unassigned(self):
        """Kept but flagged: the point fell in no grid when it was written."""
        return self.filter(grid__isnull=True)


class Household(models.Model):
    """户: a dwelling at a point with its standard address (一标三实), keyed to its grid on
    write. A point in no grid is kept with grid = NULL and flagged for review."""

    address = models.CharField(_("standard address"), max_length=255)
    location = models.PointField(_("location"), srid=SRID, spatial_index=True)
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households",
        db_index=False,  # the covering index in Meta serves it
    )
    client_key = models.CharField(
        _("client key"),
        max_length=64,
        default=new_client_key,
        help_text=_(
            "key supplied by the sender, or made on write; a resent submission or a re-imported "
            "export with it is not duplicated"
        ),
    )
    member_count = models.PositiveSmallIntegerField(_("members"), default=0)
    registered_on = models.DateField(_("registered on"), default=today)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["id"]
        constraints = [
            # A constraint, not unique=True: that would add a second (LIKE) index on the key,
            # which nothing searches by prefix and every bulk insert pays for.
            models.UniqueConstraint(fields=["client_key"], name="household_client_key_unique"),
        ]
        indexes = [
            # Roll-ups are GROUP BY grid over existing households: an index-only scan.
            models.Index(
                fields=["grid"],
                include=["member_count", "registered_on", "removed_on"],
                name="household_grid_figures",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def flagged(self) -> bool:
        return self.grid_id is None


class HouseholdGridHistory(models.Model):
    """Which grid a household belonged to before a boundary change moved it; the current
    grid is on the household. Written only by re-assignment, so it stays small."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="grid_history")
    grid = models.ForeignKey(Grid, null=True, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField()

    class Meta:
        verbose_name = _("household grid history")
        verbose_name_plural = _("household grid history")
        indexes = [models.Index(fields=["household", "valid_from"])]


class Tag(models.TextChoices):
    ELDERLY = "elderly", _("elderly")
    CHILD = "child", _("child")
    DISABLED = "disabled", _("disabled")
    LOW_INCOME = "low_income", _("low income")
    KEY_POPULATION = "key_population", _("key population")
    LIVING_ALONE = "living_alone", _("living alone")
    VETERAN = "veteran", _("veteran")


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


class ResidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(scoping.household_q(user, prefix="household__"))


class Resident(models.Model):
    """居民 / 实有人口: a person living in a household. Name, ID number and phone are personal
    data: masked for roles that do not need them, and every unmasked read is audited."""

    PERSONAL_FIELDS = ("name", "id_number", "phone")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="residents"
    )
    name = models.CharField(_("full name"), max_length=50)
    id_number = models.CharField(
        _("ID card number"),
        max_length=18,
        validators=[RegexValidator(r"^\d{17}[\dX]$", _("18 characters: 17 digits and a check"))],
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    tags = ArrayField(
        models.CharField(max_length=20, choices=Tag.choices),
        verbose_name=_("tags"),
        default=list,
        blank=True,
    )

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["id"]
        indexes = [GinIndex(fields=["tags"], name="resident_tags_gin")]

    def __str__(self) -> str:
        return scoping.mask_name(self.name)
