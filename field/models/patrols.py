"""Patrols (巡查) recorded on the phone (issue #18): a GPS track with distance and time, the
incidents found on the way, and the evidence of completed tasks."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SRID = 4326


class Patrol(models.Model):
    client_key = models.UUIDField(_("client key"), unique=True)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("worker"),
        on_delete=models.PROTECT,
        related_name="patrols",
    )
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    track = models.LineStringField(_("track"), srid=SRID, null=True, blank=True)
    points = models.JSONField(
        _("points"), default=list, help_text=_("[lon, lat, time, accuracy in metres] per fix")
    )
    distance_m = models.FloatField(_("distance (m)"), default=0)
    duration_s = models.IntegerField(_("duration (s)"), default=0)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["worker", "started_at"], name="patrol_worker_started"),
            models.Index(fields=["grid", "started_at"], name="patrol_grid_started"),
        ]

    def __str__(self) -> str:
        return f"{self.worker} {self.started_at:%Y-%m-%d %H:%M}"


class PatrolIncident(models.Model):
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="incident_links")
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="patrol_links"
    )

    class Meta:
        verbose_name = _("patrol incident")
        verbose_name_plural = _("patrol incidents")
        constraints = [
            models.UniqueConstraint(fields=["patrol", "incident"], name="patrol_incident_unique")
        ]

    def __str__(self) -> str:
        return f"{self.patrol_id}:{self.incident_id}"


class TaskCompletion(models.Model):
    task = models.OneToOneField(
        "incidents.Task",
        verbose_name=_("task"),
        on_delete=models.CASCADE,
        related_name="completion",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    patrol = models.ForeignKey(
        Patrol,
        verbose_name=_("patrol"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="task_completions",
    )
    photos = models.JSONField(
        _("photos"), default=list, help_text=_("stored names of the photos, under field/")
    )
    completed_at = models.DateTimeField(_("completed"), default=timezone.now)

    class Meta:
        verbose_name = _("task completion")
        verbose_name_plural = _("task completions")

    def __str__(self) -> str:
        return f"{self.task_id}"
