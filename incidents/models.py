"""Incidents (事件) and their closed loop: report -> register -> dispatch -> handle -> feed back
-> verify -> close -> assess, escalated up the tree and whistled to departments (#4)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import Department, Grid, Region


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
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("incident category")
        verbose_name_plural = _("incident categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def hours_for(self, step: str, priority: str) -> float | None:
        hours = (self.deadlines.get(priority) or self.deadlines.get(Priority.NORMAL) or {}).get(
            step
        )
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
        sees those whistled or dispatched to it, now or before."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self
        if user.role == "grid_worker":
            return self.filter(grid=user.grid_id) if user.grid_id else self.none()
        if user.role == "department":
            if not user.department_id:
                return self.none()
            return self.filter(
                Q(department=user.department_id) | Q(events__department=user.department_id)
            ).distinct()
        region = user.region
        if region is None:
            return self.none()
        return self.filter(**{region.level: region.pk})

    def open(self):
        return self.exclude(status__in=[Status.CLOSED, Status.ASSESSED])


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
    whistle_class = models.ForeignKey(
        WhistleClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    rework_count = models.PositiveIntegerField(_("times sent back for rework"), default=0)
    due_at = models.DateTimeField(_("current step due"), null=True, blank=True)
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
        ]

    def __str__(self) -> str:
        return self.title


class Action(models.TextChoices):
    REPORT = "report", _("report")
    REGISTER = "register", _("register")
    DISPATCH = "dispatch", _("dispatch")
    ESCALATE = "escalate", _("escalate")
    WHISTLE = "whistle", _("whistle to a department")
    ACKNOWLEDGE = "acknowledge", _("acknowledge")  # 报到 / start handling
    FEED_BACK = "feed_back", _("feed back")
    VERIFY = "verify", _("verify")
    SEND_BACK = "send_back", _("send back")
    TRANSFER = "transfer", _("transfer")
    CLOSE = "close", _("close")
    ASSESS = "assess", _("assess")
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
