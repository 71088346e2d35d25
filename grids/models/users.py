"""Users with their role and jurisdiction (a node of the tree) or their department."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models.tree import Grid, Level, Region


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    COMMUNITY_STAFF = "community_staff", _("community staff")
    STREET_CENTRE = "street_centre", _("street command centre")
    DISTRICT_CENTRE = "district_centre", _("district governance centre")
    DEPARTMENT = "department", _("department")
    ADMINISTRATOR = "administrator", _("administrator")
    # 服务方 (issue #20): acts for a provider of the services list; no place in the tree, so
    # grids.scoping gives it nothing, and the needs app shows it only its own dispatches.
    PROVIDER = "provider", _("service provider")


class Department(models.Model):
    """A line department of the district (交通, 民政, 林业 ...)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    district = models.ForeignKey(
        Region,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level": Level.DISTRICT},
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A platform user: a role and a jurisdiction (a node of the tree) or a department."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("jurisdiction (region)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("jurisdiction (grid)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role=Role.GRID_WORKER, grid__isnull=False, region__isnull=True)
                | Q(
                    role__in=[
                        Role.COMMUNITY_STAFF,
                        Role.STREET_CENTRE,
                        Role.DISTRICT_CENTRE,
                    ],
                    region__isnull=False,
                    grid__isnull=True,
                )
                | Q(role=Role.DEPARTMENT, department__isnull=False, grid__isnull=True)
                | Q(role=Role.ADMINISTRATOR)
                | Q(
                    role=Role.PROVIDER,
                    region__isnull=True,
                    grid__isnull=True,
                    department__isnull=True,
                )
                | Q(role=""),
                name="user_jurisdiction_by_role",
            ),
        ]

    @property
    def sees_personal_data(self) -> bool:
        return scoping.sees_personal_data(self)
