from django.urls import include, path
from rest_framework.routers import SimpleRouter

from boundaries.api import views

router = SimpleRouter()
router.register("changesets", views.ChangeSetViewSet, basename="changeset")

urlpatterns = [
    path("grids/<str:code>/history/", views.GridHistoryView.as_view(), name="grid-history"),
    path("grids/<str:code>/restore/", views.GridRestoreView.as_view(), name="grid-restore"),
    path("", include(router.urls)),
]
