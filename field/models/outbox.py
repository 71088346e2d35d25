"""What the phones pushed (issue #18): one receipt per applied outbox item, keyed by the
phone's client key, so a resend answers the first result instead of writing twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxReceipt(models.Model):
    client_key = models.UUIDField(_("client key"), unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    device = models.ForeignKey(
        "field.Device",
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="receipts",
    )
    kind = models.CharField(_("kind"), max_length=40)
    target_id = models.BigIntegerField(_("target"), null=True, blank=True)
    status_code = models.SmallIntegerField(_("status code"))
    result = models.JSONField(_("result"), default=dict)
    # The phone's clock, kept as reported; every record's own time is the server's.
    client_time = models.DateTimeField(_("reported at (phone)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("outbox receipt")
        verbose_name_plural = _("outbox receipts")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_key}"
