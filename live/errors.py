"""The refusals of /events/, as the project's API errors, for both streams."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _


def body(status: int, code: str, message: str, field: str | None) -> bytes:
    return json.dumps(
        {"status": status, "errors": [{"code": code, "message": message, "field": field}]},
        ensure_ascii=False,
    ).encode()


def not_logged_in() -> tuple[int, bytes]:
    return 401, body(401, "not_authenticated", _("log in to receive live events"), None)


def bad_last_id(raw: str) -> tuple[int, bytes]:
    return 400, body(
        400,
        "invalid",
        _("the last event id is a whole number, not %(value)s") % {"value": repr(raw[:40])},
        "Last-Event-ID",
    )


def unavailable() -> tuple[int, bytes]:
    # The words of grids.resilience's 503: the browser's EventSource retries after it.
    return 503, body(
        503,
        "service_unavailable",
        _("The database or the cache is restarting; try again in a few seconds."),
        None,
    )
