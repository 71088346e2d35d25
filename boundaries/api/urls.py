from django.urls import include, path

from boundaries.api import views
from grids.api.routers import SimpleRouter

router = SimpleRouter()
router.register("changesets", views.ChangeSetViewSet, basename="changeset")

urlpatterns = [
    path("grids/<str:code>/history/", views.GridHistoryView.as_view(), name="grid-history"),
    path("grids/<str:code>/restore/", views.GridRestoreView.as_view(), name="grid-restore"),
    path("", include(router.urls)),
]
