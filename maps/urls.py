from django.urls import path, re_path

from maps import api, basemap_file, views

urlpatterns = [
    path("", views.map_page, name="map"),
    path("api/map/search/", views.search, name="map-search"),
    path("api/map/style.json", api.style_json, name="map-style"),
    path("api/map/tiles.json", api.tilejson, name="map-tilejson"),
    path("basemap.pmtiles", basemap_file.serve, name="basemap-pmtiles"),
    # The composite tile (signed URL from tiles.json); answered from the cache by
    # maps.fastpath before Django when it can.
    re_path(
        r"^tiles/(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)\.pbf$", api.composite_tile, name="tiles"
    ),
    # One layer's tile (the API's users; the map uses the composite).
    re_path(
        r"^tiles/(?P<layer>[\w-]+)/(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)\.pbf$",
        api.tile,
        name="tile",
    ),
]
