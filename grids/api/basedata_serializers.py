"""Serializers of the 一标三实 places: buildings (实有房屋), units (实有单位) and standard
addresses (标准地址), as GeoJSON Features at their points.

They check the shape of what a client sends; what it means (a code taken, a point outside the
jurisdiction, a type not in the catalogue, a footprint that is not a valid polygon) is checked
by the write services (grids.services.basedata), whose problems name the field and answer 400.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from grids import scoping
from grids.api.fields import PointField, VisibleRelatedField
from grids.api.serializers import PRECISION, FeatureSerializer
from grids.models import Address, Building, Unit
from grids.services.addresses import AddressError, parse_address

UNIT_MASKS = {"legal_person": scoping.mask_name, "contact_phone": scoping.mask_phone}


class CodeField(serializers.CharField):
    """A catalogue entry named by its code (a unit's type); the service looks it up."""

    def to_representation(self, value):
        return value.code


class FootprintField(GeometryField):
    """A building's footprint: a GeoJSON Polygon or MultiPolygon, stored as a MultiPolygon."""


class PlaceSerializer(FeatureSerializer):
    grid_code = serializers.CharField(
        source="grid.code", read_only=True, default=None, allow_null=True
    )
    flagged = serializers.SerializerMethodField(help_text=_("located, but in no grid"))

    @extend_schema_field(serializers.BooleanField())
    def get_flagged(self, place) -> bool:
        return place.location is not None and place.grid_id is None


class BuildingSerializer(PlaceSerializer):
    location = PointField(
        required=False,
        allow_null=True,
        help_text=_(
            "the point that keys it to a grid; the footprint's point on surface if left out"
        ),
    )
    footprint = FootprintField(precision=PRECISION, required=False, allow_null=True)

    class Meta:
        model = Building
        geo_field = "location"
        fields = [
            "id",
            "code",
            "name",
            "location",
            "footprint",
            "floors",
            "use",
            "built_year",
            "address",
            "grid",
            "grid_code",
            "flagged",
            "client_key",
            "registered_on",
            "removed_on",
            "updated_at",
        ]
        read_only_fields = ["grid", "removed_on", "updated_at"]
        # Uniqueness is the service's check (a resend by client key answers 200; a code taken
        # is a problem naming it), not a validator's query per field.
        extra_kwargs = {"client_key": {"validators": []}, "code": {"validators": []}}

    def validate_client_key(self, value):
        if self.instance is not None and value != self.instance.client_key:
            raise serializers.ValidationError(_("the client key of a building cannot change"))
        return value

    def validate(self, attrs):
        if attrs.get("location", False) is None:
            # A Feature without geometry: the point comes from the footprint (kept if none).
            del attrs["location"]
        if self.instance is None and not attrs.get("location") and not attrs.get("footprint"):
            raise serializers.ValidationError(
                {"location": _("give the building's point, its footprint, or both")}
            )
        return attrs


@extend_schema_field(
    {
        "type": "boolean",
        "readOnly": True,
        "description": "the legal person and the contact phone are masked",
    }
)
class MaskedField(serializers.ReadOnlyField):
    pass


class UnitSerializer(PlaceSerializer):
    location = PointField()
    type = CodeField(max_length=50, help_text=_("the unit type's code (catalogue)"))
    type_name = serializers.CharField(source="type.name", read_only=True)
    standard_address = VisibleRelatedField(
        queryset=Address.objects.all(), required=False, allow_null=True
    )
    building = VisibleRelatedField(queryset=Building.objects.all(), required=False, allow_null=True)
    masked = MaskedField(default=False)

    class Meta:
        model = Unit
        geo_field = "location"
        fields = [
            "id",
            "name",
            "type",
            "type_name",
            "credit_code",
            "legal_person",
            "contact_phone",
            "employees",
            "address",
            "standard_address",
            "building",
            "location",
            "grid",
            "grid_code",
            "flagged",
            "client_key",
            "registered_on",
            "removed_on",
            "updated_at",
            "masked",
        ]
        read_only_fields = ["grid", "removed_on", "updated_at"]
        extra_kwargs = {"client_key": {"validators": []}}

    def validate_client_key(self, value):
        if self.instance is not None and value != self.instance.client_key:
            raise serializers.ValidationError(_("the client key of a unit cannot change"))
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        properties = data["properties"]
        masked = request is None or not scoping.sees_personal_data(request.user)
        if masked:
            for name, mask in UNIT_MASKS.items():
                if properties.get(name):
                    properties[name] = mask(properties[name])
        properties["masked"] = masked
        return data


class AddressSerializer(PlaceSerializer):
    location = PointField(required=False, allow_null=True)
    text = serializers.CharField(
        max_length=255,
        help_text=_(
            "the address as typed (read into its parts and normalised); answered as the "
            "standard text"
        ),
    )
    community_code = serializers.CharField(
        source="community.code", read_only=True, default=None, allow_null=True
    )
    building = VisibleRelatedField(queryset=Building.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Address
        geo_field = "location"
        fields = [
            "id",
            "text",
            "community",
            "community_code",
            "road",
            "number",
            "building_no",
            "unit_no",
            "room",
            "location",
            "building",
            "grid",
            "grid_code",
            "flagged",
            "created_at",
        ]
        read_only_fields = [
            "community",
            "road",
            "number",
            "building_no",
            "unit_no",
            "room",
            "grid",
            "created_at",
        ]

    def validate_text(self, value):
        if self.instance is not None:
            if value == self.instance.text:
                return value  # a PUT that sends the address back as it is
            # The text is what the address is: another text is another address.
            raise serializers.ValidationError(
                _("a standard address's text cannot change; create the other address")
            )
        try:
            parse_address(value)
        except AddressError as error:
            raise serializers.ValidationError(error.message, code=error.code) from None
        return value
