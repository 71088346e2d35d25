"""ETags of the features of editable collections (Part 4 optimistic locking, and 304 on GET).

An ETag is strong: a hash of the collection and the editor's `version(obj)`, which changes on
every write (households and sensors: the row's `updated_at`, plus what changes without a
save). `If-Match` on PUT, PATCH and DELETE is compared with the row locked, inside the
request's transaction (ogc/views/edits.py); a request without `If-Match` is allowed, since
QGIS and GDAL send none. `If-None-Match` on GET answers 304.
"""

from __future__ import annotations

import hashlib

from django.db.models import Model, QuerySet
from django.utils.http import parse_etags

from ogc.registry import Collection


def of(collection: Collection, obj: Model) -> str | None:
    """The quoted strong ETag of one feature, or None when the collection is not editable."""
    if collection.editor is None:
        return None
    digest = hashlib.sha256(f"{collection.id}\n{collection.editor.version(obj)}".encode())
    return f'"{digest.hexdigest()[:32]}"'


def lookup(collection: Collection, queryset: QuerySet, fid: str) -> QuerySet:
    """The rows of `queryset` with feature id `fid` (none when the id cannot be one: a
    non-numeric id of an integer collection is "not found", not an error)."""
    if collection.id_type == "integer":
        if not (fid.isascii() and fid.isdigit()) or len(fid) > 18:
            return queryset.none()
        return queryset.filter(**{collection.id_field: int(fid)})
    return queryset.filter(**{collection.id_field: fid})


def current(collection: Collection, user, fid: str) -> str | None:
    """The ETag of feature `fid` as the user may see it (one query), or None when the
    collection is not editable or the user cannot see such a feature."""
    if collection.editor is None:
        return None
    obj = lookup(collection, collection.queryset(user), fid).first()
    return None if obj is None else of(collection, obj)


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def if_match_passes(header: str | None, etag: str) -> bool:
    """RFC 9110 If-Match: absent or "*" passes (the row exists: the view found it); else one
    of the listed tags must equal the current one by strong comparison (a weak tag never
    does)."""
    if header is None or not header.strip():
        return True
    tags = parse_etags(header)
    if tags == ["*"]:
        return True
    return any(tag == etag for tag in tags if not tag.startswith("W/"))


def not_modified(request, etag: str | None) -> bool:
    """True when a GET's If-None-Match names the current ETag (weak comparison): answer
    304."""
    header = request.headers.get("If-None-Match")
    if etag is None or not header:
        return False
    tags = parse_etags(header)
    return tags == ["*"] or any(_opaque(tag) == etag for tag in tags)
