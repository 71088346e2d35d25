"""/api/needs/dispatches/: the provider's inbox (its dispatches, newest first, and whether the
community has confirmed it yet), and the provider's steps: accept (接单), decline (退单),
report back (服务反馈, with hours and photos); the community withdraws a dispatch or records
a report on the provider's behalf. Each step sends the dispatch's `version`."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from grids.api.pagination import QueuePagination
from grids.api.parsers import FormParser, JSONParser, MultiPartParser
from grids.models import Role
from needs.api.common import STALE_RESPONSE, MaskedContext, body_of, one, stale_response
from needs.api.filters import DispatchFilterSet
from needs.api.masks import audit_needs
from needs.api.serializers_dispatches import (
    DispatchReasonSerializer,
    DispatchReportSerializer,
    DispatchSerializer,
    DispatchVersionSerializer,
    OwnProviderSerializer,
)
from needs.models import Dispatch, Need, NeedPhoto, Provider
from needs.services import dispatch
from needs.services.errors import Stale

PROVIDERS_SCHEMA = {
    "type": "array",
    "description": "for a provider's account: the providers it acts for and their status "
    "(pending: 等待社区确认, no dispatch comes until the community confirms)",
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "status": {"type": "string"},
            "status_label": {"type": "string"},
            "community_name": {"type": "string"},
            "refuse_reason": {"type": "string"},
        },
    },
}


class InboxPagination(QueuePagination):
    """Pages of dispatches, with the asking provider's own registrations beside them."""

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["properties"]["providers"] = PROVIDERS_SCHEMA
        return page


class DispatchViewSet(
    MaskedContext, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Dispatches the user may see: a provider's accounts their provider's; the community
    those of the needs it sees (filter by `need` or `provider`)."""

    serializer_class = DispatchSerializer
    filterset_class = DispatchFilterSet
    pagination_class = InboxPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        dispatches = Dispatch.objects.visible_to(self.request.user)
        if getattr(self.request.user, "role", "") == Role.PROVIDER:
            # The same rows, said so that PostgreSQL starts from the provider's index instead
            # of testing every dispatch, newest first (140 ms → a few on the small demo).
            own = Provider.objects.filter(users=self.request.user).values("pk")
            dispatches = dispatches.filter(provider__in=own)
        return (
            # The needs in a query of their own: joined here, the statement has more joins
            # than PostgreSQL reorders (join_collapse_limit) and it hashed every dispatch and
            # need before the provider's filter (140 ms for 8 rows on the small demo).
            dispatches.select_related("provider", "dispatched_by", "accepted_by", "reported_by")
            .prefetch_related(
                Prefetch("need", Need.objects.select_related("kind", "grid", "community")),
                Prefetch("photos", NeedPhoto.objects.order_by("at", "id")),
            )
            .order_by("-dispatched_at", "-id")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_needs(request, [d.need for d in page], self.masks())
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        providers = []
        if request.user.role == Role.PROVIDER:
            own = Provider.objects.filter(users=request.user).select_related("community")
            providers = OwnProviderSerializer(own.order_by("pk"), many=True).data
        response.data["providers"] = providers
        return response

    def retrieve(self, request, *args, **kwargs):
        return Response(self.read_one(kwargs["pk"]))

    def read_one(self, pk: int) -> dict:
        # The contact may have been unmasked by this very step (接单): masks afresh.
        self.__dict__.pop("_masks", None)
        found = one(self.get_queryset(), pk=pk)
        audit_needs(self.request, [found.need], self.masks())
        return DispatchSerializer(found, context=self.get_serializer_context()).data

    def step(self, pk, serializer_class, do) -> Response:
        found = one(Dispatch.objects.visible_to(self.request.user), pk=pk)
        serializer = serializer_class(data=body_of(self.request))
        serializer.is_valid(raise_exception=True)
        try:
            changed = do(found, serializer.validated_data)
        except Stale as stale:
            return stale_response(stale, self.read_one(stale.current.pk))
        return Response(self.read_one(changed.pk))

    @extend_schema(
        request=DispatchVersionSerializer,
        responses={200: DispatchSerializer, 409: STALE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """接单: the provider takes the need on; its contact is shown from now on."""
        return self.step(
            pk,
            DispatchVersionSerializer,
            lambda d, f: dispatch.accept(d, request.user, f["version"]),
        )

    @extend_schema(
        request=DispatchReasonSerializer,
        responses={200: DispatchSerializer, 409: STALE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """退单 with a reason: the need goes back to the community to dispatch again."""
        return self.step(
            pk,
            DispatchReasonSerializer,
            lambda d, f: dispatch.decline(d, request.user, f["version"], f["reason"]),
        )

    @extend_schema(
        request=DispatchReportSerializer,
        responses={200: DispatchSerializer, 409: STALE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        """服务反馈: what was done, the hours, photos (multipart `photos`); the grid worker
        or the community confirms next."""
        return self.step(
            pk,
            DispatchReportSerializer,
            lambda d, f: dispatch.report(
                d, request.user, f["version"], f["report"], f["hours"], f["photos"]
            ),
        )

    @extend_schema(
        request=DispatchReasonSerializer,
        responses={200: DispatchSerializer, 409: STALE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The community takes the dispatch back, with a reason (the provider is told)."""
        return self.step(
            pk,
            DispatchReasonSerializer,
            lambda d, f: dispatch.withdraw(d, request.user, f["version"], f["reason"]),
        )
