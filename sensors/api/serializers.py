"""Serializers shared by the sensors API modules: types, devices, gateways, tokens and
import reports."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from grids.api.fields import MomentField, PointField
from grids.api.serializers import normalised_crs, wgs84_point
from grids.services import crs as crs_service
from sensors.models import AlertKind, Gateway, Role, Sensor, SensorType, Status
from sensors.services.types import EDITABLE


class SensorTypeSerializer(serializers.ModelSerializer):
    """A type of device. `district` is empty for the built-in types everybody sees."""

    role = serializers.ChoiceField(choices=Role.choices, required=False)
    properties_schema = serializers.JSONField(required=False)
    readings_schema = serializers.JSONField(required=False)

    class Meta:
        model = SensorType
        fields = ["id", "code", *EDITABLE, "district", "builtin"]
        read_only_fields = ["district", "builtin"]
        # Uniqueness is the service's to say (one query, the same error shape as elsewhere).
        extra_kwargs = {"code": {"validators": []}}

    def validate_code(self, value):
        if self.instance is not None and value != self.instance.code:
            raise serializers.ValidationError(_("the code of a type cannot change"))
        return value


class SensorSerializer(GeoFeatureModelSerializer):
    """A device as a GeoJSON feature at its location."""

    location = PointField(read_only=True)
    type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    type_name = serializers.CharField(source="type.name", read_only=True)
    grid_code = serializers.CharField(
        source="grid.code", read_only=True, default=None, allow_null=True
    )
    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    gateway = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Sensor
        geo_field = "location"
        fields = [
            "id",
            "code",
            "type",
            "type_name",
            "role",
            "name",
            "location",
            "grid",
            "grid_code",
            "district",
            "department",
            "gateway",
            "installed_on",
            "status",
            "last_seen_at",
            "properties",
            "latest",
            "latest_at",
        ]
        read_only_fields = fields


class SensorDetailSerializer(SensorSerializer):
    """One device with what it covers on the ground (a camera's sector, a pole's circle)."""

    coverage = GeometryField(read_only=True, precision=7, allow_null=True)

    class Meta(SensorSerializer.Meta):
        fields = [*SensorSerializer.Meta.fields, "coverage", "created_at", "updated_at"]
        read_only_fields = fields


class LocationInput(serializers.Serializer):
    """A point as GeoJSON `location` or `lon`/`lat`, in any coordinate system `crs` names."""

    location = PointField(required=False, help_text=_("a GeoJSON point"))
    lon = serializers.FloatField(required=False)
    lat = serializers.FloatField(required=False)
    crs = serializers.CharField(
        required=False,
        default=crs_service.WGS84,
        help_text=_(
            "coordinate system of the location: EPSG:4326 (default), CGCS2000, GCJ-02, BD-09"
        ),
    )

    def validate_crs(self, value):
        return normalised_crs(value)

    def validate(self, attrs):
        location = attrs.pop("location", None)
        lon, lat = attrs.pop("lon", None), attrs.pop("lat", None)
        source = attrs.pop("crs", crs_service.WGS84)
        if location is None and (lon is None or lat is None):
            if self.partial:
                if lon is not None or lat is not None:
                    raise serializers.ValidationError(
                        {"lon" if lat is not None else "lat": _("give both lon and lat")}
                    )
                return attrs
            raise serializers.ValidationError(
                {"location": _("give a GeoJSON point or lon and lat")}
            )
        attrs["location"] = wgs84_point(
            location, lon, lat, source, not_a_point=_("a sensor is a point")
        )
        return attrs


class SensorCreateSerializer(LocationInput):
    code = serializers.CharField(max_length=64)
    type = serializers.CharField(max_length=40, help_text=_("sensor type code"))
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    properties = serializers.DictField(required=False, default=dict)
    department = serializers.CharField(
        required=False, allow_null=True, default=None, help_text=_("department code")
    )
    installed_on = serializers.DateField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(choices=Status.choices, required=False, allow_null=True)


class SensorUpdateSerializer(LocationInput):
    """PATCH: only the fields sent change; properties are replaced whole."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    properties = serializers.DictField(required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)


class GatewaySerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text=_("department code")
    )
    department_code = serializers.CharField(
        write_only=True, required=False, allow_null=True, source="department"
    )
    has_token = serializers.SerializerMethodField()

    class Meta:
        model = Gateway
        fields = [
            "id",
            "code",
            "name",
            "district",
            "department",
            "department_code",
            "active",
            "last_seen_at",
            "created_at",
            "has_token",
        ]
        read_only_fields = ["last_seen_at", "created_at"]
        extra_kwargs = {"district": {"required": False}, "code": {"validators": []}}

    @extend_schema_field(serializers.BooleanField())
    def get_has_token(self, gateway) -> bool:
        return bool(gateway.token_hash)


class TokenSerializer(serializers.Serializer):
    """A new secret, shown this once: only its hash is kept, and the old one stops working."""

    holder = serializers.CharField()
    token = serializers.CharField()


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False)
    layer = serializers.CharField(required=False, allow_null=True, default=None)
    crs = serializers.CharField(required=False, allow_null=True, default=None)
    encoding = serializers.CharField(required=False, allow_null=True, default=None)


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    row = serializers.IntegerField(required=False)
    field = serializers.CharField(required=False)
    feature = serializers.CharField(required=False)


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    source = serializers.CharField()
    total = serializers.IntegerField()
    written = serializers.IntegerField()
    updated = serializers.IntegerField()
    flagged = serializers.IntegerField()
    committed = serializers.BooleanField()
    errors = ProblemSerializer(many=True)
    warnings = ProblemSerializer(many=True)


class AlertSerializer(serializers.Serializer):
    """A camera analytics alert, as the camera platform sends it."""

    event_id = serializers.CharField(max_length=100)
    camera = serializers.CharField(max_length=64, help_text=_("the camera's sensor code"))
    kind = serializers.ChoiceField(
        choices=[
            AlertKind.SMOKE_FIRE,
            AlertKind.THROWN_OBJECT,
            AlertKind.CROWD,
            AlertKind.FIRE_LANE_BLOCKED,
            AlertKind.WALL_CLIMBING,
        ]
    )
    # The near future and "too old" are the alert service's own rules (device clocks).
    at = MomentField(limit_future=False)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    snapshot = serializers.URLField(max_length=500, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class AlertResultSerializer(serializers.Serializer):
    alert = serializers.IntegerField()
    incident = serializers.IntegerField(allow_null=True)
    created = serializers.BooleanField()
    deduplicated = serializers.BooleanField()
