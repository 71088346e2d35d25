"""/api/needs/: needs the user may see, raised by grid workers and the community, reviewed
(accept, decline, merge), dispatched to a provider and confirmed. Every step sends the
`version` it read; the services do the work (needs.services.*) and a stale version answers
409 with the current need."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from grids.api.pagination import QueuePagination
from grids.api.parsers import FormParser, JSONParser, MultiPartParser
from grids.models import Grid, Role
from needs.api.common import (
    STALE_RESPONSE,
    MaskedContext,
    body_of,
    one,
    refuse_unknown,
    stale_response,
)
from needs.api.filters import NeedFilterSet
from needs.api.masks import audit_needs, audit_providers
from needs.api.serializers_needs import (
    ConfirmSerializer,
    DeclineSerializer,
    EditSerializer,
    MergeSerializer,
    NeedCandidateSerializer,
    NeedDetailSerializer,
    NeedDuplicateSerializer,
    NeedSerializer,
    RaiseSerializer,
    SendSerializer,
    VersionSerializer,
)
from needs.models import Dispatch, Need, NeedEvent, NeedSource, Provider, ServiceOffer
from needs.services import access, dispatch, intake, matching, review
from needs.services.errors import Stale


def serving(user, need: Need):
    """Providers the user may dispatch this need to: those it sees, and those of other
    communities with an active offer whose area takes in the need's community (a co-building
    unit or a street-wide volunteer registered next door)."""
    in_area = ServiceOffer.objects.filter(
        provider=OuterRef("pk"), area=need.community_id, active=True
    )
    return Provider.objects.filter(
        Q(pk__in=Provider.objects.visible_to(user).values("pk")) | Q(Exists(in_area))
    )


def open_dispatches():
    return Prefetch(
        "dispatches",
        Dispatch.objects.open().select_related("provider"),
        to_attr="open_dispatches",
    )


class NeedViewSet(
    MaskedContext, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Needs (需求 / 微心愿) the user may see: a grid worker its grid's, the community, street
    and district centres those under their region, a provider those dispatched to it; a
    department none. Contacts are masked for roles without personal data and for a provider
    until it has accepted (接单)."""

    serializer_class = NeedSerializer
    filterset_class = NeedFilterSet
    pagination_class = QueuePagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        needs = (
            Need.objects.visible_to(self.request.user)
            .select_related("kind", "grid", "community")
            .prefetch_related(open_dispatches())
        )
        if self.action == "retrieve":
            needs = needs.select_related(
                "raised_by", "reviewed_by", "confirmed_by", "merged_into"
            ).prefetch_related(
                Prefetch("events", NeedEvent.objects.select_related("actor", "provider")),
                "photos",
                Prefetch(
                    "dispatches",
                    Dispatch.objects.select_related(
                        "provider", "dispatched_by", "accepted_by", "reported_by"
                    ).prefetch_related("photos"),
                ),
            )
        return needs.order_by("-raised_at", "-id")

    def get_serializer_class(self):
        return NeedDetailSerializer if self.action == "retrieve" else NeedSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_needs(request, page, self.masks())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.read_one(kwargs["pk"]))

    def read_one(self, need) -> dict:
        pk = getattr(need, "pk", need)
        self.action = "retrieve"
        found = one(self.get_queryset(), pk=pk)
        audit_needs(self.request, [found], self.masks())
        return NeedDetailSerializer(found, context=self.get_serializer_context()).data

    def need(self, pk) -> Need:
        """The need by id among those the user sees: any other id is 404 (decision 4)."""
        return one(
            Need.objects.visible_to(self.request.user).select_related("kind", "grid", "community"),
            pk=pk,
        )

    def step(self, pk, do) -> Response:
        need = pk if isinstance(pk, Need) else self.need(pk)
        try:
            changed = do(need)
        except Stale as stale:
            return stale_response(stale, self.read_one(stale.current.pk))
        return Response(self.read_one(changed.pk))

    # --- raise and edit ------------------------------------------------------------------------

    @extend_schema(request=RaiseSerializer, responses={201: NeedDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Raise a need (grid workers in their grid; the community, street and district centres
        under their region): JSON, or multipart with up to GRIDLINE_NEEDS_PHOTOS_MAX `photos`.
        Keyed to the grid by `location`, else `grid` (a code) or the worker's own grid. A resend
        with the same `client_key` answers 200 with the first need."""
        user = request.user
        if user.role in (Role.DEPARTMENT, Role.PROVIDER):
            raise PermissionDenied(_("your role does not raise needs"))
        serializer = RaiseSerializer(data=body_of(request))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        photos = data.pop("photos")
        grid = None
        code = data.pop("grid")
        if code:
            grid = Grid.objects.visible_to(user).current().filter(code=code).first()
            if grid is None:
                # The code is not echoed: it may name another jurisdiction's grid.
                raise ValidationError(
                    {"grid": [_("no current grid with this code in your jurisdiction")]}
                )
        key = data.get("client_key")
        resent = bool(key) and Need.objects.filter(client_key=key, raised_by=user).exists()
        source = NeedSource.GRID_WORKER if user.role == Role.GRID_WORKER else NeedSource.STAFF
        need = intake.raise_need(user, data, photos, source=source, grid=grid)
        return Response(
            self.read_one(need.pk), status=status.HTTP_200_OK if resent else status.HTTP_201_CREATED
        )

    @extend_schema(
        request=EditSerializer, responses={200: NeedDetailSerializer, 409: STALE_RESPONSE}
    )
    def partial_update(self, request, pk=None):
        """Edit a need awaiting review or dispatch (the community; the grid worker while it
        awaits review), with the `version` read."""
        refuse_unknown(request.data, EditSerializer)
        serializer = EditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        return self.step(pk, lambda need: review.edit(need, request.user, version, data))

    # --- review --------------------------------------------------------------------------------

    @extend_schema(
        request=VersionSerializer, responses={200: NeedDetailSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept (受理): the need awaits dispatch, due in its kind's days (urgent: 2)."""
        fields = self._valid(VersionSerializer)
        return self.step(pk, lambda need: review.accept(need, request.user, fields["version"]))

    @extend_schema(
        request=DeclineSerializer, responses={200: NeedDetailSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline (不予受理) with a reason; the raiser is told."""
        fields = self._valid(DeclineSerializer)
        return self.step(
            pk,
            lambda need: review.decline(need, request.user, fields["version"], fields["reason"]),
        )

    @extend_schema(
        request=MergeSerializer, responses={200: NeedDetailSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge this need into `into`, the open need of the same community it repeats; it
        keeps its photos and contact, its raiser is told."""
        need = self.need(pk)
        fields = self._valid(MergeSerializer)
        into = Need.objects.visible_to(request.user).filter(pk=fields["into"]).first()
        if into is None:
            raise ValidationError({"into": [_("no such need in your jurisdiction")]})
        return self.step(
            need, lambda need: review.merge(need, into, request.user, fields["version"])
        )

    @extend_schema(
        request=ConfirmSerializer, responses={200: NeedDetailSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm completion (确认完成) with satisfaction 1-5: the grid worker of the need's
        grid or the community."""
        fields = self._valid(ConfirmSerializer)
        return self.step(
            pk,
            lambda need: dispatch.confirm(
                need, request.user, fields["version"], fields["satisfaction"], fields["feedback"]
            ),
        )

    @extend_schema(responses=NeedDuplicateSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def duplicates(self, request, pk=None):
        """Open needs of the same kind nearby (GRIDLINE_NEEDS_DUPLICATE_M) or of the same
        household, raised in the 30 days before it: nearest first, to merge."""
        found = review.duplicates(self.need(pk))
        # Read again as the list reads needs: scoped (duplicates are looked for across the
        # community; a grid worker sees its grid's only), with their open dispatch.
        rows = {n.pk: n for n in self.get_queryset().filter(pk__in=[n.pk for n in found])}
        listed = []
        for duplicate in found:
            if duplicate.pk in rows:
                rows[duplicate.pk].metres = duplicate.metres
                listed.append(rows[duplicate.pk])
        audit_needs(request, listed, self.masks())
        return Response(
            NeedDuplicateSerializer(listed, many=True, context=self.get_serializer_context()).data
        )

    # --- dispatch ------------------------------------------------------------------------------

    @extend_schema(responses=NeedCandidateSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def candidates(self, request, pk=None):
        """Providers that could serve the need, ranked: eligible first, then free capacity,
        distance in metres, load. `reason` says why one may not take it."""
        need = self.need(pk)
        if not access.is_reviewer(request.user, need.community):
            raise PermissionDenied(_("only the community dispatches needs"))
        found = matching.candidates(need)
        # A provider is named when the caller may see it or one of its offers serves the
        # need's community (so the community may dispatch to it); another jurisdiction's
        # volunteer or party member listed only to say why not is masked.
        named = set(
            serving(request.user, need)
            .filter(pk__in=[c.provider.pk for c in found])
            .values_list("pk", flat=True)
        )
        audit_providers(
            request, [c.provider for c in found if c.provider.pk in named], self.masks()
        )
        context = self.get_serializer_context() | {"kind": need.kind.code, "named": named}
        return Response(NeedCandidateSerializer(found, many=True, context=context).data)

    @extend_schema(
        request=SendSerializer, responses={200: NeedDetailSerializer, 409: STALE_RESPONSE}
    )
    @action(detail=True, methods=["post"], url_path="dispatch")
    def send(self, request, pk=None):
        """Dispatch (派单) the accepted need to a provider's offer; it has
        GRIDLINE_NEEDS_ACCEPT_HOURS to accept (接单) or decline (退单)."""
        need = self.need(pk)
        fields = self._valid(SendSerializer)
        provider = serving(request.user, need).filter(pk=fields["provider"]).first()
        if provider is None:
            raise ValidationError({"provider": [_("no such provider in your jurisdiction")]})
        offer = None
        if fields["offer"] is not None:
            offer = provider.offers.filter(pk=fields["offer"]).first()
            if offer is None:
                raise ValidationError({"offer": [_("the provider has no such offer")]})
        return self.step(
            need,
            lambda need: dispatch.send(need, provider, offer, request.user, fields["version"]).need,
        )

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
