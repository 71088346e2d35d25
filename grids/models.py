"""The jurisdiction tree (district > street > community > grid), boundary versions,
households and residents, users with their role and jurisdiction, and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping

SRID = 4326


def today() -> dt.date:
    return timezone.localdate()


def new_client_key() -> str:
    return uuid.uuid4().hex


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


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    COMMUNITY_STAFF = "community_staff", _("community staff")
    STREET_CENTRE = "street_centre", _("street command centre")
    DISTRICT_CENTRE = "district_centre", _("district governance centre")
    DEPARTMENT = "department", _("department")
    ADMINISTRATOR = "administrator", _("administrator")


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
        the bulk importer applies the same rule (grids/sql.py).
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


class Department(models.Model):
    """A line department of the district (交通, 民政, 林业 ...)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    district = models.ForeignKey(
        Region,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level": Level.DISTRICT},
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A platform user: a role and a jurisdiction (a node of the tree) or a department."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("jurisdiction (region)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("jurisdiction (grid)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role=Role.GRID_WORKER, grid__isnull=False, region__isnull=True)
                | Q(
                    role__in=[
                        Role.COMMUNITY_STAFF,
                        Role.STREET_CENTRE,
                        Role.DISTRICT_CENTRE,
                    ],
                    region__isnull=False,
                    grid__isnull=True,
                )
                | Q(role=Role.DEPARTMENT, department__isnull=False, grid__isnull=True)
                | Q(role=Role.ADMINISTRATOR)
                | Q(role=""),
                name="user_jurisdiction_by_role",
            ),
        ]

    @property
    def sees_personal_data(self) -> bool:
        return scoping.sees_personal_data(self)


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


class AuditLog(models.Model):
    """Reads of unmasked personal data, and other acts that must be traceable."""

    class Action(models.TextChoices):
        READ_PERSONAL = "read_personal", _("read personal data")
        EXPORT = "export", _("export")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    model = models.CharField(_("model"), max_length=50)
    object_ids = ArrayField(models.BigIntegerField(), verbose_name=_("objects"), default=list)
    channel = models.CharField(_("channel"), max_length=20, help_text=_("api, admin, export ..."))
    path = models.CharField(_("path"), max_length=255, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]


# People's API tokens live in their own module (issue #15); imported here so Django finds them.
from grids.tokens import ApiToken  # noqa: E402, F401
