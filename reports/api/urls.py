from django.urls import path

from grids.api.routers import DefaultRouter
from reports.api import views

router = DefaultRouter()
router.register("reports/indicator-groups", views.IndicatorGroupViewSet, basename="indicator-group")
router.register("reports/indicators", views.IndicatorViewSet, basename="indicator")
router.register("reports/rules", views.RuleViewSet, basename="rule")
router.register("reports/templates", views.TemplateViewSet, basename="report-template")
router.register("reports/runs", views.ReportRunViewSet, basename="report-run")
router.register("reports/form-imports", views.FormImportViewSet, basename="form-import")

urlpatterns = [
    path("reports/ledger/", views.LedgerView.as_view(), name="ledger"),
    path("reports/ledger/submit/", views.LedgerSubmitView.as_view(), name="ledger-submit"),
    path("reports/ledger/reopen/", views.LedgerReopenView.as_view(), name="ledger-reopen"),
    path("reports/ledger/history/", views.LedgerHistoryView.as_view(), name="ledger-history"),
    path("reports/completeness/", views.CompletenessView.as_view(), name="completeness"),
    path("reports/burden/", views.BurdenView.as_view(), name="burden"),
    *router.urls,
]
