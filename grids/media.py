"""Uploaded files, served by the app with the scope of the record each belongs to.

A photo of an incident is as private as the incident, so no web server may hand out
MEDIA_ROOT as it is. Each app that stores files registers, under the first folder of their
names, a function saying whether a user may see the record a stored name belongs to
(incidents: `incidents/<id>/<uuid>.jpg`). A name nobody registered, a name outside the
caller's scope, a missing file and a name that tries to leave MEDIA_ROOT all answer the same
404, which names nothing.

With a proxy in front (GRIDLINE_MEDIA_ACCEL = nginx or apache), the app still decides and the
proxy sends the bytes (X-Accel-Redirect / X-Sendfile); the default (none) sends them itself.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
from collections.abc import Callable
from stat import S_ISREG
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from rest_framework import exceptions

from grids.auth import request_user

# first folder of a stored name -> may(user, name): does the name belong to a record the
# user may see?
_owners: dict[str, Callable[[object, str], bool]] = {}


def register(folder: str, may_see: Callable[[object, str], bool]) -> None:
    """Called from an app's AppConfig.ready() for the folder its upload_to writes under."""
    _owners[folder] = may_see


def clean_name(name: str) -> str | None:
    """The stored name a URL path asks for, or None when it is not one a storage could have
    written: absolute, `..` or `.` segments, empty segments, backslashes, control chars."""
    if not name or name.startswith("/") or "\\" in name:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return None
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    if posixpath.normpath(name) != name:
        return None
    return name


def _not_authenticated(message: str) -> JsonResponse:
    response = JsonResponse(
        {"status": 401, "errors": [{"code": "not_authenticated", "message": message}]},
        status=401,
    )
    response["WWW-Authenticate"] = "Token"
    return response


@require_safe
def serve(request, name: str):
    try:
        user = request_user(request)
    except exceptions.AuthenticationFailed as exc:
        return _not_authenticated(str(exc.detail))
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    name = clean_name(name)
    if name is None:
        raise Http404
    may_see = _owners.get(name.split("/", 1)[0])
    if may_see is None or not may_see(user, name):
        raise Http404
    try:
        path = default_storage.path(name)
        stat = os.stat(path)
    except (OSError, SuspiciousFileOperation):
        raise Http404 from None
    if not S_ISREG(stat.st_mode):
        raise Http404
    # Stored names are never reused (uuid), so size and modification time make the ETag.
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    last_modified = int(stat.st_mtime)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = _body(name, path)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    # Private: no shared cache keeps it. By default (max-age 0) the browser asks every time
    # (a cheap 304 after the scope check), so on a shared office workstation the next person
    # cannot open a cached photo after logout; a positive max-age trades that for fewer requests.
    max_age = settings.GRIDLINE_MEDIA_MAX_AGE
    response["Cache-Control"] = (
        f"private, max-age={max_age}" if max_age > 0 else "private, no-cache"
    )
    patch_vary_headers(response, ("Cookie", "Authorization"))
    return response


def _body(name: str, path: str) -> HttpResponse:
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    accel = settings.GRIDLINE_MEDIA_ACCEL
    if accel == "nginx":
        response = HttpResponse(content_type=content_type)
        prefix = settings.GRIDLINE_MEDIA_ACCEL_PREFIX.rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{quote(name)}"
        return response
    if accel == "apache":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = path
        return response
    return FileResponse(open(path, "rb"), content_type=content_type)  # noqa: SIM115
