"""Sensors API: one-key broadcast (一键调度) to voice poles, and the poles' acknowledgements.

* `POST /api/sensors/broadcasts/` `{"message", "poles": [ids], "repeat", "point": [lon, lat],
  "incident": id}` → 201 with the broadcast; staff above the grid worker only (403);
* `GET /api/sensors/broadcasts/` (newest first, paginated; rows without their deliveries)
  and `GET /api/sensors/broadcasts/{id}/` (with one row per pole);
* `POST /api/sensors/broadcasts/{id}/retry/`: the failed deliveries go back in the queue;
* `POST /api/sensors/deliveries/{id}/ack/` `{"at": iso}`: a gateway's token only.
"""

from __future__ import annotations

from django.contrib.gis.geos import Point
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.api.fields import MomentField
from grids.api.routers import SimpleRouter
from sensors.api.auth import DeviceTokenAuthentication, IsGateway
from sensors.models import Broadcast, Delivery, DeliveryState
from sensors.services import broadcast as service


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
        "description": "[longitude, latitude] in WGS84 degrees",
        "nullable": True,
    }
)
class LonLatField(serializers.Field):
    """A point as `[lon, lat]`, the same way in and out."""

    default_error_messages = {
        "invalid": _("A point is [longitude, latitude] in degrees."),
    }

    def to_internal_value(self, data) -> Point:
        if not isinstance(data, list | tuple) or len(data) != 2:
            self.fail("invalid")
        try:
            lon, lat = (float(value) for value in data)
        except (TypeError, ValueError):
            self.fail("invalid")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            self.fail("invalid")
        return Point(lon, lat, srid=4326)

    def to_representation(self, value):
        return [round(value.x, 7), round(value.y, 7)]


class BroadcastCreateSerializer(serializers.Serializer):
    """What the service checks (length, poles of your district, repeat range) it names in
    the 400 answer; here only the JSON types."""

    message = serializers.CharField(allow_blank=True, trim_whitespace=False)
    poles = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
    repeat = serializers.IntegerField(default=2)
    point = LonLatField(required=False, allow_null=True, default=None)
    incident = serializers.IntegerField(required=False, allow_null=True, default=None)


class BroadcastCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField(source="n_queued")
    sent = serializers.IntegerField(source="n_sent")
    acknowledged = serializers.IntegerField(source="n_acknowledged")
    failed = serializers.IntegerField(source="n_failed")


class BroadcastPoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    pole = BroadcastPoleSerializer(read_only=True)
    state = serializers.ChoiceField(choices=DeliveryState.choices, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "pole",
            "state",
            "attempts",
            "last_error",
            "sent_at",
            "acknowledged_at",
            "next_attempt_at",
        ]
        read_only_fields = fields


class BroadcastSerializer(serializers.ModelSerializer):
    """A broadcast with its number of deliveries in each state."""

    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    point = LonLatField(read_only=True, allow_null=True)
    counts = BroadcastCountsSerializer(source="*", read_only=True)

    class Meta:
        model = Broadcast
        fields = [
            "id",
            "message",
            "repeat",
            "created_at",
            "created_by",
            "adapter",
            "point",
            "incident",
            "counts",
        ]
        read_only_fields = fields


class BroadcastDetailSerializer(BroadcastSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta(BroadcastSerializer.Meta):
        fields = [*BroadcastSerializer.Meta.fields, "deliveries"]
        read_only_fields = fields


class DeliveryAckSerializer(serializers.Serializer):
    # A pole's clock ahead of ours is clamped to now by the service, not refused.
    at = MomentField(
        limit_future=False,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("when the pole played it"),
    )


class BroadcastPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BroadcastViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Broadcasts reaching the poles of your district (and your own), newest first. Any
    staff member of the district reads them; grid workers may not broadcast."""

    pagination_class = BroadcastPagination
    filter_backends: list = []

    def get_queryset(self):
        broadcasts = service.with_counts(service.visible_broadcasts(self.request.user))
        broadcasts = broadcasts.select_related("created_by")
        if self.action != "list":
            broadcasts = broadcasts.prefetch_related(
                Prefetch(
                    "deliveries",
                    Delivery.objects.select_related("pole").order_by("pole__code", "pk"),
                )
            )
        return broadcasts.order_by("-created_at", "-pk")

    def get_serializer_class(self):
        if self.action == "list":
            return BroadcastSerializer
        return BroadcastDetailSerializer

    def _detail(self, pk: int) -> dict:
        self.action = "retrieve"
        return BroadcastDetailSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data

    @extend_schema(request=BroadcastCreateSerializer, responses={201: BroadcastDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Broadcast a message to the chosen voice poles: one delivery each, sent by the
        background worker through the configured gateway."""
        serializer = BroadcastCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        made = service.create_broadcast(
            user=request.user,
            message=fields["message"],
            pole_ids=fields["poles"],
            repeat=fields["repeat"],
            point=fields["point"],
            incident=fields["incident"],
        )
        return Response(self._detail(made.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: BroadcastDetailSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Put the failed deliveries back in the queue, with a fresh set of tries."""
        found = get_object_or_404(service.visible_broadcasts(request.user), pk=pk)
        service.retry_failed(found, request.user)
        return Response(self._detail(found.pk))


class DeliveryAckView(APIView):
    """A gateway confirms that the pole played the message (the HTTP counterpart of the
    MQTT acknowledgement topic). Only a gateway's token; a repeat keeps the first time."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsGateway]

    @extend_schema(request=DeliveryAckSerializer, responses={200: DeliverySerializer})
    def post(self, request, pk: int):
        serializer = DeliveryAckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = service.acknowledge(pk, serializer.validated_data["at"], request.user.gateway)
        return Response(DeliverySerializer(delivery).data)


router = SimpleRouter()
router.register("broadcasts", BroadcastViewSet, basename="sensor-broadcast")

urlpatterns = [
    *router.urls,
    path("deliveries/<int:pk>/ack/", DeliveryAckView.as_view(), name="sensor-delivery-ack"),
]
