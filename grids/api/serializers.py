from __future__ import annotations

from collections.abc import Mapping

from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from grids import limits, scoping
from grids.api.fields import VisibleRelatedField
from grids.models import (
    Address,
    Building,
    Department,
    Grid,
    Household,
    Region,
    Resident,
    User,
    today,
)
from grids.problems import ProblemsError
from grids.services import crs as crs_service
from grids.services.basedata import TagCatalogue

PRECISION = 7  # about 1 cm: enough for a boundary, half the bytes of full doubles


class BoundaryField(GeometryField):
    """The boundary version valid on the asked date, annotated by the view."""


class FeatureSerializer(GeoFeatureModelSerializer):
    """A GeoJSON Feature serializer that refuses a Feature whose `properties` is not an
    object (a multipart form's text field, a list) with a 400 naming it; drf-gis would write
    into it and fail with a TypeError."""

    def to_internal_value(self, data):
        feature = isinstance(data, Mapping) and (
            data.get("type") == "Feature" or "geometry" in data
        )
        if feature and "properties" not in data:
            # A Feature with only a geometry (a point moved): drf-gis reads a Feature only by
            # its properties and would take it for plain fields, dropping the geometry.
            data = {**data, "properties": {}}
        if isinstance(data, Mapping) and "properties" in data:
            properties = data["properties"]
            if not isinstance(properties, Mapping):
                raise serializers.ValidationError(
                    {
                        "properties": _(
                            "a Feature's properties are a JSON object; send a Feature as "
                            "application/json, or the fields themselves as a form"
                        )
                    },
                    code="invalid",
                )
            # drf-gis moves the geometry into the properties: a copy leaves the request as sent.
            data = {**data, "properties": dict(properties)}
        return super().to_internal_value(data)


class BoundaryFeatureSerializer(FeatureSerializer):
    geom = BoundaryField(read_only=True, precision=PRECISION)


class RegionSerializer(BoundaryFeatureSerializer):
    parent_code = serializers.CharField(
        source="parent.code", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Region
        geo_field = "geom"
        fields = ["id", "level", "code", "name", "parent", "parent_code", "valid_from", "valid_to"]


class GridSerializer(BoundaryFeatureSerializer):
    community_code = serializers.CharField(source="community.code", read_only=True)
    households = serializers.SerializerMethodField()
    residents = serializers.SerializerMethodField()
    leader = serializers.CharField(
        source="leader.get_full_name", read_only=True, default=None, allow_null=True
    )
    community_name = serializers.CharField(source="community.name", read_only=True)
    workers = serializers.SerializerMethodField()

    class Meta:
        model = Grid
        geo_field = "geom"
        fields = [
            "id",
            "code",
            "name",
            "community",
            "community_code",
            "community_name",
            "theme",
            "colour",
            "leader",
            "workers",
            "valid_from",
            "valid_to",
            "version",
            "households",
            "residents",
        ]

    def _figures(self, grid):
        return self.context.get("figures", {}).get(grid.pk)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_workers(self, grid) -> list[str]:
        return [w.get_full_name() or w.username for w in grid.workers.all()]

    @extend_schema_field(serializers.IntegerField())
    def get_households(self, grid) -> int:
        figures = self._figures(grid)
        return figures.households if figures else 0

    @extend_schema_field(serializers.IntegerField())
    def get_residents(self, grid) -> int:
        figures = self._figures(grid)
        return figures.residents if figures else 0


class ResidentSerializer(serializers.ModelSerializer):
    # Codes of the tag catalogue held as data (/api/catalogues/resident-tags/), checked on
    # write against the catalogue as it stands (households.add_residents checks them again).
    tags = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=50,
        help_text=_("codes of the resident tag catalogue"),
    )
    tag_levels = serializers.DictField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text=_("the level of each tag that has levels, by tag code (e.g. disabled: 二级)"),
    )

    class Meta:
        model = Resident
        fields = [
            "id",
            "household",
            "name",
            "id_number",
            "phone",
            "birth_date",
            "sex",
            "registration",
            "residence_since",
            "origin",
            "relation",
            "tags",
            "tag_levels",
        ]
        read_only_fields = ["household"]

    def validate_residence_since(self, value):
        if value and value > today():
            raise serializers.ValidationError(_("the date is in the future"))
        return value

    def validate(self, attrs):
        if "tags" in attrs or "tag_levels" in attrs:
            carried = list(self.instance.tags) if self.instance is not None else []
            tags = attrs.get("tags", carried)
            levels = attrs.get("tag_levels", self.instance.tag_levels if self.instance else {})
            # Every bad code and level at once, each naming its field (tags, tag_levels.<code>).
            problems = TagCatalogue().check(tags, levels, carried=carried)
            if problems:
                raise ProblemsError(problems)
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not scoping.sees_personal_data(request.user):
            for name, mask in scoping.MASKS.items():
                if data.get(name):
                    data[name] = mask(data[name])
            data["masked"] = True
        else:
            data["masked"] = False
        return data


