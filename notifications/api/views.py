from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from grids.api.pagination import QueuePagination
from notifications.models import Notification
from notifications.services import mark_read


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at"]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True)


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="how many notifications were marked read")


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The user's own notifications, newest first; `unread=1` for the unread ones."""

    serializer_class = NotificationSerializer
    pagination_class = QueuePagination

    def get_queryset(self):
        inbox = Notification.objects.visible_to(self.request.user)
        if self.request.query_params.get("unread"):
            inbox = inbox.unread()
        return inbox.order_by("-created_at", "-id")

    @extend_schema(request=MarkReadSerializer, responses=MarkedSerializer)
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark the given notifications (or all) read."""
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"marked": mark_read(request.user, serializer.validated_data.get("ids"))})
