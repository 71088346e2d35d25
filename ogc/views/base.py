"""What every /ogc/ view shares: authentication (ogc.auth), the OGC error body (ogc.errors),
the format (JSON or HTML, never a 406), finding a collection and one feature of it."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from grids import scoping
from ogc import auth, crs, errors, etags, links, output, params, registry
from ogc.errors import OgcError


class Negotiation(DefaultContentNegotiation):
    """DRF's renderer choice would answer 406 to `Accept: text/html` or
    `application/geo+json`; the views choose the format themselves (params.output_format),
    and DRF's renderer only ever writes the JSON error body."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OgcView(APIView):
    authentication_classes = auth.AUTHENTICATION_CLASSES
    permission_classes = auth.PERMISSION_CLASSES
    renderer_classes = [JSONRenderer]
    content_negotiation_class = Negotiation

    def get_exception_handler(self):
        return errors.exception_handler

    def handle_exception(self, exc):
        """A browser (HTML asked for) is sent to the login page when it brought no
        credentials, as every other page does, instead of a Basic password dialog; its
        errors are pages. Machines keep 401 + WWW-Authenticate and the JSON body."""
        html = params.wants_html(self.request)
        if html and isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        response = super().handle_exception(exc)
        if html and response.status_code >= 400 and isinstance(response.data, dict):
            page = html_response(
                self.request,
                "error.html",
                error_context(self.request, response.data),
                response.status_code,
            )
            for header in ("WWW-Authenticate", "Retry-After", "Allow"):
                if response.has_header(header):
                    page[header] = response[header]
            return page
        return response


def _model_field(model, path: str):
    """The model field an ORM path ends at ("grid__theme"), or None (an annotation)."""
    field = None
    for part in path.split("__"):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model if field.is_relation else None
    return field


# Codes of the jurisdiction tree stay codes on the pages (they are how GIS staff name grids
# and regions, and the item page links them); other catalogues' codes read as their names.
TREE_MODELS = frozenset({"grid", "region"})


def _catalogue_names(model, path: str, features: list[dict], name: str) -> dict[str, str]:
    """The names of the catalogue rows (a sensor type, a department) whose codes a property
    holds on this page: one query for the page."""
    head, _sep, last = path.rpartition("__")
    relation = _model_field(model, head) if head and last == "code" else None
    related = relation.related_model if relation is not None and relation.is_relation else None
    if related is None or related._meta.model_name in TREE_MODELS:
        return {}
    if not any(f.name == "name" for f in related._meta.get_fields()):
        return {}
    codes = {(f.get("properties") or {}).get(name) for f in features} - {None}
    if not codes:
        return {}
    return dict(related._default_manager.filter(code__in=codes).values_list("code", "name"))


def labelled(request, collection, features: list[dict]) -> list[dict]:
    """The features of an HTML page with coded values (a status, a theme) as their labels in
    the reader's language, from the model field's choices, and catalogue codes (a sensor
    type, a department) as their names; JSON keeps the codes."""
    model = collection.queryset(request.user).model
    labels = {}
    for prop in collection.properties:
        if isinstance(prop.source, str):
            field = _model_field(model, prop.source)
            if field is not None and field.choices:
                labels[prop.name] = {key: str(label) for key, label in field.flatchoices}
            elif names := _catalogue_names(model, prop.source, features, prop.name):
                labels[prop.name] = names
    if labels:
        for feature in features:
            values = feature.get("properties") or {}
            for name, by_code in labels.items():
                if values.get(name) in by_code:
                    values[name] = by_code[values[name]]
    return features


def error_context(request, error: dict) -> dict:
    """An error page: the error, a link to the same page without the refused parameter, and a
    refused filter with the place of the error marked."""
    first = (error.get("errors") or [{}])[0]
    field = first.get("field")
    query = links.query_without(request, field or "", "after")
    context = {"error": error, "retry_url": links.url(request, request.path, query)}
    text = request.query_params.get("filter")
    position = first.get("position")
    if field == "filter" and text is not None and isinstance(position, int):
        at = max(0, min(position - 1, len(text)))
        context["filter_before"], context["filter_after"] = text[:at], text[at:]
    return context


def json_response(text: str, media_type: str = links.JSON, status: int = 200) -> HttpResponse:
    # JSON is UTF-8 by definition; a media type with parameters of its own (the OpenAPI's
    # version=3.0) is sent exactly as clients compare it.
    content_type = media_type if ";" in media_type else f"{media_type}; charset=utf-8"
    return HttpResponse(text, content_type=content_type, status=status)


def html_response(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"ogc/{template}", context, status=status)


def collection_or_404(request, collection_id: str) -> registry.Collection:
    """The collection if the caller may see it; otherwise 404, as if it did not exist."""
    found = registry.get(collection_id, request.user)
    if found is None:
        raise OgcError(404, "not_found", "collectionId", _("There is no such collection."))
    return found


# No district: crs.supported() then finds no boundary and offers the geographic CRSs only.
NO_DISTRICT = -1


def crs_district(user) -> int | None:
    """The district whose Gauss-Krüger zones the caller is offered: None (every district's)
    only for those who see everything; a user with no district gets none."""
    if scoping.sees_everything(user):
        return None
    return scoping.user_district(user) or NO_DISTRICT


def offered_crs(request) -> list[str]:
    """The CRS URIs of the caller's district (every collection offers the same)."""
    return crs.supported(crs_district(request.user))


def output_crs(request, name: str = "crs") -> crs.Crs:
    value = params.single(request.query_params, name)
    if value is None:
        return crs.DEFAULT
    return crs.parse(value, name, offered_crs(request))


def feature_path(collection, fid) -> str:
    return reverse("ogc:item", args=[collection.id, fid])


def items_path(collection) -> str:
    return reverse("ogc:items", args=[collection.id])


def collection_path(collection) -> str:
    return reverse("ogc:collection", args=[collection.id])


def lookup(collection, queryset, fid: str):
    """The rows with feature id `fid` (none for an id that cannot be one: 404, not 400)."""
    return etags.lookup(collection, queryset, fid)


def feature_text(request, collection, fid: str, out: crs.Crs) -> str | None:
    """One feature as GET item answers it (with its links), or None when the caller cannot
    see it. One query."""
    rows = lookup(collection, collection.queryset(request.user), fid)
    geometry = crs.geometry_expression(collection.geometry, out)
    found = output.feature_rows(rows[:1], collection, geometry, out.decimals)
    if not found:
        return None
    text, _fid = found[0]
    return output.with_links(text, item_links(request, collection, fid, links.GEOJSON))


def item_links(request, collection, fid, media_type: str) -> list[dict]:
    path = feature_path(collection, fid)
    found = links.self_and_alternate(request, path, media_type)
    found.append(
        links.link(
            links.url(request, collection_path(collection)),
            "collection",
            links.JSON,
            collection.title,
        )
    )
    return found


def item_response(
    request, collection, fid: str, status: int = 200, headers: dict | None = None
) -> HttpResponse:
    """Exactly what GET item answers (GeoJSON in `crs`, Content-Crs, ETag when the
    collection is editable); Part 4 answers its 200/201 with it. 404 when not visible."""
    out = output_crs(request)
    text = feature_text(request, collection, fid, out)
    if text is None:
        raise OgcError(404, "not_found", "featureId", _("There is no such feature."))
    response = json_response(text, links.GEOJSON, status)
    response["Content-Crs"] = crs.content_crs_header(out)
    etag = etags.current(collection, request.user, fid)
    if etag is not None:
        response["ETag"] = etag
    for key, value in (headers or {}).items():
        response[key] = value
    return response
