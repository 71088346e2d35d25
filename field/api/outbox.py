"""POST /api/field/outbox/: the phone's outbox, one item per request (issue #18).

JSON (the item itself), or multipart with a part `item` (the item's JSON) and files `photos`
for the kinds that take photos. Answers: 201 applied, 200 a resend of an applied key (the
first answer, `resent: true`), 409 a conflict with the current record, 4xx a refusal naming
the field (nothing stored: the worker may fix the item and send it again with the same key),
401 with `wipe: true` for a revoked device (field.api.auth)."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from field.api.auth import FieldAPIView, refuse_non_workers
from field.models import Device
from field.services import outbox
from grids import limits
from grids.api.parsers import JSONParser, MultiPartParser

ITEM = {
    "type": "object",
    "required": ["client_key", "kind"],
    "properties": {
        "client_key": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": sorted(outbox.KINDS)},
        "target": {"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True},
        "base_version": {"type": "string", "nullable": True},
        "client_time": {"type": "string", "format": "date-time", "nullable": True},
        "data": {"type": "object"},
    },
}
MULTIPART = {
    "type": "object",
    "required": ["item"],
    "properties": {
        "item": {"type": "string", "description": "the item as JSON"},
        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
}


def device_of(request) -> Device | None:
    """The device whose token made the request (None for a session or another token)."""
    if request.auth is None or not hasattr(request.auth, "pk"):
        return None
    return Device.objects.filter(token=request.auth.pk).first()


def item_of(request):
    """The item and its photos, from a JSON body or a multipart form."""
    data = request.data
    if not hasattr(data, "getlist"):
        return data, []
    raw = data.get("item")
    if raw in (None, ""):
        raise ValidationError({"item": [_("send the item as JSON in the part `item`")]})
    try:
        item = limits.load_json(raw, "item")
    except json.JSONDecodeError:
        # The parser's own words are English and name characters, not what to do.
        raise ValidationError({"item": [_("The part item is not valid JSON.")]}) from None
    except ValueError as error:
        raise ValidationError({"item": [str(error)]}) from None
    return item, request.FILES.getlist("photos")


class OutboxView(FieldAPIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": ITEM, "multipart/form-data": MULTIPART},
        responses={
            201: OpenApiResponse(OpenApiTypes.OBJECT, description="applied"),
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="a resend: the first answer"),
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="conflict, with `current`"),
        },
    )
    def post(self, request):
        """Apply one outbox item of the phone (see the module's note)."""
        refuse_non_workers(request.user)
        item, photos = item_of(request)
        answer = outbox.push(
            item, photos, user=request.user, device=device_of(request), request=request
        )
        return Response(answer.body, status=answer.status)
