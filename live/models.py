from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    INCIDENT_CREATED = "incident.created", _("incident reported")
    INCIDENT_CHANGED = "incident.changed", _("incident changed")
    SENSOR_STATUS = "sensor.status", _("sensor status")
    ALERT_OPENED = "alert.opened", _("alert opened")
    ALERT_CLOSED = "alert.closed", _("alert closed")
    NEED_CREATED = "need.created", _("need raised")
    NEED_CHANGED = "need.changed", _("need changed")


class Rule(models.TextChoices):
    """Which visible_to rule decides who receives the event (live/scope.py mirrors them)."""

    INCIDENT = "incident", _("incident")
    SENSOR = "sensor", _("sensor")


class Event(models.Model):
    """One live event. The row is the catch-up log behind Last-Event-ID and carries the
    scope keys of its object, so the stream decides who receives it without a query per
    event and user. Plain integers, not foreign keys: the log outlives a deleted grid or
    department and must never block one."""

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    rule = models.CharField(max_length=10, choices=Rule.choices)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    layers = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    object = models.JSONField(default=dict)
    grid_id = models.IntegerField(null=True)
    community_id = models.IntegerField(null=True)
    street_id = models.IntegerField(null=True)
    district_id = models.IntegerField(null=True)
    departments = ArrayField(models.IntegerField(), default=list, blank=True)

    class Meta:
        verbose_name = _("live event")
        verbose_name_plural = _("live events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.kind}"
