"""The API's routers: DRF's, except that a viewset looked up by its primary key answers only
digits in that place. `/api/reports/form-imports/abc/` is then an unknown path, the API's JSON
404 (grids.api.errors.handler404), and no view ever meets `int("abc")` or a query with a
non-numeric key. Every app routes with these."""

from __future__ import annotations

from rest_framework import routers


class _NumericKeys:
    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_field", "pk") == "pk" and not hasattr(
            viewset, "lookup_value_regex"
        ):
            kwarg = getattr(viewset, "lookup_url_kwarg", None) or "pk"
            return f"(?P<{lookup_prefix}{kwarg}>[0-9]+)"
        return super().get_lookup_regex(viewset, lookup_prefix)


class SimpleRouter(_NumericKeys, routers.SimpleRouter):
    pass


class DefaultRouter(_NumericKeys, routers.DefaultRouter):
    pass
