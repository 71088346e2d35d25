"""OGC API - Features (issue #19) at /ogc/: no trailing slash except on the landing page."""

from django.urls import path

from ogc.views import items, landing, openapi

app_name = "ogc"

urlpatterns = [
    path("", landing.LandingView.as_view(), name="landing"),
    path("api", openapi.OpenApiView.as_view(), name="openapi"),
    path("conformance", landing.ConformanceView.as_view(), name="conformance"),
    path("collections", landing.CollectionsView.as_view(), name="collections"),
    path("collections/<str:collection_id>", landing.CollectionView.as_view(), name="collection"),
    path(
        "collections/<str:collection_id>/queryables",
        landing.QueryablesView.as_view(),
        name="queryables",
    ),
    path("collections/<str:collection_id>/items", items.ItemsView.as_view(), name="items"),
    path("collections/<str:collection_id>/items/<str:fid>", items.ItemView.as_view(), name="item"),
]
