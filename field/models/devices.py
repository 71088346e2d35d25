"""Phones of grid workers (issue #18). Each device holds one device token (grids.ApiToken of
kind "device"); revoking the device revokes the token, and the phone wipes its working set on
its next contact and confirms it (wiped_at)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Device(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="field_devices",
    )
    # PROTECT: the token row is the audit trail of what the phone could do; it is revoked,
    # never deleted while the device exists.
    token = models.OneToOneField(
        "grids.ApiToken",
        verbose_name=_("token"),
        on_delete=models.PROTECT,
        related_name="device",
    )
    name = models.CharField(_("name"), max_length=100)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    wiped_at = models.DateTimeField(
        _("wiped"),
        null=True,
        blank=True,
        help_text=_("when the phone confirmed that it cleared its data"),
    )

    class Meta:
        verbose_name = _("field device")
        verbose_name_plural = _("field devices")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
