"""Links of the OGC answers: absolute URLs (desktop clients follow them as given), with the
request's own query where a link is the same resource in another format or the next page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.utils.translation import gettext as _

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
SCHEMA = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def url(request, path: str, query: dict | list | None = None) -> str:
    href = request.build_absolute_uri(path)
    if query:
        href += "?" + urlencode(query, doseq=True)
    return href


def link(href: str, rel: str, media_type: str, title="") -> dict:
    found = {"href": href, "rel": rel, "type": media_type}
    if title:
        found["title"] = str(title)
    return found


def query_without(request, *names: str) -> list[tuple[str, str]]:
    """The request's query parameters, in order, without the named ones."""
    return [
        (key, value)
        for key, values in request.query_params.lists()
        if key not in names
        for value in values
    ]


def self_and_alternate(request, path: str, json_type: str = JSON) -> list[dict]:
    """`self` in the format answered and `alternate` in the other one (JSON or HTML), each
    with the request's other parameters."""
    rest = query_without(request, "f")
    as_json = link(url(request, path, [*rest, ("f", "json")]), "self", json_type, _("as JSON"))
    as_html = link(url(request, path, [*rest, ("f", "html")]), "alternate", HTML, _("as HTML"))
    return [as_json, as_html]


def for_html(links: list[dict]) -> list[dict]:
    """The same links as an HTML page answers them: the HTML one is `self`."""
    swapped = []
    for found in links:
        if found["rel"] == "self":
            found = found | {"rel": "alternate"}
        elif found["rel"] == "alternate" and found["type"] == HTML:
            found = found | {"rel": "self"}
        swapped.append(found)
    return swapped
