"""Every API error is a JSON body that names the field and says why:

{"status": 400, "errors": [{"code": "invalid", "field": "bbox", "message": "..."}]}
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from grids.limits import InputRefused, too_large
from grids.problems import ProblemsError

logger = logging.getLogger(__name__)

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


def _unique_violation(exc: IntegrityError) -> bool:
    # SQLSTATE 23505, PostgreSQL's unique_violation (a check or foreign key is not a race).
    return getattr(exc.__cause__, "sqlstate", None) == "23505"


def exception_handler(exc, context):
    refused = exc if isinstance(exc, InputRefused) else refused_by_django(exc)
    if refused is not None:
        return Response({"status": refused.status, "errors": [refused.as_error()]}, refused.status)
    if isinstance(exc, ProblemsError):
        # A refused step of a process may carry its own status (403 not yours, 409 not now).
        code = getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST)
        # A 409 may carry the current state (`extra`), so the client can show what won.
        return Response(
            {"status": code, "errors": [p.as_dict() | {"field": p.field} for p in exc.problems]}
            | getattr(exc, "extra", {}),
            status=code,
        )
    if isinstance(exc, IntegrityError) and _unique_violation(exc):
        # Two writes of one unique row raced past the view's own check: the loser answers
        # 409 (the services that can say more, e.g. the ledger, answer their own 409 first).
        # Logged, in case it is a bug and not a race.
        logger.warning("unique violation answered 409", exc_info=exc)
        set_rollback()
        return Response(
            {
                "status": 409,
                "errors": [
                    {
                        "code": "conflict",
                        "message": _(
                            "someone else wrote the same record at the same time; reload it "
                            "and try again"
                        ),
                    }
                ],
            },
            status=409,
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


# --- errors answered outside DRF's views (URL resolution, middleware, Django's handlers) -------


# Paths machines read: their errors are JSON (vector tiles answer their own errors in JSON;
# OGC API - Features, issue #19, adds its `code` and `description` inside its views).
API_PREFIXES = ("/api/", "/tiles/", "/ogc/")


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIXES)


def error_response(status_code: int, errors: list[dict]) -> JsonResponse:
    return JsonResponse(
        {"status": status_code, "errors": errors},
        status=status_code,
        json_dumps_params={"ensure_ascii": False},
    )


def refusal(request, refused: InputRefused) -> HttpResponse:
    """A request refused before its view (grids.limits): the API's JSON error under /api/,
    a short page in the user's language elsewhere."""
    if is_api(request):
        return error_response(refused.status, [refused.as_error()])
    title = _("The request was refused")
    where = f"{refused.field}: " if refused.field else ""
    return HttpResponse(
        format_html(
            '<!doctype html><html lang="{}"><head><meta charset="utf-8"><title>{}</title>'
            "</head><body><h1>{}</h1><p>{}{}</p></body></html>",
            get_language(),
            title,
            title,
            where,
            refused.message,
        ),
        status=refused.status,
    )


def handler404(request, exception=None):
    """config.urls' handler404: an unknown path under /api/ (or a view's Http404) is the API's
    JSON error; a page gets Django's."""
    if is_api(request):
        return error_response(404, [{"code": "not_found", "message": _("Not found.")}])
    return defaults.page_not_found(request, exception)


def handler400(request, exception=None):
    """config.urls' handler400: what Django refuses outside a view (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE read by the CSRF check, too many fields, a broken multipart
    body) answers like the rest of the API."""
    refused = refused_by_django(exception)
    if refused is not None:
        return refusal(request, refused)
    if is_api(request):
        return error_response(400, [{"code": "bad_request", "message": _("Bad request.")}])
    return defaults.bad_request(request, exception)


def refused_by_django(exception) -> InputRefused | None:
    """Django's own refusals of a request body, as the limits' refusals."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exception, TooManyFieldsSent):
        return InputRefused(400, "too_many_fields", _("the request has too many fields"))
    if isinstance(exception, TooManyFilesSent):
        return InputRefused(400, "too_many_files", _("the request has too many files"))
    return None
