from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.cache import cache_page
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import last_modified
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

# No ReDoc page: its template loads Google fonts, which a closed network cannot reach.
# The split Swagger view serves its set-up as a script file: no inline script for the CSP.
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from grids import media as grids_media
from grids import resilience as grids_resilience

STARTED = timezone.now()

# Under /api/ a 404 and Django's refusals of a body are the API's JSON error.
handler404 = "grids.api.errors.handler404"
handler400 = "grids.api.errors.handler400"

# A restart of PostgreSQL or Redis noticed in a middleware is a 503, not a 500.
handler500 = "grids.resilience.server_error"

urlpatterns = [
    path("healthz", grids_resilience.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}gridline/favicon.svg")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Our scripts' words (gettext() in the browser, domain djangojs): one cached script per
    # language, changing only with a deploy (the process start time is its Last-Modified).
    # Compressed: 63 KB of words block every page's first render, on a phone's 3G too.
    path(
        "jsi18n/",
        gzip_page(
            cache_page(3600)(last_modified(lambda request: STARTED)(JavaScriptCatalog.as_view()))
        ),
        name="javascript-catalog",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/boundaries/", include("boundaries.api.urls")),
    path("api/", include("grids.api.urls")),
    path("api/", include("incidents.api.urls")),
    path("api/", include("notifications.api.urls")),
    path("api/", include("reports.api.urls")),
    path("api/sensors/", include("sensors.api.urls")),
    path("api/field/", include("field.api.urls")),
    path("api/needs/", include("needs.api.urls")),
    path("ogc/", include("ogc.urls")),
    path("", include("maps.urls")),
    path("", include("live.urls")),
    path("", include("screen.urls")),
    path("", include("field.urls")),
    path("needs/", include("needs.urls")),
    path("", include("grids.urls")),
    path("", include("incidents.urls")),
    path("", include("reports.urls")),
    path("", include("notifications.urls")),
    path("", include("sensors.urls")),
    path("", include("boundaries.urls")),
]

# Uploads are served by the app with the scope of their record (grids.media), in DEBUG too.
urlpatterns.append(
    path(f"{settings.MEDIA_URL.lstrip('/')}<path:name>", grids_media.serve, name="media")
)
