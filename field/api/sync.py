"""The pull of the field app (issue #18): GET /api/field/sync/?since=<token>.

Answers the worker's working set (field.services.workingset), gzip-compressed when the phone
accepts it, with `ETag: "<token>"`; `If-None-Match` with the current token and nothing
changed answers 304 with no body, so a no-change sync is one small request. Each pull slides
the device token's expiry and records the device's last sync."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.utils.http import parse_etags
from django.views.decorators.gzip import gzip_page
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from field.api.auth import FieldAPIView, refuse_non_workers
from field.services import devices, workingset
from grids.tokens import ApiToken


def _matches(request, token: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    # Compressed answers carry a weak ETag (W/"…"; GZipMiddleware's doing): both match.
    tags = [tag.removeprefix("W/") for tag in parse_etags(header)]
    return f'"{token}"' in tags


@method_decorator(gzip_page, name="dispatch")
class SyncView(FieldAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", str, description="the token of the phone's last pull (absent: all)"
            )
        ],
        responses={200: OpenApiTypes.OBJECT, 304: None},
    )
    def get(self, request):
        """The grid worker's working set, or what changed since `since`."""
        refuse_non_workers(request.user)
        result = workingset.pull(
            request.user, request.query_params.get("since"), path=request.get_full_path()
        )
        if isinstance(request.auth, ApiToken):
            devices.synced(request.auth)
        if not result.changed and _matches(request, result.token):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response(result.body)
        response["ETag"] = f'"{result.token}"'
        # Per user and token: a shared cache must not keep it; the phone revalidates.
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Authorization, Cookie, Accept-Encoding"
        return response
