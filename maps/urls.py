from django.urls import path, re_path

from maps import views

urlpatterns = [
    path("", views.map_page, name="map"),
    path("api/map/search/", views.search, name="map-search"),
    re_path(
        r"^tiles/(?P<layer>[\w-]+)/(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)\.pbf$",
        views.tile,
        name="tile",
    ),
]
