from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# No ReDoc page: its template loads Google fonts, which a closed network cannot reach.
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}gridline/favicon.svg")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/boundaries/", include("boundaries.api.urls")),
    path("api/", include("grids.api.urls")),
    path("api/", include("incidents.api.urls")),
    path("api/", include("notifications.api.urls")),
    path("api/", include("reports.api.urls")),
    path("api/sensors/", include("sensors.api.urls")),
    path("", include("maps.urls")),
    path("", include("grids.urls")),
    path("", include("incidents.urls")),
    path("", include("reports.urls")),
    path("", include("notifications.urls")),
    path("", include("sensors.urls")),
    path("", include("boundaries.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
