"""The conformance classes /ogc/conformance declares (issue #19: only those that pass).

The core declares Part 1's classes here; the modules that implement the other parts declare
theirs when they are imported (ogc.crs: Part 2, ogc.cql2: Part 3, ogc.views.edits: Part 4),
and the views import them all, so the list is complete before the first request.
"""

from __future__ import annotations

PART1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"

CORE = (
    PART1 + "core",
    PART1 + "oas30",
    PART1 + "html",
    PART1 + "geojson",
)

_declared: list[str] = list(CORE)


def declare(*uris: str) -> None:
    for uri in uris:
        if uri not in _declared:
            _declared.append(uri)


def classes() -> list[str]:
    return list(_declared)
