"""Part 4 over HTTP: POST /items creates, PUT /items/<fid> replaces, PATCH updates (JSON
merge patch), DELETE deletes; mixed into A's item views (ogc/views/items.py).

Each write is one transaction: the feature is found in the caller's scoped current state
(another jurisdiction's is 404), its row locked (SELECT ... FOR UPDATE), `If-Match` compared
with its ETag (412 with the current one when stale; absent: allowed, since QGIS and GDAL send
none), the body checked (ogc.edits), the collection's Editor called (the app's services),
and the write put on the audit trail. A refusal writes nothing.

`Allow` (on every answer and to OPTIONS, which newer QGIS asks before it offers editing)
lists the methods the caller's role may use on this collection; a collection without an
editor answers its unsafe methods 405, and grids/regions say where their edits go instead.
"""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from grids import sql as grids_sql
from grids.api.parsers import JSONParser
from grids.problems import ProblemsError
from ogc import conformance, edits, errors, etags, links, registry
from ogc.errors import OgcError
from ogc.views import base, schema

CONFORMANCE = edits.CONFORMANCE
conformance.declare(*CONFORMANCE)

SAFE = ("GET", "HEAD", "OPTIONS")
# Media types a body may have, per method (anything else: 415).
FEATURE_TYPES = ("application/geo+json", "application/json")
PATCH_TYPES = ("application/merge-patch+json", *FEATURE_TYPES)
OPERATIONS = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}


# --- the OpenAPI of the writes (the error statuses every operation has are added by
# grids.api.schema.document_errors; these are Part 4's own) ----------------------------------

ERROR = {"$ref": "#/components/schemas/Error"}
CONTENT_CRS = OpenApiParameter(
    "Content-Crs",
    str,
    OpenApiParameter.HEADER,
    description="the CRS of the body's geometry, e.g. <http://www.opengis.net/def/crs/EPSG/0/4490>"
    " (default CRS84)",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="the ETag the feature was read with: 412 if it has changed since (optional)",
)
FEATURE_BODY = {media: schema.FEATURE for media in FEATURE_TYPES}
PATCH_BODY = {media: {"type": "object"} for media in PATCH_TYPES}
NOT_ALLOWED = OpenApiResponse(ERROR, description="this collection is read-only here")
STALE = OpenApiResponse(ERROR, description="If-Match names an ETag that is no longer current")
WRITTEN = {(200, links.GEOJSON): schema.FEATURE, 405: NOT_ALLOWED}
CREATE_OP = {
    "tags": schema.TAGS,
    "operation_id": "ogc_create",
    "summary": "create a feature (Part 4): 201 with Location; a resent client key 200",
    "parameters": [schema.COLLECTION_ID, CONTENT_CRS, schema.CRS],
    "request": FEATURE_BODY,
    "responses": {**WRITTEN, (201, links.GEOJSON): schema.FEATURE},
}
REPLACE_OP = {
    "tags": schema.TAGS,
    "operation_id": "ogc_replace",
    "summary": "replace a feature (Part 4)",
    "parameters": [schema.COLLECTION_ID, schema.FEATURE_ID, CONTENT_CRS, IF_MATCH, schema.CRS],
    "request": FEATURE_BODY,
    "responses": {**WRITTEN, 412: STALE},
}
UPDATE_OP = {
    **REPLACE_OP,
    "operation_id": "ogc_update",
    "summary": "update a feature with a JSON merge patch (Part 4)",
    "request": PATCH_BODY,
}
DELETE_OP = {
    "tags": schema.TAGS,
    "operation_id": "ogc_delete",
    "summary": "delete a feature (Part 4; a household is kept as removed today)",
    "parameters": [schema.COLLECTION_ID, schema.FEATURE_ID, IF_MATCH],
    "request": None,
    "responses": {204: None, 405: NOT_ALLOWED, 412: STALE},
}
OPTIONS_OP = {"exclude": True}


class GeoJSONParser(JSONParser):
    """A Feature sent as application/geo+json, with the request limits of the API's parser."""

    media_type = "application/geo+json"


class MergePatchParser(JSONParser):
    """RFC 7396 JSON Merge Patch (PATCH), with the same limits."""

    media_type = "application/merge-patch+json"


