"""Every error under /ogc/ is one JSON body (the shared contract of issue #19):

{"code": "InvalidParameterValue", "description": "<the first reason, translated>", "status": 400,
 "errors": [{"code": "invalid", "field": "bbox", "message": "...", "position": 12}]}

It is the API's error body (`status`, `errors`: grids.api.errors) with OGC API's `code` and
`description` in front, so a client of either reads it. OgcError is what ogc's own modules
raise (parameters, CRS, CQL2); the handler also turns the API's refusals (grids.problems,
grids.limits, DRF's exceptions) into this body.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework.response import Response

from grids.api import errors as api_errors
from grids.limits import InputRefused

# OGC API - Features names its exceptions after OWS Common; the HTTP status says the rest.
CODES = {
    400: "InvalidParameterValue",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    428: "PreconditionRequired",
    429: "TooManyRequests",
    500: "ServerError",
    503: "ServiceUnavailable",
}


class OgcError(Exception):
    """A refusal: the HTTP status, a machine-readable code ("invalid", "unknown_parameter",
    ...), the parameter or field at fault, the reason (translated) and, for CQL2, the
    1-based character offset of the error in the expression."""

    def __init__(
        self,
        status: int,
        code: str,
        field: str | None,
        message,
        position: int | None = None,
    ):
        super().__init__(str(message))
        self.status, self.code, self.field = status, code, field
        self.message, self.position = message, position

    def as_error(self) -> dict:
        error = {"code": self.code, "message": str(self.message)}
        if self.field:
            error["field"] = self.field
        if self.position is not None:
            error["position"] = self.position
        return error


def body(status: int, errors: list[dict], **extra) -> dict:
    description = errors[0].get("message", "") if errors else ""
    if errors and errors[0].get("field"):
        description = f"{errors[0]['field']}: {description}"
    return {
        "code": CODES.get(status, "Error"),
        "description": description,
        "status": status,
        "errors": errors,
        **extra,
    }


def response(status: int, errors: list[dict]) -> JsonResponse:
    """The error outside DRF's views (the 404 of an unknown path under /ogc/)."""
    return JsonResponse(
        body(status, errors), status=status, json_dumps_params={"ensure_ascii": False}
    )


def not_found(field: str = "path") -> OgcError:
    return OgcError(404, "not_found", field, _("Not found."))


def exception_handler(exc, context):
    """The OGC views' DRF exception handler: the API's handler decides status and errors
    (ProblemsError, refusals of grids.limits, DRF's exceptions, lost races), this adds the
    OGC fields; OgcError is answered here."""
    if isinstance(exc, OgcError):
        return Response(body(exc.status, [exc.as_error()]), status=exc.status)
    if isinstance(exc, InputRefused):
        return Response(body(exc.status, [exc.as_error()]), status=exc.status)
    answered = api_errors.exception_handler(exc, context)
    if answered is None:
        return None
    data = answered.data if isinstance(answered.data, dict) else {}
    errors = data.get("errors") or [{"code": "error", "message": str(exc)}]
    extra = {k: v for k, v in data.items() if k not in {"status", "errors"}}
    answered.data = body(answered.status_code, errors, **extra)
    return answered
