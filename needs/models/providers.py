"""Providers (服务方) and their offers, the lines of the services list (服务清单): units,
co-building units, volunteers and registered party members (报到党员), registered with a
community (双报到) and confirmed by it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids import scoping
from grids.models import SRID, Grid, Region, Unit
from needs.models.catalogue import ServiceKind
from needs.models.fields import user_link


class ProviderKind(models.TextChoices):
    UNIT = "unit", pgettext_lazy("provider kind", "unit")  # 实有单位
    CO_BUILDING = "co_building", pgettext_lazy("provider kind", "co-building unit")  # 共建单位
    VOLUNTEER = "volunteer", pgettext_lazy("provider kind", "volunteer")  # 志愿者
    PARTY_MEMBER = (
        "party_member",
        pgettext_lazy("provider kind", "registered party member"),
    )  # 报到党员


class ProviderStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("provider status", "pending confirmation")  # 待确认
    CONFIRMED = "confirmed", pgettext_lazy("provider status", "confirmed")  # 已确认
    REFUSED = "refused", pgettext_lazy("provider status", "refused")  # 未通过
    SUSPENDED = "suspended", pgettext_lazy("provider status", "suspended")  # 已暂停


# A person's name and phone: masked like residents' for roles without personal data.
PERSON_KINDS = frozenset({ProviderKind.VOLUNTEER, ProviderKind.PARTY_MEMBER})


class ProviderQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Tree roles: providers registered with a community under their region; a grid worker
        reads its own community's confirmed providers; a provider's users their own; a
        department none (personal data and no part in the loop)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self
        role = getattr(user, "role", "")
        if role == "provider":
            return self.filter(users=user)
        if role == "grid_worker":
            if not user.grid_id:
                return self.none()
            return self.filter(community=user.grid.community_id, status=ProviderStatus.CONFIRMED)
        if role in scoping.TREE_ROLES and user.region_id:
            return self.filter(scoping.region_under_q(user.region, "community__"))
        return self.none()

    def confirmed(self):
        return self.filter(status=ProviderStatus.CONFIRMED)


class Provider(models.Model):
    PERSONAL_FIELDS = ("name", "phone")

    kind = models.CharField(_("kind"), max_length=12, choices=ProviderKind.choices)
    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(
        Unit,
        verbose_name=pgettext_lazy("organisation", "unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    organisation = models.CharField(_("organisation"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    community = models.ForeignKey(
        Region, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    location = models.PointField(_("location"), srid=SRID, null=True, blank=True)
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ProviderStatus.choices, default=ProviderStatus.PENDING
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accounts"),
        blank=True,
        related_name="providers",
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    confirmed_by = user_link()
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    refuse_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # HMAC of the address a public 双报到 came from (needs.services.public): the per-address
    # limit counts registrations from these rows; never the address itself.
    submitter = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["community", "name", "id"]
        indexes = [
            models.Index(fields=["community", "status"], name="provider_community_status"),
            models.Index(fields=["submitter", "registered_at"], name="provider_submitter"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ProviderStatus.CONFIRMED) | Q(location__isnull=False),
                name="provider_confirmed_has_location",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_person(self) -> bool:
        return self.kind in PERSON_KINDS


class ServiceOffer(models.Model):
    """One line of the services list: a kind of service a provider gives, how many needs it
    takes on at once, where."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.CASCADE, related_name="offers"
    )
    kind = models.ForeignKey(
        ServiceKind, verbose_name=_("service kind"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    capacity = models.PositiveSmallIntegerField(_("needs open at once"), default=1)
    area = models.ManyToManyField(
        Region, verbose_name=_("communities served"), blank=True, related_name="+"
    )
    radius_m = models.PositiveIntegerField(_("served distance (m)"), null=True, blank=True)
    availability = models.CharField(_("availability"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("service offer")
        verbose_name_plural = _("service offers")
        ordering = ["provider", "kind", "id"]
        indexes = [models.Index(fields=["kind", "active"], name="offer_kind_active")]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="offer_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.kind}"
