from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from grids.api import views

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("grids", views.GridViewSet, basename="grid")
router.register("households", views.HouseholdViewSet, basename="household")
router.register("residents", views.ResidentViewSet, basename="resident")
router.register("departments", views.DepartmentViewSet, basename="department")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("stats/rollup/", views.RollupView.as_view(), name="api-rollup"),
    path("export/<str:layer>.<str:fmt>", views.ExportView.as_view(), name="api-export"),
    path("", include(router.urls)),
]
