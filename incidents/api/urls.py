from grids.api.routers import DefaultRouter
from incidents.api import views

router = DefaultRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("incident-categories", views.CategoryViewSet, basename="incident-category")
router.register("whistle-classes", views.WhistleClassViewSet, basename="whistle-class")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("visits", views.VisitViewSet, basename="visit")

urlpatterns = router.urls
