"""Needs over the API: a row of the list, one need with its history, photos and dispatches, and
what a client sends to raise, edit and take the steps of the loop (each step with `version`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from grids import scoping
from grids.api.fields import PointField
from needs.api.actions import allowed_actions
from needs.api.serializers_public import KindField, PhoneField, check_photo_count
from needs.models import Need, NeedEvent, NeedPhoto, ServiceKind, Urgency
from needs.services import public


class ServiceKindSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceKind
        fields = ["code", "name", "description", "days_to_fulfil", "order"]


class DispatchSummarySerializer(serializers.Serializer):
    """A need's open dispatch as a list row shows it."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    provider = serializers.IntegerField(source="provider_id")
    provider_name = serializers.SerializerMethodField()
    provider_kind = serializers.CharField(source="provider.kind")
    dispatched_at = serializers.DateTimeField()
    respond_by = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()

    def get_provider_name(self, dispatch) -> str:
        return self.context["masks"].provider_name(dispatch.provider)


class NeedSerializer(serializers.ModelSerializer):
    """A need in a list. `contact_*` are masked for roles without personal data and for a
    provider until it has accepted the need."""

    kind = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind_name = serializers.CharField(source="kind.name", read_only=True)
    grid = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    location = PointField(read_only=True, allow_null=True)
    contact_name = serializers.SerializerMethodField()
    contact_phone = serializers.SerializerMethodField()
    dispatch = serializers.SerializerMethodField()

    class Meta:
        model = Need
        fields = [
            "id",
            "number",
            "kind",
            "kind_name",
            "title",
            "urgency",
            "source",
            "status",
            "grid",
            "grid_name",
            "community",
            "community_name",
            "location",
            "address",
            "household",
            "contact_name",
            "contact_phone",
            "raised_at",
            "due_at",
            "overdue",
            "fulfilled_at",
            "confirmed_at",
            "satisfaction",
            "version",
            "dispatch",
        ]
        read_only_fields = fields

    def get_contact_name(self, need) -> str:
        return self.context["masks"].contact(need)["contact_name"]

    def get_contact_phone(self, need) -> str:
        return self.context["masks"].contact(need)["contact_phone"]

    @extend_schema_field(DispatchSummarySerializer(allow_null=True))
    def get_dispatch(self, need) -> dict | None:
        # Prefetched by the view as `open_dispatches` (at most one: a partial unique index).
        found = getattr(need, "open_dispatches", None)
        if not found:
            return None
        return DispatchSummarySerializer(found[0], context=self.context).data


class NeedEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    provider_name = serializers.SerializerMethodField()

    class Meta:
        model = NeedEvent
        fields = [
            "id",
            "action",
            "from_status",
            "to_status",
            "actor",
            "provider",
            "provider_name",
            "version",
            "at",
            "comment",
            "data",
        ]

    def get_actor(self, event) -> str | None:
        return self.context["masks"].username(event.actor)

    def get_provider_name(self, event) -> str | None:
        if event.provider is None:
            return None
        return self.context["masks"].provider_name(event.provider)


class NeedPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = NeedPhoto
        fields = ["id", "url", "stage", "dispatch", "width", "height", "at"]

    def get_url(self, photo) -> str:
        return photo.image.url


class NeedDetailSerializer(NeedSerializer):
    """One need with its history, photos, dispatches and the steps the asking user may take."""

    raised_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reviewed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    confirmed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    merged_into_number = serializers.CharField(
        source="merged_into.number", read_only=True, allow_null=True
    )
    events = serializers.SerializerMethodField()
    photos = NeedPhotoSerializer(many=True, read_only=True)
    dispatches = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta(NeedSerializer.Meta):
        fields = NeedSerializer.Meta.fields + [
            "description",
            "raised_by",
            "reviewed_by",
            "reviewed_at",
            "decline_reason",
            "merged_into",
            "merged_into_number",
            "confirmed_by",
            "feedback",
            "updated_at",
            "events",
            "photos",
            "dispatches",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(NeedEventSerializer(many=True))
    def get_events(self, need) -> list[dict]:
        masks = self.context["masks"]
        rows = [e for e in need.events.all() if masks.sees_event(e)]
        return NeedEventSerializer(rows, many=True, context=self.context).data

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_dispatches(self, need) -> list[dict]:
        from needs.api.serializers_dispatches import DispatchSerializer

        masks = self.context["masks"]
        rows = list(need.dispatches.all())
        if getattr(masks.user, "role", "") == "provider":
            # A provider reads its own dispatches of the need, not its competitors'.
            rows = [d for d in rows if d.provider_id in masks.own_ids]
        return DispatchSerializer(rows, many=True, context=self.context | {"nested": True}).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, need) -> list[str]:
        return allowed_actions(self.context["masks"].user, need)


