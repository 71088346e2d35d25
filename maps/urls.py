from django.urls import re_path

from maps import views

urlpatterns = [
    re_path(
        r"^tiles/(?P<layer>[\w-]+)/(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)\.pbf$",
        views.tile,
        name="tile",
    ),
]
