"""GET /basemap.pmtiles: the offline base map file, read by the browser in HTTP ranges.

A PMTiles reader asks for the header, then directories and tiles, each a byte range of the
one file, so no tile server is needed. Logged-in users only (the file may hold a licensed
map); one range per request, as the reader asks; 206 with Content-Range, 416 (with the JSON
error naming "Range") for a range outside the file or not understood, 200 with the whole file
when no range is asked. A range is read into memory only up to READ_AT_ONCE (the reader's
header, directories and tiles); a longer one is streamed in chunks, as the whole file is:
`bytes=0-` of a multi-GB base map must not load it into a worker.
"""

from __future__ import annotations

import os
import re

from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_safe

# At most 15 digits (petabytes): int() of thousands of digits is slow, and Python refuses
# more than 4,300 (ValueError).
RANGE = re.compile(r"^bytes=(\d{0,15})-(\d{0,15})$")
READ_AT_ONCE = 1024 * 1024
CHUNK = 64 * 1024


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    error = {"code": code, "message": message} | ({"field": field} if field else {})
    return JsonResponse({"status": status, "errors": [error]}, status=status)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive of a single `bytes=` range, or None when it cannot be met."""
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


def _chunks(path: str, first: int, length: int):
    with open(path, "rb") as f:
        f.seek(first)
        while length > 0:
            data = f.read(min(CHUNK, length))
            if not data:  # the file shrank under us: end short rather than loop
                return
            length -= len(data)
            yield data


@require_safe
def serve(request):
    if not request.user.is_authenticated:
        return _error(401, "not_authenticated", "log in to read the base map")
    path = getattr(settings, "GRIDLINE_BASEMAP_PMTILES", "")
    if settings.GRIDLINE_BASEMAP != "pmtiles" or not path:
        return _error(404, "not_found", "this site's base map is not a PMTiles file")
    try:
        stat = os.stat(path)
    except OSError as exc:
        return _error(404, "not_found", f"the base map file cannot be read: {exc.strerror}")
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(stat.st_mtime),
        # The reader checks the ETag of every range: a replaced file is noticed at once.
        "Cache-Control": "private, no-cache",
        "Content-Type": "application/vnd.pmtiles",
    }
    asked = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if asked and (not if_range or if_range == etag):
        found = byte_range(asked, size)
        if found is None:
            response = _error(
                416, "bad_range", f"one byte range within the file's {size} bytes", "Range"
            )
            response["Content-Range"] = f"bytes */{size}"
            return response
        first, last = found
        length = last - first + 1
        if length <= READ_AT_ONCE:
            with open(path, "rb") as f:
                f.seek(first)
                response = HttpResponse(f.read(length), status=206, headers=headers)
        else:
            response = StreamingHttpResponse(
                _chunks(path, first, length), status=206, headers=headers
            )
            response["Content-Length"] = str(length)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        return response
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers=headers)
    response = FileResponse(open(path, "rb"), headers=headers)  # noqa: SIM115 - closed by Django
    response["Content-Length"] = str(size)
    return response
