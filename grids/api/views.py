from __future__ import annotations

from django.contrib.gis.db.models import MultiPolygonField
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import scoping, sql
from grids.api import schema  # noqa: F401  (registers the OpenAPI extensions)
from grids.api.filters import (
    GridFilterSet,
    HouseholdFilterSet,
    RegionFilterSet,
    parse_bbox,
    parse_on,
)
from grids.api.serializers import (
    DepartmentSerializer,
    GridSerializer,
    HouseholdSerializer,
    RegionSerializer,
    ResidentSerializer,
    UserSerializer,
)
from grids.changes import data_changed_since
from grids.models import (
    Department,
    Grid,
    GridBoundary,
    Household,
    Level,
    Region,
    RegionBoundary,
    Registration,
    Resident,
)
from grids.services import audit, basedata, households, stats
from grids.services.exports import FORMATS, LAYERS, UnknownLayer, export_layer

ON = OpenApiParameter("on", OpenApiTypes.DATE, description="boundaries valid on this date")
WRITER_ROLES = {"grid_worker", "community_staff", "street_centre", "administrator"}


class CanWriteHouseholds(permissions.BasePermission):
    """Those who keep the grid's records write them; centres and departments read."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        return bool(user.is_superuser or user.role in WRITER_ROLES)


def _boundary_on(versions, owner: str, on):
    return Subquery(
        versions.objects.valid_on(on).filter(**{owner: OuterRef("pk")}).values("geom")[:1],
        output_field=MultiPolygonField(srid=4326),
    )


@extend_schema(parameters=[ON])
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Districts, streets and communities the user may see, as GeoJSON features."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet

    def get_queryset(self):
        on = parse_on(self.request.query_params.get("on"))
        return (
            Region.objects.visible_to(self.request.user)
            .valid_on(on)
            .select_related("parent")
            .annotate(geom=_boundary_on(RegionBoundary, "region", on))
            .order_by("code")
        )


@extend_schema(parameters=[ON])
class GridViewSet(viewsets.ReadOnlyModelViewSet):
    """Grids with their household and resident counts on the date asked for."""

    serializer_class = GridSerializer
    filterset_class = GridFilterSet

    def get_queryset(self):
        on = parse_on(self.request.query_params.get("on"))
        return (
            Grid.objects.visible_to(self.request.user)
            .valid_on(on)
            .select_related("community", "leader")
            .prefetch_related("workers")
            .annotate(geom=_boundary_on(GridBoundary, "grid", on))
            .order_by("code")
        )

    def _with_figures(self, grids):
        on = parse_on(self.request.query_params.get("on"))
        figures = stats.household_figures(on, grid_ids=[g.pk for g in grids])
        return self.get_serializer(
            grids, many=True, context={**self.get_serializer_context(), "figures": figures}
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._with_figures(page).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self._with_figures([self.get_object()]).data["features"][0])


class HouseholdViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Households: a point, a standard address, the grid it was keyed to when written.

    POST with a `client_key` is safe to resend: the second answer is 200 with the household
    the first one made.
    """

    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilterSet
    permission_classes = [permissions.IsAuthenticated, CanWriteHouseholds]

    def get_queryset(self):
        return (
            Household.objects.visible_to(self.request.user)
            .existing_on(None)
            .select_related("grid")
            .order_by("pk")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        household, created = households.create_household(
            address=serializer.validated_data["address"],
            location=serializer.validated_data["location"],
            client_key=serializer.validated_data.get("client_key"),
            registered_on=serializer.validated_data.get("registered_on"),
            user=request.user,
        )
        links = {
            name: serializer.validated_data[name]
            for name in ("building", "standard_address")
            if name in serializer.validated_data
        }
        if created and links:
            basedata.link_household(household, **links)
        household = get_object_or_404(self.get_queryset(), pk=household.pk)
        return Response(
            self.get_serializer(household).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @transaction.atomic
    def perform_update(self, serializer):
        location = serializer.validated_data.pop("location", None)
        if location is not None:
            # The tree lock before the row (saved below), the order a boundary change takes
            # them (tree, then the rows it re-keys); the other order can deadlock against it.
            sql.lock_tree(shared=True)
            # Refuse a move out of the jurisdiction before anything is saved.
            households.check_in_jurisdiction(self.request.user, households.grid_for_point(location))
        registered_before = serializer.instance.registered_on
        household = serializer.save()
        if household.registered_on != registered_before:
            # Registered on another past day: the figures kept since the earlier change.
            data_changed_since("households", min(registered_before, household.registered_on))
        if location is not None:
            households.move_household(household, location, user=self.request.user)

    # A plain list, not a page; adding residents answers 201 with the household's residents.
    @extend_schema(methods=["GET"], responses=ResidentSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ResidentSerializer, responses={201: ResidentSerializer(many=True)}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=ResidentSerializer,
        pagination_class=None,
    )
    def residents(self, request, pk=None):
        """The household's residents; personal data masked unless the role needs them."""
        household = self.get_object()
        if request.method == "POST":
            serializer = ResidentSerializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            households.add_residents(household, [serializer.validated_data])
        residents = list(Resident.objects.filter(household=household).order_by("pk"))
        data = ResidentSerializer(residents, many=True, context={"request": request}).data
        if scoping.sees_personal_data(request.user):
            audit.log_personal_read(
                request.user,
                "resident",
                [r.pk for r in residents],
                channel="api",
                path=request.get_full_path(),
            )
        return Response(
            data, status=status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK
        )


class ResidentViewSet(viewsets.ReadOnlyModelViewSet):
    """Residents the user may see, filtered by tag or grid; masked unless the role needs them."""

    serializer_class = ResidentSerializer
    pagination_class = None

    def get_queryset(self):
        residents = Resident.objects.visible_to(self.request.user).order_by("pk")
        params = self.request.query_params
        if tag := params.get("tag"):
            residents = residents.filter(tags__contains=[tag])
        if grid := params.get("grid"):
            residents = residents.filter(household__grid__code=grid)
        if registration := params.get("registration"):
            if registration not in Registration.values:
                values = ", ".join(Registration.values)
                raise ValidationError(
                    {"registration": [_("registration is one of %(values)s") % {"values": values}]}
                )
            residents = residents.filter(registration=registration)
        return residents

    def list(self, request, *args, **kwargs):
        limit = request.query_params.get("limit", "100")
        if not (limit.isascii() and limit.isdecimal()) or not 1 <= int(limit) <= 1000:
            raise ValidationError({"limit": [_("limit is a whole number from 1 to 1000")]})
        limit = int(limit)
        residents = list(self.get_queryset()[:limit])
        self._audit(residents)
        return Response(self.get_serializer(residents, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        resident = self.get_object()
        self._audit([resident])
        return Response(self.get_serializer(resident).data)

    def _audit(self, residents):
        if scoping.sees_personal_data(self.request.user):
            audit.log_personal_read(
                self.request.user,
                "resident",
                [r.pk for r in residents],
                channel="api",
                path=self.request.get_full_path(),
            )


class RollupView(APIView):
    """Households and residents (by tag) per region of a level, for any date."""

    @extend_schema(
        parameters=[
            ON,
            OpenApiParameter("level", OpenApiTypes.STR, enum=[*Level.values, "grid"]),
            OpenApiParameter("bbox", OpenApiTypes.STR, description="only grids in this box"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        level = request.query_params.get("level", Level.STREET)
        if level not in (*Level.values, "grid"):
            levels = ", ".join([*Level.values, "grid"])
            raise ValidationError({"level": [_("level is one of %(values)s") % {"values": levels}]})
        on = parse_on(request.query_params.get("on"))
        grids = Grid.objects.visible_to(request.user)
        regions = Region.objects.visible_to(request.user)
        if bbox := request.query_params.get("bbox"):
            # The grids in view (the map's figures panel), by their boundary then.
            in_view = GridBoundary.objects.valid_on(on).filter(geom__bboverlaps=parse_bbox(bbox))
            grids = grids.filter(pk__in=in_view.values("grid_id"))
        result = stats.rollup(
            on,
            grids=grids,
            regions=regions,
            count_unassigned=scoping.sees_unassigned(request.user),
        )
        if level == "grid":
            names = {g.pk: g for g in grids.valid_on(on).only("code", "name")}
            items = result["grids"]
        else:
            names = {r.pk: r for r in regions.valid_on(on).filter(level=level).only("code", "name")}
            items = {pk: f for pk, f in result["regions"].items() if pk in names}
        rows = [
            {"id": pk, "code": names[pk].code, "name": names[pk].name, **figures.as_dict()}
            for pk, figures in sorted(items.items(), key=lambda item: names[item[0]].code)
        ]
        return Response(
            {
                "on": result["on"],
                "level": level,
                "results": rows,
                "unassigned": result["unassigned"].as_dict(),
            }
        )


class ExportView(APIView):
    """Download a layer as GeoPackage, GeoJSON or zipped Shapefile, scoped to the user."""

    @extend_schema(parameters=[ON], responses={(200, "application/octet-stream"): bytes})
    def get(self, request, layer: str, fmt: str):
        if layer not in LAYERS:
            raise ValidationError(
                {"layer": [_("layer is one of %(values)s") % {"values": ", ".join(LAYERS)}]}
            )
        if fmt not in FORMATS:
            raise ValidationError(
                {"format": [_("format is one of %(values)s") % {"values": ", ".join(FORMATS)}]}
            )
        try:
            result = export_layer(
                request.user, layer, fmt, parse_on(request.query_params.get("on"))
            )
        except UnknownLayer as exc:
            raise ValidationError({"layer": [str(exc)]}) from exc
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return response


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    """The line departments of the user's district (to dispatch and whistle to)."""

    serializer_class = DepartmentSerializer
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self):
        user = self.request.user
        if scoping.sees_everything(user):
            return Department.objects.all()
        district = scoping.user_district(user)
        return (
            Department.objects.filter(district=district) if district else Department.objects.none()
        )


class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)
