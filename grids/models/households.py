"""Households (一标三实) keyed to their grids, the grids they were moved out of, and the
residents living in them."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import RegexValidator
from django.db.models import Q, Value
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    # By name: buildings and addresses are defined after households (they reuse its key).
    building = models.ForeignKey(
        "grids.Building",
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )
    standard_address = models.ForeignKey(
        "grids.Address",
        verbose_name=_("standard address (parsed)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )
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


class Registration(models.TextChoices):
    REGISTERED = "registered", _("registered population")
    FLOATING = "floating", _("floating population")
    OVERSEAS = "overseas", _("overseas person")


class Relation(models.TextChoices):
    HEAD = "head", _("head of household")
    SPOUSE = "spouse", _("spouse")
    # Contexts: "child" and "parent" are also an age group and a level of the tree.
    CHILD = "child", pgettext_lazy("relation to the head", "child")
    PARENT = "parent", pgettext_lazy("relation to the head", "parent")
    GRANDCHILD = "grandchild", _("grandchild")
    SIBLING = "sibling", _("sibling")
    OTHER = "other", _("other relation")


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
    registration = models.CharField(
        _("registration"),
        max_length=10,
        choices=Registration.choices,
        default=Registration.REGISTERED,
        # Database defaults as well: the bulk COPY paths (demo, imports) that do not name the
        # new columns keep working.
        db_default=Registration.REGISTERED,
    )
    residence_since = models.DateField(_("living here since"), null=True, blank=True)
    origin = models.CharField(_("place of origin"), max_length=100, blank=True, db_default="")
    relation = models.CharField(
        _("relation to the head"),
        max_length=10,
        choices=Relation.choices,
        blank=True,
        db_default="",
    )
    # Codes of grids.ResidentTagKind, a catalogue held as data: checked on write
    # (grids.services.tags), not by choices, so that an administrator's new kind needs no
    # release.
    tags = ArrayField(
        models.CharField(max_length=20), verbose_name=_("tags"), default=list, blank=True
    )
    tag_levels = models.JSONField(
        _("tag levels"),
        default=dict,
        db_default=Value({}, models.JSONField()),
        blank=True,
        help_text=_("the level of a tag that has levels, by tag code (e.g. disabled: 二级)"),
    )
    # Null for rows written before issue #18 and by bulk COPY paths that do not name it; the
    # field app's pull reads it to send only residents changed since the phone's last sync.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, null=True, db_index=False)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["id"]
        indexes = [GinIndex(fields=["tags"], name="resident_tags_gin")]

    def __str__(self) -> str:
        return scoping.mask_name(self.name)
