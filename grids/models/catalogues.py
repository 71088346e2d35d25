"""The catalogues the 一标三实 refer to, held as data so that an administrator extends them
without a release: the kinds of resident tag (care and key-population groups, with levels
where they matter) and the taxonomy of unit types. Seeded by migration 0011."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class TagGroup(models.TextChoices):
    CARE = "care", _("care group")
    KEY = "key", _("key population")
    STATUS = "status", _("status")
    OTHER = "other", _("other")


class CatalogueQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class ResidentTagKind(models.Model):
    """A tag a resident may carry (关爱对象, 重点人群, 身份): residents hold the codes, so a
    code is never renamed once used; deactivating it stops new use."""

    # 20: the width of the residents' tag array (widening it rewrites millions of rows).
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    group = models.CharField(_("group"), max_length=10, choices=TagGroup.choices)
    levels = models.JSONField(
        _("levels"),
        default=list,
        blank=True,
        help_text=_("the level names in order (e.g. 一级, 二级); empty when the tag has none"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident tag kind")
        verbose_name_plural = _("resident tag kinds")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class UnitType(models.Model):
    """A kind of unit (实有单位): a 大类 with its 小类 below it. A figure asked for a 大类
    counts its 小类 too."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit type")
        verbose_name_plural = _("unit types")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name
