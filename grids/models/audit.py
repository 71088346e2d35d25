"""The audit log: reads of unmasked personal data and other acts that must be traceable."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLog(models.Model):
    """Reads of unmasked personal data, and other acts that must be traceable."""

    class Action(models.TextChoices):
        READ_PERSONAL = "read_personal", _("read personal data")
        EXPORT = "export", _("export")
        EDIT = "edit", _("edit")

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
