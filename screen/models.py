"""Kiosk logins of the wall screen: a link that opens /screen/ as a read-only, long session of
one jurisdiction, for a browser left running on a wall. Issued by a district or street centre
(or an administrator) for a region of its jurisdiction, shown once, stored as a sha256 digest,
revocable, with the time it was last seen.

Each kiosk acts through its own service user (role by the region's level, no usable password),
so every scoped queryset, the event stream and the map's style and tiles treat the screen
exactly as a user of that jurisdiction, and revoking deactivates that user: every session and
every stream of the kiosk ends, whichever process serves it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import Region


class KioskQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def visible_to(self, user):
        """The kiosks of regions the user may see (an administrator: all)."""
        return self.filter(region__in=Region.objects.visible_to(user))


class Kiosk(models.Model):
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    # The service account the screen's sessions belong to (one per kiosk).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kiosk", editable=False
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    # The first characters of the secret, so kiosks can be told apart in a list.
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = KioskQuerySet.as_manager()

    class Meta:
        verbose_name = _("kiosk login")
        verbose_name_plural = _("kiosk logins")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