def allowed(collection: registry.Collection | None, user, item: bool) -> list[str]:
    """The methods the user may use on a collection's items (or one item)."""
    methods = list(SAFE)
    editor = collection.editor if collection is not None else None
    if editor is None or not editor.may(user):
        return methods
    wanted = ("PUT", "PATCH", "DELETE") if item else ("POST",)
    for method in wanted:
        operation = OPERATIONS[method]
        if getattr(editor, operation) is not None and editor.may(user, operation):
            methods.append(method)
    return methods


class _Edits:
    parser_classes = [JSONParser, GeoJSONParser, MergePatchParser]
    item = False
    ogc_collection: registry.Collection | None = None

    @property
    def allowed_methods(self):
        """DRF sets `Allow` from this on every answer: per collection and role."""
        request = getattr(self, "request", None)
        if request is None:
            # No request: the OpenAPI generator asks what the view can do at all.
            return super().allowed_methods
        if self.ogc_collection is None:
            # Not found yet (DRF asks before authenticating, which must not happen here).
            return list(SAFE)
        return allowed(self.ogc_collection, request.user, self.item)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # DRF took `Allow` before the handler found the collection.
        response["Allow"] = ", ".join(self.allowed_methods)
        return response

    @extend_schema(**OPTIONS_OP)
    def options(self, request, collection_id: str, fid: str | None = None):
        self.ogc_collection = base.collection_or_404(request, collection_id)
        collection = self.ogc_collection
        if (
            fid is not None
            and not base.lookup(collection, collection.queryset(request.user), fid).exists()
        ):
            raise errors.not_found("featureId")
        return Response(status=status.HTTP_200_OK)

    def handle_exception(self, exc):
        if isinstance(exc, _NotAllowed):
            return _not_allowed(self.request, exc.collection)
        if isinstance(exc, ProblemsError):
            # The services name the point `location`; here it is the feature's `geometry`.
            exc.problems = [
                dataclasses.replace(p, field="geometry") if p.field == "location" else p
                for p in exc.problems
            ]
        return super().handle_exception(exc)

    # --- the pieces of a write ------------------------------------------------------------

    def _editor(self, request, collection_id: str, method: str) -> registry.Collection:
        collection = base.collection_or_404(request, collection_id)
        self.ogc_collection = collection
        editor = collection.editor
        operation = OPERATIONS[method]
        if editor is None or getattr(editor, operation) is None:
            raise _NotAllowed(collection)
        if not editor.may(request.user, operation):
            raise OgcError(
                403,
                "permission_denied",
                None,
                _("your role may read this collection but not change it"),
            )
        return collection

    def _body(self, request, method: str):
        # Also what keeps another site's page from writing with the Basic credentials a
        # browser remembers: a form can send only urlencoded, multipart or text/plain, and a
        # script's JSON needs a CORS preflight this server never grants.
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        accepted = PATCH_TYPES if method == "PATCH" else FEATURE_TYPES
        if media_type not in accepted:
            raise OgcError(
                415,
                "unsupported_media_type",
                "Content-Type",
                _("send the feature as %(types)s") % {"types": ", ".join(accepted)},
            )
        try:
            return request.data
        except ParseError as error:
            # Not JSON at all: the body as a whole is what is wrong.
            raise OgcError(400, "parse_error", "body", str(error.detail)) from error

    def _locked(self, request, collection: registry.Collection, fid: str):
        """The feature in the caller's scope, its row locked to the end of the transaction;
        404 when the caller cannot see it (or it does not exist now)."""
        scoped = collection.queryset(request.user)
        found = base.lookup(collection, scoped, fid)
        obj = (
            scoped.model._default_manager.select_for_update()
            .filter(pk__in=found.values("pk"))
            .first()
        )
        # Asked again once the row is ours: a writer we waited for may have removed the
        # household or moved it out of the caller's scope, and the locking statement judged
        # the scope on what it saw before the wait.
        if obj is None or not found.filter(pk=obj.pk).exists():
            raise OgcError(404, "not_found", "featureId", _("There is no such feature."))
        return obj

    def _stale(self, current: str) -> Response:
        body = errors.body(
            412,
            [
                {
                    "code": "stale",
                    "field": "If-Match",
                    "message": _(
                        "the feature has changed since you read it; read it again (its "
                        "current ETag is given) and repeat your change"
                    ),
                }
            ],
            etag=current,
        )
        return Response(body, status=status.HTTP_412_PRECONDITION_FAILED, headers={"ETag": current})


