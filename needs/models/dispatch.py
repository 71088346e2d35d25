"""Dispatches (派单): a need sent to a provider, which accepts (接单) or declines (退单),
serves and reports back (服务反馈) for the community or the grid worker to confirm."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids import scoping
from needs.models.fields import user_link
from needs.models.needs import Need
from needs.models.providers import Provider, ServiceOffer


class DispatchStatus(models.TextChoices):
    SENT = "sent", pgettext_lazy("dispatch status", "awaiting acceptance")  # 待接单
    ACCEPTED = "accepted", pgettext_lazy("dispatch status", "accepted")  # 已接单
    DECLINED = "declined", pgettext_lazy("dispatch status", "declined")  # 已退单
    REPORTED = "reported", pgettext_lazy("dispatch status", "reported back")  # 已反馈
    CONFIRMED = "confirmed", pgettext_lazy("dispatch status", "confirmed")  # 已确认
    WITHDRAWN = "withdrawn", pgettext_lazy("dispatch status", "withdrawn")  # 已撤回


OPEN_DISPATCH = (DispatchStatus.SENT, DispatchStatus.ACCEPTED, DispatchStatus.REPORTED)


class DispatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A provider's users see their provider's dispatches; everyone else those of the
        needs they see."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self
        if getattr(user, "role", "") == "provider":
            return self.filter(
                Exists(
                    Provider.users.through.objects.filter(
                        provider=OuterRef("provider"), user=user.pk
                    )
                )
            )
        return self.filter(Exists(Need.objects.visible_to(user).filter(pk=OuterRef("need"))))

    def open(self):
        return self.filter(status__in=OPEN_DISPATCH)


class Dispatch(models.Model):
    need = models.ForeignKey(
        Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="dispatches"
    )
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="dispatches",
    )
    offer = models.ForeignKey(
        ServiceOffer,
        verbose_name=_("service offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dispatches",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DispatchStatus.choices, default=DispatchStatus.SENT
    )
    dispatched_by = user_link()
    dispatched_at = models.DateTimeField(_("dispatched at"), default=timezone.now)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = user_link()
    decline_reason = models.CharField(_("reason"), max_length=200, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    reported_by = user_link()
    report = models.TextField(_("service report"), max_length=1000, blank=True)
    hours = models.DecimalField(
        _("service hours"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    reminded = models.BooleanField(_("reminded"), default=False)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["-dispatched_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "status"], name="dispatch_provider_status"),
            models.Index(fields=["offer", "status"], name="dispatch_offer_status"),
            models.Index(fields=["status", "respond_by"], name="dispatch_respond_by"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["need"],
                condition=Q(status__in=OPEN_DISPATCH),
                name="dispatch_one_open_per_need",
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gt=0),
                name="dispatch_hours_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need.number} → {self.provider}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DISPATCH
