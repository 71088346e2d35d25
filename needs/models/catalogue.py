"""The catalogue of service kinds (服务类别): one list classifies both residents' needs and
providers' offers, so matching is by kind. Seeded by a data migration, edited in the admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    description = models.CharField(_("description"), max_length=200, blank=True)
    days_to_fulfil = models.PositiveSmallIntegerField(_("days allowed to fulfil"), default=7)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service kind")
        verbose_name_plural = _("service kinds")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name
