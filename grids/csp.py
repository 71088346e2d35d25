"""The Content-Security-Policy (issue #15): scripts only from this site's own files, never
inline (page data travels in `json_script` blocks and data- attributes, which do not run).

One exception, the admin: django-leaflet's map widget writes its set-up as an inline script
and a form widget has no request to take a nonce from, so pages under /admin/ also allow
inline scripts. Only staff reach them, behind a login; every other page keeps the strict
policy. Styles may be inline everywhere: Leaflet and its plug-ins position every tile and
marker with style attributes."""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.urls import reverse


class GridlineCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(reverse("admin:index")):
            parts.replace = (parts.replace or {}) | {"script-src": [SELF, UNSAFE_INLINE]}
        return parts
