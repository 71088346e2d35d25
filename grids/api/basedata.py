"""The 一标三实 places' API: /api/buildings/, /api/units/, /api/addresses/ as GeoJSON.

Reads are scoped by `visible_to(user)` (a department sees its district's places, decision 4);
writes go through the write services (grids.services.basedata), which key the point to its
grid under the tree lock and refuse a point outside the writer's jurisdiction. Units' personal
fields (legal person, contact phone) are masked for roles that do not see personal data, and
unmasked reads are audited like residents'.
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from grids import scoping
from grids.api.basedata_filters import AddressFilterSet, BuildingFilterSet, UnitFilterSet
from grids.api.basedata_serializers import AddressSerializer, BuildingSerializer, UnitSerializer
from grids.api.views import CanWriteHouseholds
from grids.models import Address, Building, Unit
from grids.services import audit, basedata
from grids.signals import announce


class PlaceViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """What the places' endpoints share: who writes (those who keep the grid's records), a
    create that answers 200 with the first row for a resend, an answer read back through the
    scoped queryset."""

    permission_classes = [permissions.IsAuthenticated, CanWriteHouseholds]

    def write(self, data: dict) -> tuple[object, bool]:
        raise NotImplementedError

    def change(self, instance, data: dict):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        place, created = self.write(dict(serializer.validated_data))
        place = get_object_or_404(self.get_queryset(), pk=place.pk)
        return Response(
            self.answer(place),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.change(instance, dict(serializer.validated_data))
        return Response(self.answer(get_object_or_404(self.get_queryset(), pk=instance.pk)))

    def retrieve(self, request, *args, **kwargs):
        return Response(self.answer(self.get_object()))

    def answer(self, place) -> dict:
        return self.get_serializer(place).data


class LivingPlaceViewSet(PlaceViewSet, mixins.DestroyModelMixin):
    """Places with a lifetime: DELETE ends it today (kept for past figures and history)."""

    def remove(self, instance) -> None:
        raise NotImplementedError

    def perform_destroy(self, instance):
        self.remove(instance)


@extend_schema_view(
    destroy=extend_schema(description="The building no longer exists from today (kept).")
)
class BuildingViewSet(LivingPlaceViewSet):
    """实有房屋: buildings at their points (the footprint as a property), keyed to the grid
    the point lies in. POST with a `client_key` is safe to resend."""

    serializer_class = BuildingSerializer
    filterset_class = BuildingFilterSet

    def get_queryset(self):
        return (
            Building.objects.visible_to(self.request.user)
            .existing_on(None)
            .select_related("grid")
            .order_by("pk")
        )

    def write(self, data):
        return basedata.create_building(
            client_key=data.pop("client_key", None), user=self.request.user, **data
        )

    def change(self, instance, data):
        data.pop("client_key", None)
        return basedata.update_building(instance, user=self.request.user, **data)

    def remove(self, instance):
        basedata.remove_building(instance, user=self.request.user)


@extend_schema_view(
    destroy=extend_schema(description="The unit no longer exists from today (kept).")
)
class UnitViewSet(LivingPlaceViewSet):
    """实有单位: units at their points with their type from the catalogue. The legal person
    and the contact phone are masked unless the role sees personal data; unmasked reads are
    audited."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet

    def get_queryset(self):
        return (
            Unit.objects.visible_to(self.request.user)
            .existing_on(None)
            .select_related("grid", "type")
            .order_by("pk")
        )

    def write(self, data):
        return basedata.create_unit(
            client_key=data.pop("client_key", None), user=self.request.user, **data
        )

    def change(self, instance, data):
        data.pop("client_key", None)
        return basedata.update_unit(instance, user=self.request.user, **data)

    def remove(self, instance):
        basedata.remove_unit(instance, user=self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self._audit(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def answer(self, place) -> dict:
        self._audit([place])
        return super().answer(place)

    def _audit(self, units) -> None:
        """Unmasked personal fields read: who, which units, where (as residents)."""
        if not scoping.sees_personal_data(self.request.user):
            return
        ids = [unit.pk for unit in units if unit.legal_person or unit.contact_phone]
        audit.log_personal_read(
            self.request.user, "unit", ids, channel="api", path=self.request.get_full_path()
        )


class AddressViewSet(PlaceViewSet):
    """标准地址: standard addresses. POST the address as typed (`text`): it is read into its
    parts and normalised, and the existing address of that standard text answers 200 (one
    door, one address). A point keys it to its grid; PATCH may add or move the point and
    link the building."""

    serializer_class = AddressSerializer
    filterset_class = AddressFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return (
            Address.objects.visible_to(self.request.user)
            .select_related("grid", "community")
            .order_by("pk")
        )

    def write(self, data):
        return basedata.get_or_create_address(
            data["text"],
            location=data.get("location"),
            building=data.get("building"),
            user=self.request.user,
        )

    @transaction.atomic
    def change(self, instance, data):
        fields = []
        if "location" in data and data["location"] != instance.location:
            location = data["location"]
            instance.grid = basedata.key_point(location, self.request.user) if location else None
            instance.location = location
            fields += ["location", "grid"]
        if "building" in data and data["building"] != instance.building:
            instance.building = data["building"]
            fields.append("building")
        if fields:
            instance.save(update_fields=fields)
            announce(Address)
        return instance

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address, created = self.write(dict(serializer.validated_data))
        visible = self.get_queryset().filter(pk=address.pk).first()
        if visible is None and not created:
            # The same door kept by another jurisdiction: as for anything outside it, "not
            # found", and nothing of it (its point, its grid) in the answer.
            raise NotFound()
        # A new address without a point is in no grid yet; its writer still gets it back.
        return Response(
            self.answer(visible or address),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