class _NotAllowed(Exception):
    """An unsafe method on a collection without that kind of edit: 405, with where its
    edits go instead (grid boundaries: change sets)."""

    def __init__(self, collection: registry.Collection):
        super().__init__(collection.id)
        self.collection = collection


def _not_allowed(request, collection: registry.Collection) -> Response:
    message = str(collection.read_only_note) or _("features of this collection are read-only here")
    extra = {}
    if collection.read_only_link:
        extra["links"] = [
            links.link(
                links.url(request, collection.read_only_link),
                "related",
                "text/html",
                str(collection.read_only_note) or _("where these features are edited"),
            )
        ]
    body = errors.body(405, [{"code": "read_only", "field": "method", "message": message}], **extra)
    return Response(body, status=status.HTTP_405_METHOD_NOT_ALLOWED)


def _fid(collection: registry.Collection, obj) -> str:
    value = obj
    for part in collection.id_field.split("__"):
        value = getattr(value, part)
    return str(value)


# POST /collections/<id>/items: 201 with Location and ETag, the body as GET gives it; a
# resend with the same client key 200 with the feature the first one made. (Comments, not
# docstrings: drf-spectacular would describe A's GET operations with them.)
class ItemsEditsMixin(_Edits):
    @extend_schema(**CREATE_OP)
    def post(self, request, collection_id: str):
        collection = self._editor(request, collection_id, "POST")
        body = self._body(request, "POST")
        crs = edits.content_crs(request)
        with transaction.atomic():
            feature = edits.feature_of(collection, body, crs, mode=edits.CREATE, user=request.user)
            obj = collection.editor.create(request.user, feature)
            resent = bool(getattr(obj, "resent", False))
            if not resent:
                edits.audit(request, collection, obj)
        fid = _fid(collection, obj)
        location = links.url(request, base.feature_path(collection, fid))
        return base.item_response(
            request,
            collection,
            fid,
            status=status.HTTP_200_OK if resent else status.HTTP_201_CREATED,
            headers={"Location": location},
        )


# PUT, PATCH and DELETE /collections/<id>/items/<fid>.
class ItemEditsMixin(_Edits):
    item = True

    @extend_schema(**REPLACE_OP)
    def put(self, request, collection_id: str, fid: str):
        return self._change(request, collection_id, fid, "PUT")

    @extend_schema(**UPDATE_OP)
    def patch(self, request, collection_id: str, fid: str):
        return self._change(request, collection_id, fid, "PATCH")

    @extend_schema(**DELETE_OP)
    def delete(self, request, collection_id: str, fid: str):
        return self._change(request, collection_id, fid, "DELETE")

    def _change(self, request, collection_id: str, fid: str, method: str):
        collection = self._editor(request, collection_id, method)
        operation = OPERATIONS[method]
        body = crs = None
        if method != "DELETE":
            body = self._body(request, method)
            crs = edits.content_crs(request)
        with transaction.atomic():
            if method != "DELETE":
                # Every editable collection keys its features to the grids on write
                # (decision 2) under the shared tree lock. Taken before the row lock, the
                # order a boundary change takes them (the tree, then the rows it re-keys):
                # the row first would deadlock against a re-keying of this feature.
                grids_sql.lock_tree(shared=True)
            obj = self._locked(request, collection, fid)
            current = etags.of(collection, obj)
            if not etags.if_match_passes(request.headers.get("If-Match"), current):
                return self._stale(current)
            if method == "DELETE":
                collection.editor.delete(request.user, obj)
            else:
                feature = edits.feature_of(
                    collection, body, crs, mode=operation, user=request.user, obj=obj, fid=fid
                )
                obj = getattr(collection.editor, operation)(request.user, obj, feature)
            edits.audit(request, collection, obj)
        if method == "DELETE":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return base.item_response(request, collection, fid)
