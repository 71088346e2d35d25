"""Dispatches (派单) over the API: the provider's inbox rows with the need they serve, and what
a provider (or the community) sends to accept (接单), decline (退单), report (服务反馈) or
withdraw one, each with the dispatch's `version`."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from grids.api.fields import PointField
from needs.models import Dispatch, NeedPhoto


class InboxNeedSerializer(serializers.Serializer):
    """The need as its provider reads it: where and what; the contact once accepted."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField(source="kind.code")
    kind_name = serializers.CharField(source="kind.name")
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    urgency = serializers.CharField()
    status = serializers.CharField()
    grid_name = serializers.CharField(source="grid.name")
    community_name = serializers.CharField(source="community.name")
    address = serializers.CharField(allow_blank=True)
    location = PointField(allow_null=True)
    contact_name = serializers.SerializerMethodField()
    contact_phone = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()

    def get_contact_name(self, need) -> str:
        return self.context["masks"].contact(need)["contact_name"]

    def get_contact_phone(self, need) -> str:
        return self.context["masks"].contact(need)["contact_phone"]


class DispatchPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = NeedPhoto
        fields = ["id", "url", "width", "height", "at"]

    def get_url(self, photo) -> str:
        return photo.image.url


class DispatchSerializer(serializers.ModelSerializer):
    """A dispatch; in a need's detail (`nested`) without the need again."""

    provider_name = serializers.SerializerMethodField()
    provider_kind = serializers.CharField(source="provider.kind", read_only=True)
    dispatched_by = serializers.SerializerMethodField()
    accepted_by = serializers.SerializerMethodField()
    reported_by = serializers.SerializerMethodField()
    photos = DispatchPhotoSerializer(many=True, read_only=True)
    need = serializers.SerializerMethodField()

    class Meta:
        model = Dispatch
        fields = [
            "id",
            "need",
            "provider",
            "provider_name",
            "provider_kind",
            "offer",
            "status",
            "dispatched_by",
            "dispatched_at",
            "respond_by",
            "accepted_at",
            "accepted_by",
            "decline_reason",
            "reported_at",
            "reported_by",
            "report",
            "hours",
            "reminded",
            "version",
            "photos",
        ]
        read_only_fields = fields

    def get_dispatched_by(self, dispatch) -> str | None:
        return self.context["masks"].username(dispatch.dispatched_by)

    def get_accepted_by(self, dispatch) -> str | None:
        return self.context["masks"].username(dispatch.accepted_by)

    def get_reported_by(self, dispatch) -> str | None:
        return self.context["masks"].username(dispatch.reported_by)

    def get_provider_name(self, dispatch) -> str:
        return self.context["masks"].provider_name(dispatch.provider)

    @extend_schema_field(InboxNeedSerializer(allow_null=True))
    def get_need(self, dispatch) -> dict | None:
        if self.context.get("nested"):
            return None
        return InboxNeedSerializer(dispatch.need, context=self.context).data


class OwnProviderSerializer(serializers.Serializer):
    """A provider the asking account acts for: its status says whether the community has
    confirmed it (待确认 until then, and no dispatch comes)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    community_name = serializers.CharField(source="community.name")
    refuse_reason = serializers.CharField(allow_blank=True)


class DispatchVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class DispatchReasonSerializer(DispatchVersionSerializer):
    reason = serializers.CharField(max_length=200)


class DispatchReportSerializer(DispatchVersionSerializer):
    """服务反馈: what was done, the hours of service, photos (multipart `photos`)."""

    report = serializers.CharField(max_length=1000)
    hours = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0.1"),
        help_text=_("hours of service, more than 0 and at most 24 a day since the dispatch"),
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )
