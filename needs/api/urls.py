"""/api/needs/ (mounted by config.urls): needs, dispatches, the services list, the kinds, and
the public doors. Numeric ids only (grids.api.routers)."""

from django.urls import path

from grids.api.routers import SimpleRouter
from needs.api import views_dispatches, views_figures, views_needs, views_providers, views_public

# The routers' names are reversed as "needs-api:need-list", … (pages' module names are
# "needs:…").
app_name = "needs-api"

router = SimpleRouter()
router.register("dispatches", views_dispatches.DispatchViewSet, basename="dispatch")
router.register("providers", views_providers.ProviderViewSet, basename="provider")
router.register("offers", views_providers.OfferViewSet, basename="offer")
router.register("kinds", views_providers.KindViewSet, basename="kind")
# Last, with no prefix: the needs themselves at /api/needs/ and /api/needs/{id}/.
router.register("", views_needs.NeedViewSet, basename="need")

urlpatterns = [
    path("public/<str:key>/", views_public.PublicNeedView.as_view(), name="public"),
    path("join/<str:key>/", views_public.JoinView.as_view(), name="join"),
    path("figures/", views_figures.FiguresView.as_view(), name="figures"),
    *router.urls,
]
