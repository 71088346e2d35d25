"""The services list (服务清单) over the API: providers with their offers, what the community
sends to enter, edit, confirm, refuse or suspend a provider, and to keep its offers. A
person's name and every phone are masked for roles without personal data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from grids.api.fields import PointField
from needs.api.serializers_public import KindField, PhoneField
from needs.models import ProviderKind, ServiceOffer


class OfferSerializer(serializers.ModelSerializer):
    kind = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind_name = serializers.CharField(source="kind.name", read_only=True)
    area = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ServiceOffer
        fields = [
            "id",
            "provider",
            "kind",
            "kind_name",
            "description",
            "capacity",
            "area",
            "radius_m",
            "availability",
            "active",
            "version",
        ]
        read_only_fields = fields


class ProviderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    name = serializers.SerializerMethodField()
    unit = serializers.IntegerField(source="unit_id", allow_null=True)
    organisation = serializers.CharField(allow_blank=True)
    phone = serializers.SerializerMethodField()
    community = serializers.IntegerField(source="community_id")
    community_name = serializers.CharField(source="community.name")
    location = PointField(allow_null=True)
    grid = serializers.CharField(source="grid.code", allow_null=True, default=None)
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    registered_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    refuse_reason = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()
    offers = OfferSerializer(many=True)

    def get_name(self, provider) -> str:
        return self.context["masks"].provider_name(provider)

    def get_phone(self, provider) -> str:
        return self.context["masks"].provider_phone(provider)


class OfferLineSerializer(serializers.Serializer):
    """One offer as the community enters it with its provider or on its own."""

    kind = KindField()
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    capacity = serializers.IntegerField(min_value=1, max_value=999, required=False, default=1)
    area = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_null=True,
        default=None,
        max_length=200,
        help_text=_("ids of the communities served; the provider's own by default"),
    )
    radius_m = serializers.IntegerField(
        min_value=1, max_value=100_000, required=False, allow_null=True, default=None
    )
    availability = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    active = serializers.BooleanField(required=False, default=True)


class ProviderCreateSerializer(serializers.Serializer):
    """The community enters a provider: confirmed at once when it has a location (a unit's
    is the unit's), else pending until one is set."""

    kind = serializers.ChoiceField(choices=ProviderKind.choices)
    name = serializers.CharField(max_length=100)
    unit = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text=_("a 实有单位's id")
    )
    organisation = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    phone = PhoneField(required=False, allow_blank=True, default="")
    community = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("the community's id; community staff: their own by default"),
    )
    location = PointField(required=False, allow_null=True, default=None)
    offers = OfferLineSerializer(many=True, required=False, default=list)

    def validate_offers(self, offers):
        if len(offers) > 20:
            raise serializers.ValidationError(_("at most 20 offers"), code="too_many")
        return offers


class ProviderEditSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=100, required=False)
    organisation = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = PhoneField(required=False, allow_blank=True)
    location = PointField(required=False, allow_null=True)


class ProviderConfirmSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    location = PointField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("where the provider is, if not set yet: matching measures from it"),
    )


class ProviderReasonSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=200)


class ProviderSuspendSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class OfferCreateSerializer(OfferLineSerializer):
    provider = serializers.IntegerField(min_value=1)


class OfferEditSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    kind = KindField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    capacity = serializers.IntegerField(min_value=1, max_value=999, required=False)
    area = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )
    radius_m = serializers.IntegerField(
        min_value=1, max_value=100_000, required=False, allow_null=True
    )
    availability = serializers.CharField(max_length=100, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
