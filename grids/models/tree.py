"""The jurisdiction tree (district > street > community > grid) and its boundary versions,
valid over [valid_from, valid_to) periods."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping

SRID = 4326


def today() -> dt.date:
    return timezone.localdate()


class Level(models.TextChoices):
    DISTRICT = "district", _("district / county")
    STREET = "street", _("street / town")
    COMMUNITY = "community", _("community / village")


# GB/T 2260 district code (6 digits) + 3 digits each for street, community and grid.
CODE_LENGTH = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
GRID_CODE_LENGTH = 15
PARENT_LEVEL = {Level.STREET: Level.DISTRICT, Level.COMMUNITY: Level.STREET}


class Theme(models.TextChoices):
    GOVERNANCE = "governance", _("comprehensive governance")
    FOREST_FIRE = "forest_fire", _("forest fire prevention")
    SAFETY = "safety", _("work safety")


class Colour(models.TextChoices):
    """三色管理: red = high risk / low satisfaction, yellow = watch, blue = steady."""

    RED = "red", _("red")
    YELLOW = "yellow", _("yellow")
    BLUE = "blue", _("blue")


class ValidityQuerySet(models.QuerySet):
    """Rows with a [valid_from, valid_to) period; an open period has valid_to = NULL."""

    def valid_on(self, on: dt.date | None = None):
        on = on or today()
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on), valid_from__lte=on)

    def current(self):
        return self.filter(valid_to__isnull=True)


class RegionQuerySet(ValidityQuerySet):
    def visible_to(self, user):
        return self.filter(scoping.region_q(user))

    def containing(self, point, on: dt.date | None = None):
        return self.filter(
            pk__in=RegionBoundary.objects.valid_on(on)
            .filter(geom__intersects=point)
            .values("region_id")
        )


class Region(models.Model):
    """A node of the administrative tree above the grid: district, street/town, community."""

    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    code = models.CharField(
        _("code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3}){0,2}$", _("6, 9 or 12 digits"))],
        help_text=_("GB/T 2260 district code, then 3 digits for street and community"),
    )
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    valid_from = models.DateField(_("valid from"), default=today)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    full_coverage = models.BooleanField(
        _("grids must cover every community"),
        default=True,
        help_text=_(
            "district: a boundary change may not leave ground of a community in no grid "
            "(a gap is then an error, not a warning)"
        ),
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=Level.DISTRICT, parent__isnull=True)
                | (~Q(level=Level.DISTRICT) & Q(parent__isnull=False)),
                name="region_parent_by_level",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="region_valid_period",
            ),
        ]
        indexes = [models.Index(fields=["level", "parent"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def boundary_on(self, on: dt.date | None = None):
        version = self.boundaries.valid_on(on).first()
        return version.geom if version else None


class GridQuerySet(ValidityQuerySet):
    def visible_to(self, user):
        return self.filter(scoping.grid_q(user))

    def containing(self, point, on: dt.date | None = None, theme: str = Theme.GOVERNANCE):
        """Grids whose boundary valid on `on` covers `point`, smallest code first.

        A point on an edge shared by two grids belongs to the one with the smallest code;
        the bulk importer applies the same rule (grids/sql/bulk.py).
        """
        return (
            self.valid_on(on)
            .filter(
                theme=theme,
                pk__in=GridBoundary.objects.valid_on(on)
                .filter(geom__intersects=point)
                .values("grid_id"),
            )
            .order_by("code")
        )

    def under(self, region: Region):
        return self.filter(scoping.grid_under_q(region))


class Grid(models.Model):
    """网格: the smallest management area, with its responsible staff."""

    code = models.CharField(
        _("code"),
        max_length=GRID_CODE_LENGTH,
        unique=True,
        validators=[RegexValidator(r"^\d{15}$", _("15 digits"))],
        help_text=_("community code + 3-digit grid number"),
    )
    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(
        Region,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": Level.COMMUNITY},
    )
    theme = models.CharField(
        _("theme"), max_length=16, choices=Theme.choices, default=Theme.GOVERNANCE
    )
    colour = models.CharField(
        _("three-colour status"), max_length=8, choices=Colour.choices, default=Colour.BLUE
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_grids",
    )
    workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid workers"),
        blank=True,
        related_name="staffed_grids",
    )
    valid_from = models.DateField(_("valid from"), default=today)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("raised on every change, for optimistic locking")
    )

    objects = GridQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="grid_valid_period",
            ),
        ]
        indexes = [models.Index(fields=["community", "theme"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def boundary_on(self, on: dt.date | None = None):
        version = self.boundaries.valid_on(on).first()
        return version.geom if version else None


class BoundaryVersion(models.Model):
    """One version of a boundary. A redraw closes the open version (valid_to) and opens a new
    one; nothing is deleted, so the boundaries valid on any date can be asked for."""

    geom = models.MultiPolygonField(_("boundary"), srid=SRID, spatial_index=True)
    valid_from = models.DateField(_("valid from"), default=today)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-valid_from"]


class RegionBoundary(BoundaryVersion):
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="boundaries"
    )

    class Meta(BoundaryVersion.Meta):
        verbose_name = _("region boundary version")
        verbose_name_plural = _("region boundary versions")
        constraints = [
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(valid_to__isnull=True),
                name="one_open_region_boundary",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="region_boundary_valid_period",
            ),
        ]


class GridBoundary(BoundaryVersion):
    grid = models.ForeignKey(
        Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="boundaries"
    )

    class Meta(BoundaryVersion.Meta):
        verbose_name = _("grid boundary version")
        verbose_name_plural = _("grid boundary versions")
        constraints = [
            models.UniqueConstraint(
                fields=["grid"], condition=Q(valid_to__isnull=True), name="one_open_grid_boundary"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="grid_boundary_valid_period",
            ),
        ]