class RaiseSerializer(serializers.Serializer):
    """A need raised by a grid worker or community staff: JSON, or multipart with `photos`.
    `grid` (a code) when there is no location, or to say which grid near an edge."""

    kind = KindField()
    title = serializers.CharField(max_length=public.TITLE_MAX)
    description = serializers.CharField(
        max_length=public.DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, default=Urgency.NORMAL
    )
    location = PointField(required=False, allow_null=True, default=None)
    address = serializers.CharField(
        max_length=public.ADDRESS_MAX, required=False, allow_blank=True, default=""
    )
    grid = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default="", help_text=_("grid code")
    )
    household = serializers.IntegerField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(
        max_length=public.CONTACT_NAME_MAX, required=False, allow_blank=True, default=""
    )
    contact_phone = PhoneField(required=False, allow_blank=True, default="")
    client_key = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("the sender's key: a resend answers 200 with the first need"),
    )
    accept = serializers.BooleanField(
        required=False, default=False, help_text=_("a reviewer accepts the need at once")
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )

    def validate_photos(self, photos):
        return check_photo_count(photos)


class EditSerializer(serializers.Serializer):
    """PATCH: the fields to change (while awaiting review or dispatch) and `version`."""

    version = serializers.IntegerField(min_value=1)
    kind = KindField(required=False)
    title = serializers.CharField(max_length=public.TITLE_MAX, required=False)
    description = serializers.CharField(
        max_length=public.DESCRIPTION_MAX, required=False, allow_blank=True
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    address = serializers.CharField(max_length=public.ADDRESS_MAX, required=False, allow_blank=True)
    contact_name = serializers.CharField(
        max_length=public.CONTACT_NAME_MAX, required=False, allow_blank=True
    )
    contact_phone = PhoneField(required=False, allow_blank=True)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class DeclineSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=200)


class MergeSerializer(VersionSerializer):
    into = serializers.IntegerField(min_value=1, help_text=_("the id of the need kept"))


class ConfirmSerializer(VersionSerializer):
    satisfaction = serializers.IntegerField(
        min_value=1, max_value=5, help_text=_("5 very satisfied … 1 not satisfied")
    )
    feedback = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SendSerializer(VersionSerializer):
    provider = serializers.IntegerField(min_value=1)
    offer = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class NeedDuplicateSerializer(NeedSerializer):
    """A possible duplicate: a need as in the list, and how far it is (metres on the spheroid;
    null when found by the household, not by place)."""

    metres = serializers.SerializerMethodField()

    class Meta(NeedSerializer.Meta):
        fields = NeedSerializer.Meta.fields + ["metres"]
        read_only_fields = fields

    def get_metres(self, need) -> float | None:
        metres = getattr(need, "metres", None)
        return round(metres, 1) if metres is not None else None


class NeedCandidateProviderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()


class NeedCandidateOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    capacity = serializers.IntegerField()
    availability = serializers.CharField(allow_blank=True)
    radius_m = serializers.IntegerField(allow_null=True)


def masked_name(provider) -> str:
    return scoping.mask_name(provider.name) if provider.is_person else provider.name


class NeedCandidateSerializer(serializers.Serializer):
    """A provider that could serve the need: eligible ones first, then by free capacity,
    distance (metres on the spheroid) and load. `reason` is empty when eligible, else
    outside_area, over_radius, no_capacity or not_confirmed."""

    provider = NeedCandidateProviderSerializer()
    offer = NeedCandidateOfferSerializer(allow_null=True)
    distance_m = serializers.FloatField(allow_null=True)
    load = serializers.IntegerField()
    free = serializers.IntegerField()
    eligible = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)

    def to_representation(self, candidate):
        provider, offer = candidate.provider, candidate.offer
        return {
            "provider": {
                "id": provider.pk,
                "name": self.context["masks"].provider_name(provider)
                if provider.pk in self.context.get("named", ())
                else masked_name(provider),
                "kind": provider.kind,
                "status": provider.status,
            },
            "offer": None
            if offer is None
            else {
                "id": offer.pk,
                # Every candidate offers the need's own kind (the view passes its code: no
                # query per offer).
                "kind": self.context.get("kind") or offer.kind.code,
                "description": offer.description,
                "capacity": offer.capacity,
                "availability": offer.availability,
                "radius_m": offer.radius_m,
            },
            "distance_m": None if candidate.distance_m is None else round(candidate.distance_m, 1),
            "load": candidate.load,
            "free": candidate.free,
            "eligible": candidate.eligible,
            "reason": candidate.reason,
        }
