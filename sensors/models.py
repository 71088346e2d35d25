"""Sensors (物联感知): types as data, devices on the map, their readings, alerts and broadcasts.

A sensor's *role* (camera, voice pole, water tank, detector, other) is what the platform
does with it: fire response looks up water tanks, the cameras whose view sector covers a
point and the poles whose broadcast radius does. A district adds its own *types* (a thermal
camera, a hydrant) with their own property schema, each under one role.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GistIndex
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import SRID, Department, Grid, Region


class Role(models.TextChoices):
    CAMERA = "camera", _("camera")
    VOICE_POLE = "voice_pole", _("voice pole")
    WATER_TANK = "water_tank", _("fire water tank")
    DETECTOR = "detector", _("detector")
    OTHER = "other", _("other")


class Status(models.TextChoices):
    ONLINE = "online", _("online")
    OFFLINE = "offline", _("offline")
    FAULT = "fault", _("fault")
    MAINTENANCE = "maintenance", _("maintenance")


class SensorType(models.Model):
    """A kind of device, defined as data: its role, the JSON Schema its properties must
    satisfy and the JSON Schema of one reading's values. Built-in types have no district; a
    district's own types are seen only there."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OTHER)
    properties_schema = models.JSONField(_("properties schema (JSON Schema)"), default=dict)
    readings_schema = models.JSONField(_("readings schema (JSON Schema)"), default=dict)
    symbol = models.CharField(_("map symbol"), max_length=4, default="•")
    colour = models.CharField(_("map colour"), max_length=7, default="#3b7dd8")
    # Silence after which a device of this type counts as offline; None: the site default.
    offline_after = models.DurationField(_("offline after silence"), null=True, blank=True)
    district = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    builtin = models.BooleanField(_("built in"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sensor type")
        verbose_name_plural = _("sensor types")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def silence(self) -> dt.timedelta:
        return self.offline_after or dt.timedelta(seconds=settings.GRIDLINE_SENSOR_OFFLINE_AFTER)


class Gateway(models.Model):
    """A system that speaks for many devices (a camera platform, a broadcast controller, an
    IoT hub): one token for the sensors it carries and for the analytics alerts it sends."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # sha256 of the token; the token itself is shown once when issued.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    active = models.BooleanField(_("active"), default=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("gateway")
        verbose_name_plural = _("gateways")

    def __str__(self) -> str:
        return self.name


class SensorQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(sensor_q(user))

    def of_role(self, role: str):
        return self.filter(role=role)


def sensor_q(user, prefix: str = "") -> Q:
    """Sensors a user may see: those in the grids of their jurisdiction; a department also
    sees the devices it owns anywhere in its district; the district centre and
    administrators also see devices that fell in no grid."""
    if not (user.is_authenticated and user.is_active):
        return scoping.NOTHING
    if scoping.sees_everything(user):
        return Q()
    q = scoping.grid_q(user, f"{prefix}grid__")
    if user.role == "department" and user.department_id:
        q |= Q(**{f"{prefix}department": user.department_id})
    if user.role == "district_centre" and user.region_id:
        q |= Q(**{f"{prefix}grid__isnull": True, f"{prefix}district": user.region_id})
    return q


class Sensor(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    type = models.ForeignKey(SensorType, on_delete=models.PROTECT, related_name="sensors")
    # Copied from the type on write, so that fire response uses partial indexes per role.
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, editable=False)
    name = models.CharField(_("name"), max_length=200, blank=True)
    location = models.PointField(_("location"), srid=SRID, spatial_index=True)
    # The grid the location lies in, stored on write and re-assigned with boundary changes.
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="sensors"
    )
    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="sensors"
    )
    gateway = models.ForeignKey(
        Gateway, null=True, blank=True, on_delete=models.SET_NULL, related_name="sensors"
    )
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OFFLINE
    )
    last_seen_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    # The newest reading's values and time (readings arriving late do not overwrite it).
    latest = models.JSONField(_("latest reading"), default=dict, blank=True)
    latest_at = models.DateTimeField(_("latest reading at"), null=True, blank=True)
    # What the device reaches on the ground: a camera's view sector, a pole's broadcast
    # circle (computed from the properties on write; None for other roles).
    coverage = models.PolygonField(
        _("coverage"), srid=SRID, null=True, blank=True, spatial_index=False
    )
    # sha256 of the device's own token, for devices that report without a gateway.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SensorQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("sensor")
        verbose_name_plural = _("sensors")
        indexes = [
            models.Index(fields=["grid", "role"]),
            models.Index(fields=["type", "status"]),
            # Each sensor type is an OGC collection (ogc), paged by code within its type.
            models.Index(fields=["type", "code"], name="sensor_type_code"),
            # The offline sweep reads only devices believed online, oldest heartbeat first.
            models.Index(
                fields=["last_seen_at"],
                name="sensor_online_seen",
                condition=Q(status="online"),
            ),
            GistIndex(
                fields=["coverage"],
                name="sensor_coverage_gist",
                condition=Q(coverage__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class Reading(models.Model):
    """One time-stamped set of values of one sensor. The table is partitioned by month on
    `at` (migration 0002, maintained by `services.readings`), keyed by (sensor, at) so a
    resent reading is stored once, with a BRIN index on `at` for time ranges."""

    pk = models.CompositePrimaryKey("sensor_id", "at")
    sensor = models.ForeignKey(Sensor, on_delete=models.DO_NOTHING, related_name="+")
    at = models.DateTimeField(_("time"))
    received_at = models.DateTimeField(_("received"))
    values = models.JSONField(_("values"))

    class Meta:
        # The partitioned table is created by migration 0002's SQL; Django knows it as
        # managed only so that test flushes truncate it with the sensors it refers to.
        db_table = "sensors_reading"
        verbose_name = _("reading")
        verbose_name_plural = _("readings")


class AlertKind(models.TextChoices):
    OFFLINE = "offline", _("offline")
    FAULT = "fault", _("fault")
    LOW_LEVEL = "low_level", _("water level low")
    SMOKE_FIRE = "smoke_fire", _("smoke or fire")
    THROWN_OBJECT = "thrown_object", _("object thrown from height")
    CROWD = "crowd", _("crowd gathering")
    FIRE_LANE_BLOCKED = "fire_lane_blocked", _("fire lane blocked")
    WALL_CLIMBING = "wall_climbing", _("climbing a wall")


class SensorAlert(models.Model):
    """Something a device or its analytics reported, open until it ends. Repeats of the same
    alert within the de-duplication window add to `count` instead of a new alert."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=30, choices=AlertKind.choices)
    started_at = models.DateTimeField(_("started"))
    last_at = models.DateTimeField(_("last seen"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    count = models.PositiveIntegerField(_("times reported"), default=1)
    gateway = models.ForeignKey(
        Gateway, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sender's own event id: a resent webhook call is recognised by it.
    external_id = models.CharField(max_length=100, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sensor_alerts",
    )
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("sensor alert")
        verbose_name_plural = _("sensor alerts")
        indexes = [
            models.Index(fields=["kind", "last_at"]),
            models.Index(
                fields=["sensor", "kind"],
                name="sensor_alert_open",
                condition=Q(ended_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "external_id"],
                name="sensor_alert_external_once",
                condition=~Q(external_id=""),
            )
        ]


class Broadcast(models.Model):
    """One-key dispatch (一键调度): a message sent to the chosen voice poles."""

    message = models.TextField(_("message"))
    repeat = models.PositiveSmallIntegerField(_("times to play"), default=2)
    point = models.PointField(_("fire point"), srid=SRID, null=True, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adapter = models.CharField(_("gateway adapter"), max_length=20)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    FAILED = "failed", _("failed")


class Delivery(models.Model):
    """One pole's part of a broadcast: queued → sent → acknowledged, or failed after the
    last retry. A broker that is down leaves it queued with its next attempt set."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="deliveries")
    pole = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="deliveries")
    state = models.CharField(
        _("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["broadcast", "pole__code"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "pole"], name="delivery_once_per_pole")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due", condition=Q(state="queued")
            ),
        ]


class GridCoverage(models.Model):
    """The share of a grid's area that at least one camera's view sector covers (terrain
    and buildings are not modelled), recomputed when a camera or the boundary changes."""

    grid = models.OneToOneField(
        Grid, primary_key=True, on_delete=models.CASCADE, related_name="camera_coverage"
    )
    area_m2 = models.FloatField(_("area (m²)"))
    covered_m2 = models.FloatField(_("covered (m²)"))
    share = models.FloatField(_("share covered"))
    cameras = models.PositiveIntegerField(_("cameras"))
    stale = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("camera coverage of a grid")
        verbose_name_plural = _("camera coverage of grids")