class HouseholdSerializer(FeatureSerializer):
    location = GeometryField(precision=PRECISION, required=False)
    grid_code = serializers.CharField(
        source="grid.code", read_only=True, default=None, allow_null=True
    )
    flagged = serializers.BooleanField(read_only=True)
    building = VisibleRelatedField(
        queryset=Building.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("the building (实有房屋) the household lives in"),
    )
    standard_address = VisibleRelatedField(
        queryset=Address.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("its standard address (标准地址)"),
    )
    # Ranges are checked after conversion: projected coordinates (metres) are fine here.
    lon = serializers.FloatField(write_only=True, required=False)
    lat = serializers.FloatField(write_only=True, required=False)
    crs = serializers.CharField(
        write_only=True,
        required=False,
        default=crs_service.WGS84,
        help_text=_(
            "coordinate system of the location: EPSG:4326 (default), CGCS2000, GCJ-02, BD-09"
        ),
    )

    class Meta:
        model = Household
        geo_field = "location"
        fields = [
            "id",
            "address",
            "location",
            "lon",
            "lat",
            "crs",
            "grid",
            "grid_code",
            "flagged",
            "building",
            "standard_address",
            "client_key",
            "member_count",
            "registered_on",
            "removed_on",
        ]
        read_only_fields = ["grid", "member_count", "removed_on"]
        extra_kwargs = {"client_key": {"validators": []}}

    def validate_client_key(self, value):
        if self.instance is not None and value != self.instance.client_key:
            raise serializers.ValidationError(_("the client key of a household cannot change"))
        return value

    def validate_registered_on(self, value):
        if value and value > today():
            raise serializers.ValidationError(_("a household cannot be registered in the future"))
        return value

    def validate_crs(self, value):
        return normalised_crs(value)

    def validate(self, attrs):
        location = attrs.pop("location", None)
        lon, lat = attrs.pop("lon", None), attrs.pop("lat", None)
        source = attrs.pop("crs", crs_service.WGS84)
        if location is None and (lon is None or lat is None):
            if self.instance is not None and self.partial:
                return attrs
            raise serializers.ValidationError(
                {"location": _("give a GeoJSON point or lon and lat")}
            )
        attrs["location"] = wgs84_point(
            location, lon, lat, source, not_a_point=_("a household is a point")
        )
        return attrs


def normalised_crs(value: str) -> str:
    """A `crs` parameter as the CRS service names it; a ValidationError when unknown."""
    try:
        return crs_service.normalise(value) or crs_service.WGS84
    except crs_service.UnknownCRS as exc:
        raise serializers.ValidationError(str(exc)) from exc


def wgs84_point(location, lon, lat, source: str, *, not_a_point: str) -> Point:
    """A point given as GeoJSON `location` or as `lon`/`lat`, in the coordinate system
    `source`, as WGS84; a ValidationError naming the field the caller sent when it is not a
    point, not finite, or not longitude/latitude within range (grids.limits.lonlat_problem)."""
    if location is not None:
        if location.geom_type != "Point":
            raise serializers.ValidationError({"location": not_a_point})
        lon, lat = location.x, location.y
    for name, value in (("lon", lon), ("lat", lat)):
        problem = limits.finite_problem(value)
        if problem:
            raise serializers.ValidationError(
                {"location" if location is not None else name: f"{name} {problem}"}
            )
    lon, lat = crs_service.point_to_wgs84(lon, lat, source)
    found = limits.lonlat_problem(lon, lat)
    if found:
        name, problem = found
        raise serializers.ValidationError(
            {"location" if location is not None else name: f"{name} {problem}"}
        )
    return Point(lon, lat, srid=4326)


def lonlat_point(lon, lat, *, field: str | None = None) -> Point:
    """A WGS84 point from two numbers a client sent; a ValidationError naming `field` (or
    `lon`/`lat`) when either is not finite degrees in range."""
    found = limits.lonlat_problem(lon, lat)
    if found:
        name, problem = found
        raise serializers.ValidationError({field or name: f"{name} {problem}"}, code="invalid")
    return Point(float(lon), float(lat), srid=4326)


def point_from_query(params, lon: str = "lon", lat: str = "lat") -> Point:
    """The point of a query string's `lon` and `lat` (both required)."""
    numbers = []
    for name in (lon, lat):
        raw = params.get(name)
        if raw in (None, ""):
            raise serializers.ValidationError({name: _("give lon and lat in degrees")})
        try:
            numbers.append(float(raw))
        except ValueError:
            raise serializers.ValidationError({name: f"{name} {_('is not a number')}"}) from None
    return lonlat_point(*numbers)


class UserSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SerializerMethodField()
    sees_personal_data = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "role",
            "jurisdiction",
            "department",
            "sees_personal_data",
        ]

    # None for a role above the tree (an administrator) or beside it (a department).
    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "kind": {"type": "string", "description": "grid, or the region's level"},
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
            },
            "required": ["kind", "id", "code", "name"],
        }
    )
    def get_jurisdiction(self, user) -> dict | None:
        node = user.grid or user.region
        if node is None:
            return None
        return {
            "kind": "grid" if user.grid_id else node.level,
            "id": node.pk,
            "code": node.code,
            "name": node.name,
        }


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name", "district"]
