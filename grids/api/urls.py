from django.urls import include, path

from grids.api import basedata, catalogues, tokens, views
from grids.api.routers import DefaultRouter

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("grids", views.GridViewSet, basename="grid")
router.register("households", views.HouseholdViewSet, basename="household")
router.register("residents", views.ResidentViewSet, basename="resident")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("buildings", basedata.BuildingViewSet, basename="building")
router.register("units", basedata.UnitViewSet, basename="unit")
router.register("addresses", basedata.AddressViewSet, basename="address")
router.register(
    "catalogues/resident-tags", catalogues.ResidentTagKindViewSet, basename="resident-tag-kind"
)
router.register("catalogues/unit-types", catalogues.UnitTypeViewSet, basename="unit-type")

urlpatterns = [
    path("auth/token/", tokens.ObtainTokenView.as_view(), name="api-token"),
    path("auth/tokens/", tokens.TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<int:pk>/", tokens.TokenDetailView.as_view(), name="api-token-detail"),
    path("auth/logout/", tokens.LogoutView.as_view(), name="api-logout"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("stats/rollup/", views.RollupView.as_view(), name="api-rollup"),
    path("export/<str:layer>.<str:fmt>", views.ExportView.as_view(), name="api-export"),
    path("", include(router.urls)),
]
