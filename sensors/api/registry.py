"""The sensor registry API: types, devices, gateways, device tokens and file imports.

Reading follows `Sensor.objects.visible_to(user)` (a device outside the jurisdiction is a
404). Writing devices: the district and street centres and community staff within their
jurisdiction, a department for the devices it owns, administrators; grid workers read only.
Types, gateways, tokens and deleting devices: the district centre and administrators.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import django_filters
from django import forms
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import scoping
from grids.api.filters import parse_bbox
from grids.api.parsers import FormParser, MultiPartParser
from grids.api.routers import SimpleRouter
from grids.models import Department, Region
from grids.services.imports import ApiParameters, worded_for
from sensors.api.serializers import (
    GatewaySerializer,
    ImportReportSerializer,
    ImportRequestSerializer,
    SensorCreateSerializer,
    SensorDetailSerializer,
    SensorSerializer,
    SensorTypeSerializer,
    SensorUpdateSerializer,
    TokenSerializer,
)
from sensors.models import Gateway, Role, Sensor, SensorType, Status
from sensors.services import registry, types
from sensors.services.imports import ImportAborted, import_sensors

SENSOR_WRITERS = frozenset(
    {"district_centre", "street_centre", "community_staff", "department", "administrator"}
)
# Types, gateways, device tokens and deletions concern the whole district.
DISTRICT_ROLES = frozenset({"district_centre", "administrator"})


def _role_in(user, roles) -> bool:
    return bool(user.is_superuser or getattr(user, "role", "") in roles)


class DistrictWrites(permissions.BasePermission):
    """Everyone signed in reads; the district centre and administrators write."""

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or _role_in(request.user, DISTRICT_ROLES)


class CanWriteSensors(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        roles = DISTRICT_ROLES if view.action in ("destroy", "token") else SENSOR_WRITERS
        return _role_in(request.user, roles)

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or keeps(request.user, obj)


def keeps(user, sensor: Sensor) -> bool:
    """Whether a writer may change this device (also the OGC writes: sensors.ogc_editors)."""
    if user.is_superuser:
        return True
    # A department sees the devices of its district's grids but keeps only its own.
    if user.role == "department":
        return sensor.department_id is not None and sensor.department_id == user.department_id
    return True


def registering_department(user, department: str | None) -> str | None:
    """The department code a device is registered under: a department registers its own
    devices only (its own code when it names none); the others name any or none."""
    if user.role != "department" or user.is_superuser:
        return department
    own_code = Department.objects.filter(pk=user.department_id).values_list("code", flat=True)
    own_code = own_code.first()
    if department not in (None, own_code):
        raise ValidationError({"department": [_("a department registers its own devices only")]})
    return own_code


def register_sensor(user, fields: dict) -> Sensor:
    """A device registered from SensorCreateSerializer's validated fields, under the
    department `registering_department` allows (also the OGC writes: sensors.ogc_editors)."""
    return registry.create_sensor(
        registry.SensorSpec(
            code=fields["code"],
            type=fields["type"],
            location=fields["location"],
            name=fields["name"],
            properties=fields["properties"],
            department=registering_department(user, fields["department"]),
            installed_on=fields["installed_on"],
            status=fields.get("status"),
        ),
        user=user,
    )


# --- types ---------------------------------------------------------------------------------


class SensorTypeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Built-in types and the user's district's own. A district adds types with their own
    JSON Schemas; built-in types are read-only; a type with devices keeps its role."""

    serializer_class = SensorTypeSerializer
    permission_classes = [permissions.IsAuthenticated, DistrictWrites]
    pagination_class = None
    lookup_field = "code"

    def get_queryset(self):
        user = self.request.user
        if scoping.sees_everything(user):
            return SensorType.objects.order_by("code")
        return registry.types_for_district(scoping.user_district(user)).order_by("code")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        created = types.create_type(code=fields.pop("code"), user=request.user, **fields)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(
            instance, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        fields.pop("code", None)
        changed = types.update_type(instance, user=request.user, **fields)
        return Response(self.get_serializer(changed).data)


# --- devices -------------------------------------------------------------------------------


class _AnyValues(forms.MultipleChoiceField):
    """Repeatable free values (type codes are data, not a fixed list)."""

    def valid_value(self, value):
        return True


class CodesFilter(django_filters.MultipleChoiceFilter):
    field_class = _AnyValues


class SensorFilterSet(django_filters.FilterSet):
    type = CodesFilter(field_name="type__code", label=_("type code (repeatable)"))
    role = django_filters.ChoiceFilter(choices=Role.choices)
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, label=_("status (repeatable)")
    )
    grid = django_filters.CharFilter(field_name="grid__code", label=_("grid code"))
    region = django_filters.NumberFilter(method="filter_region", label=_("region id"))
    bbox = django_filters.CharFilter(method="filter_bbox", label=_("minlon,minlat,maxlon,maxlat"))
    q = django_filters.CharFilter(method="filter_q", label=_("code or name contains"))

    class Meta:
        model = Sensor
        fields = ["type", "role", "status", "grid", "region", "bbox", "q"]

    def filter_region(self, queryset, name, value):
        # A region of another jurisdiction is "no such region", like one that does not exist.
        region = Region.objects.visible_to(self.request.user).filter(pk=value).first()
        if region is None:
            raise ValidationError({"region": [_("no such region")]})
        under = scoping.grid_under_q(region, "grid__")
        if region.level == "district":
            # Devices that fell in no grid still belong to their district.
            under |= Q(district=region.pk)
        return queryset.filter(under)

    def filter_bbox(self, queryset, name, value):
        return queryset.filter(location__bboverlaps=parse_bbox(value))

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class SensorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Devices the user may see, as GeoJSON features. PATCH changes location, properties,
    name or status (properties replaced whole, checked against the type's schema)."""

    filterset_class = SensorFilterSet
    permission_classes = [permissions.IsAuthenticated, CanWriteSensors]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        sensors = Sensor.objects.visible_to(self.request.user).select_related(
            "type", "grid", "department", "gateway"
        )
        if self.action != "retrieve":
            sensors = sensors.defer("coverage")
        return sensors.order_by("code")

    def get_serializer_class(self):
        if self.action == "create":
            return SensorCreateSerializer
        if self.action == "partial_update":
            return SensorUpdateSerializer
        return SensorDetailSerializer if self.action == "retrieve" else SensorSerializer

    def _detail(self, sensor: Sensor) -> dict:
        self.action = "retrieve"
        found = get_object_or_404(self.get_queryset(), pk=sensor.pk)
        return SensorDetailSerializer(found, context=self.get_serializer_context()).data

    @extend_schema(request=SensorCreateSerializer, responses={201: SensorDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = SensorCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sensor = register_sensor(request.user, serializer.validated_data)
        return Response(self._detail(sensor), status=status.HTTP_201_CREATED)

    @extend_schema(request=SensorUpdateSerializer, responses=SensorDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        sensor = self.get_object()
        serializer = SensorUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        registry.update_sensor(
            sensor,
            location=fields.get("location"),
            properties=fields.get("properties"),
            name=fields.get("name"),
            status=fields.get("status"),
            user=request.user,
        )
        return Response(self._detail(sensor))

    def destroy(self, request, *args, **kwargs):
        registry.delete_sensor(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={201: TokenSerializer})
    @action(detail=True, methods=["post"])
    def token(self, request, pk=None):
        """A device's own token (for a device that reports without a gateway), shown once."""
        sensor = self.get_object()
        token = registry.issue_token(sensor)
        return Response({"holder": sensor.code, "token": token}, status=status.HTTP_201_CREATED)


# --- gateways ------------------------------------------------------------------------------


class GatewayViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The systems that speak for many devices, of the user's district."""

    serializer_class = GatewaySerializer
    permission_classes = [permissions.IsAuthenticated, DistrictWrites]
    pagination_class = None
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        gateways = Gateway.objects.select_related("department").order_by("code")
        if scoping.sees_everything(user):
            return gateways
        district = scoping.user_district(user)
        return gateways.filter(district=district) if district else gateways.none()

    def _department(self, code, district_id):
        if code is None:
            return None
        found = Department.objects.filter(code=code, district=district_id).first()
        if found is None:
            raise ValidationError({"department_code": [_("no such department in the district")]})
        return found

    def perform_create(self, serializer):
        user = self.request.user
        fields = serializer.validated_data
        if scoping.sees_everything(user):
            district = fields.get("district")
            if district is None or district.level != "district":
                raise ValidationError({"district": [_("name the district of the gateway")]})
        else:
            district = Region.objects.get(pk=scoping.user_district(user))
        if Gateway.objects.filter(code=fields["code"]).exists():
            raise ValidationError({"code": [_("a gateway with this code exists already")]})
        serializer.save(
            district=district,
            department=self._department(fields.get("department"), district.pk),
        )

    def perform_update(self, serializer):
        fields = serializer.validated_data
        gateway = serializer.instance
        if "district" in fields and fields["district"].pk != gateway.district_id:
            raise ValidationError({"district": [_("a gateway cannot move to another district")]})
        if "code" in fields and fields["code"] != gateway.code:
            raise ValidationError({"code": [_("the code of a gateway cannot change")]})
        extra = {}
        if "department" in fields:
            extra["department"] = self._department(fields["department"], gateway.district_id)
        serializer.save(**extra)

    @extend_schema(request=None, responses={201: TokenSerializer})
    @action(detail=True, methods=["post"])
    def token(self, request, pk=None):
        """A new token for the gateway, shown once; the old one stops working."""
        gateway = self.get_object()
        token = registry.issue_token(gateway)
        return Response({"holder": gateway.code, "token": token}, status=status.HTTP_201_CREATED)


# --- imports -------------------------------------------------------------------------------


# The import's form fields.
SENSOR_IMPORT_PARAMETERS = ApiParameters(layer="layer", crs="crs", encoding="encoding")


class ImportView(APIView):
    """Devices from a file (GeoPackage, GeoJSON, zipped Shapefile, CSV or XLSX with lon/lat
    columns), all or nothing. A dry run checks everything and writes nothing. Answers the
    report: 200 when written (or a clean dry run), 400 with every bad row otherwise."""

    permission_classes = [permissions.IsAuthenticated, DistrictWrites]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={200: ImportReportSerializer, 400: ImportReportSerializer},
    )
    def post(self, request):
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        upload = fields["file"]
        if not _role_in(request.user, DISTRICT_ROLES):
            raise PermissionDenied()
        suffix = Path(upload.name).suffix.lower()
        # GDAL reads paths: the upload is written to a private temporary directory.
        with tempfile.TemporaryDirectory(prefix="sensor-import-") as directory:
            path = Path(directory) / f"upload{suffix}"
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            try:
                # The messages' hints name this API's form fields, not the command's options.
                with worded_for(SENSOR_IMPORT_PARAMETERS):
                    report = import_sensors(
                        path,
                        user=request.user,
                        layer=fields["layer"],
                        encoding=fields["encoding"],
                        source_crs=fields["crs"],
                        dry_run=fields["dry_run"],
                        source_name=upload.name,
                    )
            except ImportAborted as aborted:
                # Refused whole: the report lists every bad row; nothing was written.
                report = aborted.report
        code = status.HTTP_400_BAD_REQUEST if report.errors else status.HTTP_200_OK
        return Response({"status": code, **report.as_dict()}, status=code)


# A SimpleRouter: the API root view of a DefaultRouter would claim /api/sensors/ itself.
router = SimpleRouter()
router.register("types", SensorTypeViewSet, basename="sensor-type")
router.register("sensors", SensorViewSet, basename="sensor")
router.register("gateways", GatewayViewSet, basename="gateway")

urlpatterns = [
    path("imports/", ImportView.as_view(), name="sensor-import"),
    *router.urls,
]
