"""/api/needs/providers/, /offers/, /kinds/: the services list (服务清单). The community (and
the street and district centres over it) enters providers, confirms or refuses 双报到
registrations (a location is needed: matching measures from it), suspends them and keeps
their offers; a grid worker reads its community's confirmed providers; a provider's account
reads its own. Every change sends the `version` it read."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from grids.api.pagination import QueuePagination
from grids.api.parsers import JSONParser
from grids.models import Level, Region, Unit
from needs.api.common import (
    STALE_RESPONSE,
    MaskedContext,
    one,
    refuse_unknown,
    stale_response,
)
from needs.api.filters import ProviderFilterSet
from needs.api.masks import audit_providers
from needs.api.serializers_needs import ServiceKindSerializer
from needs.api.serializers_providers import (
    OfferCreateSerializer,
    OfferEditSerializer,
    OfferSerializer,
    ProviderConfirmSerializer,
    ProviderCreateSerializer,
    ProviderEditSerializer,
    ProviderReasonSerializer,
    ProviderSerializer,
    ProviderSuspendSerializer,
)
from needs.models import Provider, ServiceKind, ServiceOffer
from needs.services import providers
from needs.services.errors import Stale


def visible_communities(request, ids, field: str) -> list[int]:
    """Community ids the caller may name; any other is refused as not existing."""
    ids = list(dict.fromkeys(ids))
    found = set(
        Region.objects.visible_to(request.user)
        .filter(pk__in=ids, level=Level.COMMUNITY)
        .values_list("pk", flat=True)
    )
    if len(found) != len(ids):
        raise ValidationError({field: [_("no such community in your jurisdiction")]})
    return ids


def offers_prefetch():
    return Prefetch(
        "offers",
        ServiceOffer.objects.select_related("kind").prefetch_related("area").order_by("pk"),
    )


class ProviderViewSet(
    MaskedContext, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """服务方: units, co-building units, volunteers and registered party members with their
    offers. `status=pending` lists the 双报到 registrations waiting for the community."""

    serializer_class = ProviderSerializer
    filterset_class = ProviderFilterSet
    pagination_class = QueuePagination
    parser_classes = [JSONParser]

    def get_queryset(self):
        return (
            Provider.objects.visible_to(self.request.user)
            .select_related("community", "grid")
            .prefetch_related(offers_prefetch())
            .order_by("community_id", "name", "id")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_providers(request, page, self.masks())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.read_one(kwargs["pk"]))

    def read_one(self, pk) -> dict:
        found = one(self.get_queryset(), pk=pk)
        audit_providers(self.request, [found], self.masks())
        return ProviderSerializer(found, context=self.get_serializer_context()).data

    @extend_schema(request=ProviderCreateSerializer, responses={201: ProviderSerializer})
    def create(self, request, *args, **kwargs):
        """Enter a provider with its offers (community staff: in their community)."""
        serializer = ProviderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        community = data["community"]
        if community is None:
            region = getattr(request.user, "region", None)
            if region is None or region.level != Level.COMMUNITY:
                raise ValidationError({"community": [_("name the community")]})
            community = region.pk
        data["community"] = visible_communities(request, [community], "community")[0]
        if data["unit"] is not None:
            unit = Unit.objects.visible_to(request.user).filter(pk=data["unit"]).first()
            if unit is None:
                raise ValidationError({"unit": [_("no such unit in your jurisdiction")]})
            data["unit"] = unit
        for i, line in enumerate(data["offers"]):
            if line["area"] is not None:
                visible_communities(request, line["area"], f"offers.{i}.area")
        provider = providers.create(request.user, data)
        return Response(self.read_one(provider.pk), status=status.HTTP_201_CREATED)

    def step(self, pk, serializer_class, do) -> Response:
        found = one(Provider.objects.visible_to(self.request.user), pk=pk)
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            changed = do(found, dict(serializer.validated_data))
        except Stale as stale:
            return stale_response(stale, self.read_one(stale.current.pk))
        return Response(self.read_one(changed.pk))

    @extend_schema(
        request=ProviderEditSerializer, responses={200: ProviderSerializer, 409: STALE_RESPONSE}
    )
    def partial_update(self, request, pk=None):
        """Change the name, organisation, phone or location (the community)."""
        refuse_unknown(request.data, ProviderEditSerializer)
        return self.step(
            pk,
            ProviderEditSerializer,
            lambda p, f: providers.update(p, request.user, f.pop("version"), f),
        )

    @extend_schema(
        request=ProviderConfirmSerializer, responses={200: ProviderSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm a registration (双报到): it needs a location; dispatches may come now."""
        return self.step(
            pk,
            ProviderConfirmSerializer,
            lambda p, f: providers.confirm(p, request.user, f["version"], f["location"]),
        )

    @extend_schema(
        request=ProviderReasonSerializer, responses={200: ProviderSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse a pending registration, with a reason (the account is told)."""
        return self.step(
            pk,
            ProviderReasonSerializer,
            lambda p, f: providers.refuse(p, request.user, f["version"], f["reason"]),
        )

    @extend_schema(
        request=ProviderSuspendSerializer, responses={200: ProviderSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """No new dispatches to this provider; those under way go on."""
        return self.step(
            pk,
            ProviderSuspendSerializer,
            lambda p, f: providers.suspend(p, request.user, f["version"], f["reason"]),
        )


class OfferViewSet(
    MaskedContext,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Offers (lines of the services list) of the providers the user sees; `kind=` and
    `provider=` filter them."""

    serializer_class = OfferSerializer
    pagination_class = QueuePagination
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        offers = (
            ServiceOffer.objects.filter(
                provider__in=Provider.objects.visible_to(self.request.user).values("pk")
            )
            .select_related("kind")
            .prefetch_related("area")
            .order_by("provider_id", "pk")
        )
        params = self.request.query_params
        kind = params.get("kind")
        if kind:
            offers = offers.filter(kind__code=kind[:32])
        provider = params.get("provider")
        if provider:
            if not (provider.isascii() and provider.isdigit() and len(provider) < 12):
                raise ValidationError({"provider": [_("a provider's id")]})
            offers = offers.filter(provider_id=int(provider))
        return offers

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, description="a service kind's code"),
            OpenApiParameter("provider", int),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def read_one(self, pk) -> dict:
        return OfferSerializer(one(self.get_queryset(), pk=pk)).data

    @extend_schema(request=OfferCreateSerializer, responses={201: OfferSerializer})
    def create(self, request, *args, **kwargs):
        """Add an offer to a provider (the community)."""
        serializer = OfferCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        provider = Provider.objects.visible_to(request.user).filter(pk=data.pop("provider")).first()
        if provider is None:
            raise ValidationError({"provider": [_("no such provider in your jurisdiction")]})
        if data["area"] is not None:
            visible_communities(request, data["area"], "area")
        offer = providers.add_offer(provider, request.user, data)
        return Response(self.read_one(offer.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=OfferEditSerializer, responses={200: OfferSerializer, 409: STALE_RESPONSE}
    )
    def partial_update(self, request, *args, **kwargs):
        """Change an offer (the community), with its `version`."""
        offer = one(self.get_queryset(), pk=kwargs["pk"])
        refuse_unknown(request.data, OfferEditSerializer)
        serializer = OfferEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        if "area" in data:
            visible_communities(request, data["area"], "area")
        try:
            changed = providers.update_offer(offer, request.user, version, data)
        except Stale as stale:
            return stale_response(stale, self.read_one(stale.current.pk))
        return Response(self.read_one(changed.pk))

    @extend_schema(exclude=True)
    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("version", int, required=True)],
        responses={204: None, 200: OfferSerializer, 409: STALE_RESPONSE},
    )
    def destroy(self, request, *args, **kwargs):
        """Remove an offer (`?version=`): one that dispatches name is kept, made inactive
        (answered 200 with it); otherwise deleted (204)."""
        offer = one(self.get_queryset(), pk=kwargs["pk"])
        version = request.query_params.get("version", "")
        if not (version.isascii() and version.isdigit() and 0 < len(version) < 10):
            raise ValidationError({"version": [_("send the version you read as ?version=")]})
        try:
            providers.remove_offer(offer, request.user, int(version))
        except Stale as stale:
            return stale_response(stale, self.read_one(stale.current.pk))
        if ServiceOffer.objects.filter(pk=offer.pk).exists():
            return Response(self.read_one(offer.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class KindViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The catalogue of service kinds (one list for needs and offers)."""

    serializer_class = ServiceKindSerializer
    pagination_class = None
    queryset = ServiceKind.objects.filter(active=True).order_by("order", "code")

    @extend_schema(responses=ServiceKindSerializer(many=True))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
