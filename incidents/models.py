"""Incidents (事件) and their closed loop: report -> register -> dispatch -> handle -> feed back
-> verify -> close -> assess, escalated up the tree and whistled to departments (#4)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Exists, F, FloatField, Func, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import Department, Grid, Region, User


class Priority(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    CRITICAL = "critical", _("critical")


class Source(models.TextChoices):
    PATROL = "patrol", _("grid patrol")
    RESIDENT = "resident", _("resident")
    HOTLINE = "hotline", _("hotline 12345")
    SENSOR = "sensor", _("sensor alert")
    INSPECTION = "inspection", _("inspection")


class Status(models.TextChoices):
    REPORTED = "reported", _("reported")  # 上报
    REGISTERED = "registered", _("registered")  # 立案
    DISPATCHED = "dispatched", _("dispatched")  # 派遣
    HANDLING = "handling", _("being handled")  # 处置
    FED_BACK = "fed_back", _("fed back")  # 反馈
    VERIFIED = "verified", _("verified")  # 核查
    CLOSED = "closed", _("closed")  # 结案
    ASSESSED = "assessed", _("assessed")  # 评价


class Level(models.TextChoices):
    """Who holds the incident: a level of the tree, or a department it was whistled to."""

    GRID = "grid", _("grid")
    COMMUNITY = "community", _("community")
    STREET = "street", _("street command centre")
    DISTRICT = "district", _("district governance centre")
    DEPARTMENT = "department", _("department")


class Category(models.Model):
    """A class of incident from the coded catalogue (digital urban management standard), with
    the department usually responsible and a deadline in hours per step and priority:
    deadlines = {"normal": {"register": 2, "dispatch": 4, ...}, "urgent": {...}}."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deadlines = models.JSONField(_("deadlines (hours per priority and step)"), default=dict)
    escalate_when_overdue = models.BooleanField(
        _("escalate one level when a step is overdue"), default=False
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("incident category")
        verbose_name_plural = _("incident categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def hours_for(self, step: str, priority: str) -> float | None:
        """Hours allowed for a step: the category's own figure for the priority, else its
        normal-priority figure, else the platform default (settings.GRIDLINE_STEP_HOURS)."""
        for table in (self.deadlines.get(priority), self.deadlines.get(Priority.NORMAL)):
            if table and table.get(step) is not None:
                return float(table[step])
        hours = settings.GRIDLINE_STEP_HOURS.get(step)
        return float(hours) if hours is not None else None


class WhistleClass(models.Model):
    """吹哨快响: a class of matter whistled to a department, with its own deadlines to
    acknowledge (报到) and to report back."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    acknowledge_hours = models.FloatField(_("hours to acknowledge"))
    report_back_hours = models.FloatField(_("hours to report back"))

    class Meta:
        verbose_name = _("whistle class")
        verbose_name_plural = _("whistle classes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The tree roles see the incidents located in their jurisdiction; a department
        sees those whistled or dispatched to it, now or before, and those its users
        reported (a department may report in its district: it reads its own reports)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self
        if user.role == "grid_worker":
            return self.filter(grid=user.grid_id) if user.grid_id else self.none()
        if user.role == "department":
            if not user.department_id:
                return self.none()
            # Exists, not a join: no DISTINCT, so the rows can be locked for a step.
            return self.filter(
                Q(department=user.department_id)
                | Exists(
                    IncidentEvent.objects.filter(
                        incident=OuterRef("pk"), department=user.department_id
                    )
                )
                | Exists(
                    User.objects.filter(pk=OuterRef("reporter"), department=user.department_id)
                )
            )
        region = user.region
        if region is None:
            return self.none()
        return self.filter(**{region.level: region.pk})

    def open(self):
        return self.exclude(status__in=[Status.CLOSED, Status.ASSESSED])

    def queue_rows(self):
        """The rows of a queue page as dicts with the related codes and the point's
        coordinates: no model instances or geometries built per row."""
        return self.values(
            "id",
            "title",
            "priority",
            "source",
            "status",
            "level",
            "community_id",
            "street_id",
            "district_id",
            "reported_at",
            "due_at",
            "step_overdue",
            "overdue_count",
            "rework_count",
            "closed_at",
            "version",
            category_code=F("category__code"),
            category_name=F("category__name"),
            department_code=F("department__code"),
            whistle_code=F("whistle_class__code"),
            grid_code=F("grid__code"),
            lon=Func("location", function="ST_X", output_field=FloatField()),
            lat=Func("location", function="ST_Y", output_field=FloatField()),
        )

    def overdue(self):
        return self.open().filter(step_overdue=True)

    def held_by(self, user):
        """'Mine': the open incidents waiting on a level the user acts for."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self.open()
        level, key, own = {
            "grid_worker": (Level.GRID, "grid", user.grid_id),
            "community_staff": (Level.COMMUNITY, "community", user.region_id),
            "street_centre": (Level.STREET, "street", user.region_id),
            "district_centre": (Level.DISTRICT, "district", user.region_id),
            "department": (Level.DEPARTMENT, "department", user.department_id),
        }.get(user.role, (None, None, None))
        if own is None:
            return self.none()
        return self.open().filter(level=level, **{key: own})

    def whistled_for(self, user):
        """吹哨: open incidents whistled to the user's department, or, for a centre, the ones
        it whistled."""
        whistled = self.open().filter(whistle_class__isnull=False)
        if user.role == "department":
            return whistled.filter(department=user.department_id)
        if user.role in ("street_centre", "district_centre") and user.region_id:
            level = Level.STREET if user.role == "street_centre" else Level.DISTRICT
            return whistled.filter(dispatcher_level=level, **{level: user.region_id})
        return whistled if scoping.sees_everything(user) else whistled.none()


class Incident(models.Model):
    """An incident at a point. Its grid, community, street and district are stored when it is
    reported, from the point (the foundation's keying rule), so queues and figures are
    plain filters on indexed keys."""

    client_key = models.UUIDField(
        _("client key"),
        unique=True,
        default=uuid.uuid4,
        help_text=_("sent by the reporting device; a resend with it creates nothing new"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    location = models.PointField(_("location"), srid=4326)
    grid = models.ForeignKey(Grid, null=True, on_delete=models.PROTECT, related_name="+")
    # The grid it was reported in, kept when a boundary change has since re-keyed the open
    # incident to another grid (null: `grid` is still that grid): figures of the period it
    # was reported in count it where it was then.
    reported_grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey(Region, null=True, on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey(Region, null=True, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(Region, null=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REPORTED
    )
    level = models.CharField(_("held by"), max_length=12, choices=Level.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The level that dispatched or whistled the incident: it verifies the handling and closes.
    dispatcher_level = models.CharField(max_length=12, choices=Level.choices, blank=True)
    # Who handles it once dispatched: the dispatching level itself, or `department`.
    handler_level = models.CharField(max_length=12, choices=Level.choices, blank=True)
    whistle_class = models.ForeignKey(
        WhistleClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    rework_count = models.PositiveIntegerField(_("times sent back for rework"), default=0)
    due_at = models.DateTimeField(_("current step due"), null=True, blank=True)
    step_overdue = models.BooleanField(_("current step overdue"), default=False)
    overdue_count = models.PositiveIntegerField(_("steps overdue"), default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    department_score = models.PositiveSmallIntegerField(
        _("department's handling (1-5)"), null=True, blank=True
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("reporter's satisfaction (1-5)"), null=True, blank=True
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["street", "status", "-reported_at"], name="incident_street_queue"),
            models.Index(fields=["grid", "status"], name="incident_grid_status"),
            models.Index(fields=["department", "status"], name="incident_department_status"),
            models.Index(fields=["status", "due_at"], name="incident_due"),
            models.Index(fields=["category", "reported_at"], name="incident_category_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(department_score__range=(1, 5)) | Q(department_score__isnull=True),
                name="incident_department_score_1_5",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__range=(1, 5)) | Q(satisfaction__isnull=True),
                name="incident_satisfaction_1_5",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Action(models.TextChoices):
    REPORT = "report", _("report")
    REGISTER = "register", _("register")
    DISMISS = "dismiss", _("dismiss")  # 不予立案
    DISPATCH = "dispatch", _("dispatch")
    ESCALATE = "escalate", _("escalate")
    WHISTLE = "whistle", _("whistle to a department")
    ACKNOWLEDGE = "acknowledge", _("acknowledge")  # 报到 / start handling
    FEED_BACK = "feed_back", _("feed back")
    VERIFY = "verify", _("verify")
    REWORK = "rework", _("rework")  # 返工: verification failed
    SEND_BACK = "send_back", _("send back")  # 退回
    TRANSFER = "transfer", _("transfer")
    CLOSE = "close", _("close")
    ASSESS = "assess", _("assess")
    MERGE = "merge", _("merge")
    OVERDUE = "overdue", _("overdue")


class IncidentEvent(models.Model):
    """One step of an incident's timeline: who did what, when, with what comment. Rows are
    only ever added; a database trigger refuses updates and deletes (migration 0001)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    level = models.CharField(_("held by"), max_length=12, choices=Level.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"], name="incident_event_timeline")]


def photo_path(photo: IncidentPhoto, filename: str) -> str:
    # The name is ours: a phone's file name says nothing and may say too much.
    return f"incidents/{photo.incident_id}/{uuid.uuid4().hex}.{photo.extension}"


class IncidentPhoto(models.Model):
    """A photo sent with a report or a step (before / after handling)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="photos")
    event = models.ForeignKey(
        IncidentEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to=photo_path)
    extension = models.CharField(max_length=5)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("incident photo")
        verbose_name_plural = _("incident photos")
        ordering = ["at", "id"]


class TaskKind(models.TextChoices):
    VISIT = "visit", _("household visits")  # 走访
    PATROL = "patrol", _("patrol")  # 巡查
    OTHER = "other", _("other")


class TaskQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A grid worker sees the tasks of the grid; the tree roles those of the grids under
        their jurisdiction (the foundation's grid rule)."""
        return self.filter(scoping.grid_q(user, prefix="grid__"))

    def open(self):
        return self.filter(done_at__isnull=True)


class Task(models.Model):
    """Work given to a grid worker, or to the grid's team when no one is named, due by a
    date: e.g. visit the key-population households of a grid this month."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=TaskKind.choices)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    due_on = models.DateField(_("due on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["grid", "due_on"], name="task_grid_due")]

    def __str__(self) -> str:
        return self.title


class VisitQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The household rule, not the grid rule: a visit names a household and where the
        worker stood beside it, so a role that sees no households (a department) sees no
        visits, and the district centre also sees visits to households in no grid."""
        return self.filter(scoping.household_q(user, prefix="household__"))


class Visit(models.Model):
    """A grid worker's visit to a household, with where the phone was: flagged when that is
    farther from the household than settings.GRIDLINE_VISIT_DISTANCE_M."""

    client_key = models.UUIDField(unique=True, default=uuid.uuid4)
    household = models.ForeignKey(
        "grids.Household", on_delete=models.PROTECT, related_name="visits"
    )
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    location = models.PointField(_("where the worker was"), srid=4326)
    distance_m = models.FloatField(_("distance from the household (m)"))
    flagged = models.BooleanField(_("too far from the household"), default=False)
    visited_at = models.DateTimeField(_("visited at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["household", "visited_at"], name="visit_household_time")]


class TaskTarget(models.Model):
    """A household a task asks to be visited, and the visit that did it."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="targets")
    household = models.ForeignKey("grids.Household", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="targets"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "household"], name="task_target_once")
        ]
        indexes = [models.Index(fields=["household"], name="task_target_household")]
