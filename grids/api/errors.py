"""Every API error is a JSON body that names the field and says why:

{"status": 400, "errors": [{"code": "invalid", "field": "bbox", "message": "..."}]}
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from grids.problems import ProblemsError

STATUS_CODES = {
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
}


def _flatten(detail, field: str | None = None) -> list[dict]:
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else None
            errors += _flatten(value, f"{field}.{name}" if field and name else (name or field))
        return errors
    if isinstance(detail, list):
        return [error for item in detail for error in _flatten(item, field)]
    error = {"code": getattr(detail, "code", "invalid"), "message": str(detail)}
    if field:
        error["field"] = field
    return [error]


def exception_handler(exc, context):
    if isinstance(exc, ProblemsError):
        # A refused step of a process may carry its own status (403 not yours, 409 not now).
        code = getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST)
        return Response(
            {"status": code, "errors": [p.as_dict() | {"field": p.field} for p in exc.problems]},
            status=code,
        )
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(detail)
    else:
        code = getattr(detail, "code", None) or STATUS_CODES.get(response.status_code, "error")
        errors = [{"code": code, "message": str(detail)}]
    response.data = {"status": response.status_code, "errors": errors}
    return response
