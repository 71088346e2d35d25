"""Needs (需求 / 微心愿) raised by grid workers, community staff or residents, their photos and
their versioned history (NeedEvent)."""

from __future__ import annotations

import uuid

from django.contrib.gis.db import models
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids import scoping
from grids.models import SRID, Grid, Household, Region, new_client_key
from needs.models.catalogue import ServiceKind
from needs.models.fields import user_link


class Urgency(models.TextChoices):
    NORMAL = "normal", pgettext_lazy("need urgency", "normal")  # 一般
    URGENT = "urgent", pgettext_lazy("need urgency", "urgent")  # 紧急


class NeedSource(models.TextChoices):
    GRID_WORKER = "grid_worker", pgettext_lazy("need source", "grid worker's visit")  # 网格员走访
    STAFF = "staff", pgettext_lazy("need source", "registered by the community")  # 社区登记
    PUBLIC = "public", pgettext_lazy("need source", "resident's own (QR code)")  # 居民自助 (扫码)


class NeedStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("need status", "awaiting review")  # 待审核
    ACCEPTED = "accepted", pgettext_lazy("need status", "awaiting dispatch")  # 待派单
    DISPATCHED = "dispatched", pgettext_lazy("need status", "dispatched")  # 已派单
    TAKEN = "taken", pgettext_lazy("need status", "being served")  # 服务中
    REPORTED = "reported", pgettext_lazy("need status", "awaiting confirmation")  # 待确认
    DONE = "done", pgettext_lazy("need status", "done")  # 已完成
    DECLINED = "declined", pgettext_lazy("need status", "declined")  # 不予受理
    MERGED = "merged", pgettext_lazy("need status", "merged")  # 已合并


OPEN_STATUSES = (
    NeedStatus.SUBMITTED,
    NeedStatus.ACCEPTED,
    NeedStatus.DISPATCHED,
    NeedStatus.TAKEN,
    NeedStatus.REPORTED,
)
CLOSED_STATUSES = (NeedStatus.DONE, NeedStatus.DECLINED, NeedStatus.MERGED)


class NeedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Admin all; a grid worker its grid's; tree roles the needs of grids under their
        region; a provider's users the needs dispatched to their provider (now or before);
        a department none (personal data: it reads figures through reports)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self
        role = getattr(user, "role", "")
        if role == "grid_worker":
            return self.filter(grid=user.grid_id) if user.grid_id else self.none()
        if role == "provider":
            from needs.models.dispatch import Dispatch

            # Exists, not a join: no DISTINCT, so the rows can be locked for a step.
            return self.filter(
                Exists(Dispatch.objects.filter(need=OuterRef("pk"), provider__users=user))
            )
        if role in scoping.TREE_ROLES and user.region_id:
            return self.filter(scoping.grid_under_q(user.region, "grid__"))
        return self.none()

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def in_region(self, region: Region):
        return self.filter(scoping.grid_under_q(region, "grid__"))


def next_number(day) -> str:
    """The next need number of a day: "XQ" + yyyymmdd + a 4-digit sequence. Called inside a
    transaction holding the day's lock (needs.sql.lock_numbers)."""
    prefix = f"XQ{day:%Y%m%d}"
    last = (
        Need.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


class Need(models.Model):
    PERSONAL_FIELDS = ("contact_name", "contact_phone")

    number = models.CharField(_("need number"), max_length=16, unique=True, editable=False)
    kind = models.ForeignKey(
        ServiceKind, verbose_name=_("service kind"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=60)
    description = models.TextField(_("description"), max_length=1000, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    source = models.CharField(_("source"), max_length=12, choices=NeedSource.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=NeedStatus.choices, default=NeedStatus.SUBMITTED
    )
    grid = models.ForeignKey(
        Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey(
        Region, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    location = models.PointField(_("location"), srid=SRID, null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    raised_by = user_link()
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    reviewed_by = user_link()
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason declined"), max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False)
    fulfilled_at = models.DateTimeField(_("reported done at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = user_link()
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    feedback = models.CharField(_("feedback"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    client_key = models.CharField(
        _("client key"), max_length=64, unique=True, default=new_client_key
    )
    # HMAC-SHA256 of a public submitter's address with SECRET_KEY: rate limits and abuse
    # reviews can tell submissions from one address apart without keeping the address.
    submitter = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["grid", "status"], name="need_grid_status"),
            models.Index(fields=["community", "status"], name="need_community_status"),
            models.Index(fields=["status", "due_at"], name="need_due"),
            models.Index(fields=["raised_at"], name="need_raised_at"),
            models.Index(fields=["kind", "status"], name="need_kind_status"),
            models.Index(fields=["submitter", "raised_at"], name="need_submitter"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__range=(1, 5)) | Q(satisfaction__isnull=True),
                name="need_satisfaction_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")) | Q(merged_into__isnull=True),
                name="need_not_merged_into_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def save(self, *args, **kwargs):
        if self.number:
            return super().save(*args, **kwargs)
        from needs import sql

        with transaction.atomic():
            day = timezone.localdate(self.raised_at)
            sql.lock_numbers(day)
            self.number = next_number(day)
            return super().save(*args, **kwargs)


def photo_path(photo: NeedPhoto, filename: str) -> str:
    # The name is ours: a phone's file name says nothing and may say too much.
    ext = (photo.extension or "jpg").lower()
    return f"needs/{photo.need_id}/{uuid.uuid4().hex}.{ext}"


class PhotoStage(models.TextChoices):
    RAISED = "raised", pgettext_lazy("need photo", "when raised")
    REPORT = "report", pgettext_lazy("need photo", "service report")


class NeedPhoto(models.Model):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(_("stage"), max_length=8, choices=PhotoStage.choices)
    dispatch = models.ForeignKey(
        "needs.Dispatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to=photo_path)
    extension = models.CharField(max_length=5, default="jpg")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = user_link()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("need photo")
        verbose_name_plural = _("need photos")
        ordering = ["at", "id"]


class NeedAction(models.TextChoices):
    RAISED = "raised", pgettext_lazy("need action", "raised")
    ACCEPTED = "accepted", pgettext_lazy("need action", "accepted")
    DECLINED = "declined", pgettext_lazy("need action", "declined")
    MERGED = "merged", pgettext_lazy("need action", "merged")
    DISPATCHED = "dispatched", pgettext_lazy("need action", "dispatched")
    TAKEN = "taken", pgettext_lazy("need action", "taken by the provider")
    DECLINED_BY_PROVIDER = (
        "declined_by_provider",
        pgettext_lazy("need action", "declined by the provider"),
    )
    WITHDRAWN = "withdrawn", pgettext_lazy("need action", "dispatch withdrawn")
    REPORTED = "reported", pgettext_lazy("need action", "service reported")
    CONFIRMED = "confirmed", pgettext_lazy("need action", "confirmed")
    REOPENED = "reopened", pgettext_lazy("need action", "reopened")
    OVERDUE = "overdue", pgettext_lazy("need action", "overdue")
    REMINDED = "reminded", pgettext_lazy("need action", "reminded")
    EDITED = "edited", pgettext_lazy("need action", "edited")


class NeedEvent(models.Model):
    """One step of a need's history; rows are only ever added."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=24, choices=NeedAction.choices)
    from_status = models.CharField(max_length=12, choices=NeedStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=NeedStatus.choices, blank=True)
    actor = user_link()
    provider = models.ForeignKey(
        "needs.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("need event")
        verbose_name_plural = _("need events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["need", "at"], name="need_event_timeline")]
