"""Change sets: every edit of one redraw of grid boundaries, kept as a draft until it is
approved and applied as new boundary versions (grids.models.GridBoundary)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import SRID, Grid, Region


class Status(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted for approval")
    RETURNED = "returned", _("returned for changes")
    APPROVED = "approved", _("approved")
    APPLIED = "applied", _("applied")
    WITHDRAWN = "withdrawn", _("withdrawn")


# A change set in one of these holds the grids it touches: another cannot touch them.
OPEN = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED)
# The author may edit in these.
EDITABLE = (Status.DRAFT, Status.RETURNED)


class Kind(models.TextChoices):
    EDIT = "edit", _("drawn on the map")
    FILE = "file", _("imported from a file")
    RESTORE = "restore", _("restores an earlier version")


class ChangeSetQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Change sets of the regions under the user's jurisdiction; a grid worker sees those
        of their grid's community. Departments take no part in boundary changes."""
        if not user.is_authenticated or user.role == "department":
            return self.none()
        if scoping.sees_everything(user):
            return self
        if user.role == "grid_worker":
            return self.filter(region__grids=user.grid_id).distinct()
        region = scoping.jurisdiction_region(user)
        if region is None:
            return self.none()
        return self.filter(scoping.region_under_q(region, prefix="region__"))

    def open(self):
        return self.filter(status__in=OPEN)

    def holding(self, now: dt.datetime | None = None):
        """Change sets that hold their grids now: submitted or approved ones, and drafts
        whose author's lock has not expired. An expired draft holds nothing until its author
        extends the lock again."""
        now = now or timezone.now()
        return self.filter(
            Q(status__in=[Status.SUBMITTED, Status.APPROVED])
            | Q(status__in=EDITABLE, lock_expires_at__gt=now)
        )


class ChangeSet(models.Model):
    """边界变更: all edits of one redraw of the grids of a community (or of a whole street,
    for a re-gridding), with its author's lock and the approval steps."""

    title = models.CharField(_("title"), max_length=200)
    region = models.ForeignKey(
        Region,
        verbose_name=_("community or street"),
        on_delete=models.PROTECT,
        related_name="change_sets",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.EDIT)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="change_sets",
    )
    lock_expires_at = models.DateTimeField(_("author's lock expires at"))
    # The day the new boundaries start; None: the day it is applied.
    valid_from = models.DateField(_("new boundaries valid from"), null=True, blank=True)
    # Position in the undo history: steps up to it are done, later ones can be redone.
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("raised on every edit, for optimistic locking")
    )
    comment = models.TextField(_("reviewer's comment"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    # What the apply did: households, residents, sensors... moved, per kind (impact figures).
    applied_summary = models.JSONField(default=dict, blank=True)

    objects = ChangeSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("boundary change set")
        verbose_name_plural = _("boundary change sets")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "status"], name="changeset_region_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def locked(self) -> bool:
        return self.status in EDITABLE and self.lock_expires_at > timezone.now()


class ItemQuerySet(models.QuerySet):
    def new_grids(self):
        return self.filter(grid__isnull=True)

    def retiring(self):
        return self.filter(geom__isnull=True)


class ChangeSetItem(models.Model):
    """The proposed state of one grid in a change set: its new boundary (None: the grid is
    retired, e.g. merged into a neighbour), or a new grid (grid None) with its code and name.
    Grids of the region that have no item keep their current boundary."""

    change_set = models.ForeignKey(ChangeSet, on_delete=models.CASCADE, related_name="items")
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="change_items"
    )
    # The grid's version when the draft first touched it: a grid changed since is stale.
    base_version = models.PositiveIntegerField(null=True, blank=True)
    community = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", limit_choices_to={"level": "community"}
    )
    code = models.CharField(_("code"), max_length=15)
    name = models.CharField(_("name"), max_length=100)
    geom = models.MultiPolygonField(_("proposed boundary"), srid=SRID, null=True, blank=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("change set item")
        verbose_name_plural = _("change set items")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["change_set", "grid"], name="changeset_item_grid_once"),
            models.UniqueConstraint(fields=["change_set", "code"], name="changeset_item_code_once"),
            # A new grid must have a boundary: retiring applies to existing grids only.
            models.CheckConstraint(
                condition=Q(grid__isnull=False) | Q(geom__isnull=False),
                name="changeset_item_new_has_geom",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @classmethod
    def of_grid(cls, change_set: ChangeSet, grid: Grid, geom, *, name: str | None = None):
        """An (unsaved) item proposing `geom` (GEOS; None retires it) for an existing grid,
        based on the grid's version now."""
        return cls(
            change_set=change_set,
            grid=grid,
            base_version=grid.version,
            community_id=grid.community_id,
            code=grid.code,
            name=grid.name if name is None else name,
            geom=geom,
        )

    @property
    def action(self) -> str:
        if self.grid_id is None:
            return "new"
        return "retire" if self.geom is None else "reshape"


class ChangeSetStep(models.Model):
    """One edit (reshape, split, merge, new, ...) with the items it touched before and after,
    so that it can be undone and redone, also in a later session. `before`/`after` map an
    item code to its state ({"grid", "community", "name", "base_version", "geom" as hex
    EWKB or null}) or null when the item did not exist."""

    change_set = models.ForeignKey(ChangeSet, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveIntegerField()
    operation = models.CharField(max_length=20)
    summary = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["change_set", "number"], name="changeset_step_once")
        ]


class ChangeSetEvent(models.Model):
    """The approval trail: created, submitted, returned (with the comment), approved,
    applied, withdrawn, lock extended, taken over."""

    change_set = models.ForeignKey(ChangeSet, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
